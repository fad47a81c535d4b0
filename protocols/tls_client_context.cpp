#include "tls_client_context.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <optional>
#include <sys/stat.h>
#include <utility>

namespace trestle::protocols {
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
  auto context = client_tls_context(verify, ca_file, error);
  if (!context) {
    return false;
  }
  context_ = std::move(context);
  stream_.emplace(std::move(socket), *context_);
  if (verify) {
    stream_->set_verify_callback(ssl::host_name_verification(server_name));
  }
  if (!is_ip_literal(server_name)) {
    SSL_set_tlsext_host_name(stream_->native_handle(), server_name.c_str());
  }
  return true;
}

std::string ClientTls::handshake_failure(const std::string& peer,
                                         const boost::system::error_code& ec) {
  std::string reason = "TLS handshake with " + peer + " failed: " + ec.message();
  const long verdict = SSL_get_verify_result(stream_->native_handle());
  if (verdict != X509_V_OK) {
    reason += std::string(" (certificate: ") + X509_verify_cert_error_string(verdict) + ")";
  }
  return reason;
}

} // namespace trestle::protocols
