#include "twilio_signature.hpp"

#include "base64.hpp"

#include <algorithm>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <tuple>

namespace trestle::sms {

std::string twilio_signature(std::string_view auth_token, std::string_view url,
                             std::vector<FormField> params) {
  std::sort(params.begin(), params.end(), [](const FormField& a, const FormField& b) {
    return std::tie(a.name, a.value) < std::tie(b.name, b.value);
  });
  std::string data(url);
  for (const auto& param : params) {
    data += param.name;
    data += param.value;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha1(), auth_token.data(), static_cast<int>(auth_token.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &length);
  return protocols::base64_encode(std::string_view(reinterpret_cast<const char*>(digest), length));
}

bool twilio_signature_matches(std::string_view auth_token, std::string_view url,
                              const std::vector<FormField>& params, std::string_view header) {
  const std::string expected = twilio_signature(auth_token, url, params);
  return header.size() == expected.size() &&
         CRYPTO_memcmp(header.data(), expected.data(), expected.size()) == 0;
}

} // namespace trestle::sms
