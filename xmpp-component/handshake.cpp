#include "handshake.hpp"

#include <array>
#include <openssl/evp.h>
#include <stdexcept>

namespace trestle::xmpp {

std::string handshake_digest(std::string_view stream_id, std::string_view secret) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_sha1(), nullptr) == 1 &&
                  EVP_DigestUpdate(ctx, stream_id.data(), stream_id.size()) == 1 &&
                  EVP_DigestUpdate(ctx, secret.data(), secret.size()) == 1 &&
                  EVP_DigestFinal_ex(ctx, digest.data(), &length) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) {
    // Only reachable when OpenSSL itself is broken (no SHA-1 provider): a bug
    // in the installation, not an input error.
    throw std::runtime_error("OpenSSL cannot compute SHA-1");
  }
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 0xf];
  }
  return out;
}

} // namespace trestle::xmpp
