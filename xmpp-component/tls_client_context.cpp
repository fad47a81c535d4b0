#include "tls_client_context.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <optional>
#include <sys/stat.h>
#include <utility>

namespace trestle::xmpp {
namespace {

namespace ssl = boost::asio::ssl;
using Clock = std::chrono::steady_clock;

/// A TLS client context as connections with these settings use it.
struct ClientContext {
  std::shared_ptr<ssl::context> context;
  Clock::time_point loaded;
  /// The CA file's modification time and size when it was loaded.
  std::optional<std::pair<std::int64_t, std::int64_t>> file_stamp;
};

/// Modification time (ns) and size of a file; nullopt when it cannot be read.
std::optional<std::pair<std::int64_t, std::int64_t>> stamp_of(const std::string& path) {
  struct stat info {};
  if (path.empty() || ::stat(path.c_str(), &info) != 0) {
    return std::nullopt;
  }
  return std::make_pair(static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1000000000 +
                            info.st_mtim.tv_nsec,
                        static_cast<std::int64_t>(info.st_size));
}

} // namespace

// The CA file comes from the operator's config only, so the cache has few
// keys; a stat call per connection notices a replaced CA file.
std::shared_ptr<ssl::context> client_tls_context(bool verify, const std::string& ca_file,
                                                 std::string* error) {
  static std::map<std::pair<bool, std::string>, ClientContext> cache;
  constexpr auto reload_after = std::chrono::hours(1);
  constexpr std::size_t max_contexts = 64;
  const auto key = std::make_pair(verify, verify ? ca_file : std::string());
  const auto now = Clock::now();
  const auto stamp = stamp_of(key.second);
  if (const auto found = cache.find(key); found != cache.end() &&
                                          now - found->second.loaded < reload_after &&
                                          found->second.file_stamp == stamp) {
    return found->second.context;
  }
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  if (verify) {
    boost::system::error_code ec;
    context->set_verify_mode(ssl::verify_peer);
    if (ca_file.empty()) {
      context->set_default_verify_paths(ec);
    } else {
      context->load_verify_file(ca_file, ec);
    }
    if (ec) {
      *error = "cannot load the trusted certificates (" + (ca_file.empty() ? "system" : ca_file) +
               "): " + ec.message();
      return nullptr;
    }
  } else {
    context->set_verify_mode(ssl::verify_none);
  }
  if (cache.size() >= max_contexts) {
    cache.clear();
  }
  cache[key] = ClientContext{context, now, stamp};
  return context;
}

bool is_ip_literal(const std::string& name) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(name, ec);
  return !ec;
}

bool ClientTls::start(boost::asio::ip::tcp::socket& socket, bool verify, const std::string& ca_file,
                      const std::string& server_name, std::string* error) {
  if (verify && server_name.empty()) {
    // OpenSSL would check no name at all.
    *error = "no server name to check the certificate against";
    return false;
  }
  auto context = client_tls_context(verify, ca_file, error);
  if (!context) {
    return false;
  }
  context_ = std::move(context);
  stream_.emplace(std::move(socket), *context_);
  server_name_ = server_name;
  SSL* ssl = stream_->native_handle();
  const bool address = is_ip_literal(server_name);
  if (verify) {
    // OpenSSL checks the name as part of the chain (RFC 6125 rules, as
    // Asio's host_name_verification does), so a wrong name is reported as
    // such by SSL_get_verify_result instead of as a bare failure.
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    const int named = address ? X509_VERIFY_PARAM_set1_ip_asc(param, server_name.c_str())
                              : SSL_set1_host(ssl, server_name.c_str());
    if (named != 1) {
      *error = "cannot check certificates for the name " + server_name;
      socket = std::move(stream_->next_layer());
      stream_.reset();
      return false;
    }
  }
  if (!address) {
    SSL_set_tlsext_host_name(ssl, server_name.c_str());
  }
  return true;
}

std::string ClientTls::handshake_failure(const std::string& peer,
                                         const boost::system::error_code& ec) {
  // OpenSSL's own reason, without the library name that Asio adds.
  const char* openssl_reason = ec.category() == boost::asio::error::get_ssl_category()
                                   ? ERR_reason_error_string(static_cast<unsigned long>(ec.value()))
                                   : nullptr;
  std::string reason = "TLS handshake with " + peer +
                       " failed: " + (openssl_reason != nullptr ? openssl_reason : ec.message());
  const long verdict = SSL_get_verify_result(stream_->native_handle());
  if (verdict == X509_V_ERR_HOSTNAME_MISMATCH || verdict == X509_V_ERR_IP_ADDRESS_MISMATCH) {
    reason += std::string(" (certificate: ") + X509_verify_cert_error_string(verdict) +
              ": it is not issued for " + server_name_ + ")";
  } else if (verdict != X509_V_OK) {
    reason += std::string(" (certificate: ") + X509_verify_cert_error_string(verdict) + ")";
  }
  return reason;
}

} // namespace trestle::xmpp
