#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/system/error_code.hpp>
#include <memory>
#include <optional>
#include <string>

namespace trestle::xmpp {

/// The TLS client context (TLS 1.2 or newer) for a verification setting and
/// CA file, shared by every connection that uses them: loading the trust
/// store costs time and memory, and a context may serve many connections on
/// one thread. A context is reloaded when its CA file changed or after an
/// hour (the system store); connections keep the one they started with.
/// Returns null with the reason in `error` when the trusted certificates
/// cannot be loaded. Single-threaded (the io_context's thread).
std::shared_ptr<boost::asio::ssl::context>
client_tls_context(bool verify, const std::string& ca_file, std::string* error);

/// Whether `name` is an IP address literal (no SNI is sent for those).
bool is_ip_literal(const std::string& name);

/// A client connection's TLS layer: empty until start(), then the TLS stream
/// that took over the connection's socket. Used like a
/// std::optional<ssl::stream<tcp::socket>>.
class ClientTls {
public:
  using Stream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;

  /// Moves `socket` into a TLS stream over the shared context for `verify`
  /// and `ca_file` (see client_tls_context), ready for the handshake with
  /// `server_name`: with `verify` the certificate must name it, and it goes
  /// out as SNI unless it is an IP address literal (RFC 6066 section 3).
  /// False with the reason in `error` when the trusted certificates cannot
  /// be loaded; `socket` is left as it was then.
  bool start(boost::asio::ip::tcp::socket& socket, bool verify, const std::string& ca_file,
             const std::string& server_name, std::string* error);

  /// "TLS handshake with <peer> failed: <error>", and why the certificate
  /// was refused when verification failed ("(certificate: ...)", naming
  /// the expected server name when the certificate is for another).
  std::string handshake_failure(const std::string& peer, const boost::system::error_code& ec);

  explicit operator bool() const { return stream_.has_value(); }
  Stream& operator*() { return *stream_; }
  Stream* operator->() { return &*stream_; }

private:
  /// Declared before the stream that uses it, so it outlives it.
  std::shared_ptr<boost::asio::ssl::context> context_;
  std::optional<Stream> stream_;
  /// The name the certificate must carry, for handshake_failure().
  std::string server_name_;
};

} // namespace trestle::xmpp
