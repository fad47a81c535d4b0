#pragma once

// Boost 1.74's Asio coroutine headers need <utility> first under GCC 12.
// clang-format off
#include <utility>
// clang-format on

#include "tls_client_context.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <string>
#include <vector>

namespace trestle::xmpp {

/// Where a component link's TLS comes from and what it must prove.
struct StreamTls {
  /// Check the server's certificate chain and name (off: anyone in the path
  /// can read and change the stream).
  bool verify_certificate = true;
  /// PEM file of trusted certificates; empty means the system's CA store.
  std::string ca_file;
  /// The name the certificate must carry; also sent as SNI unless it is an
  /// IP address literal.
  std::string server_name;
};

/// The byte stream under one component link: the TCP socket, or direct TLS
/// over it (TLS from the first byte, then XEP-0114 inside). The reader and
/// the writer use it without knowing which; one read and one write may be in
/// flight at the same time, nothing else. It has no deadlines of its own: the
/// owner bounds every operation by closing lowest(), which ends whatever is
/// in flight with an error. Single-threaded (the io_context's thread).
class ComponentStream {
public:
  explicit ComponentStream(boost::asio::io_context& io);

  /// The TCP socket (inside the TLS stream once TLS started): connect it,
  /// set its options, close it.
  boost::asio::ip::tcp::socket& lowest();
  /// True once start_tls() took over the socket.
  bool encrypted() const { return static_cast<bool>(tls_); }
  /// The negotiated protocol version and cipher ("TLSv1.3, TLS_AES_256_GCM_SHA384"),
  /// for the log; empty on a plain link.
  std::string tls_summary();

  /// Runs the TLS client handshake (TLS 1.2 or newer) on the connected
  /// socket. Returns an empty string on success, else what failed, naming
  /// `peer` and, when the certificate was refused, why.
  boost::asio::awaitable<std::string> start_tls(const StreamTls& settings, const std::string& peer);
  /// Reads what is there (at least one byte) into `buffer`.
  boost::asio::awaitable<std::size_t> read_some(boost::asio::mutable_buffer buffer,
                                                boost::system::error_code& ec);
  /// Writes every piece, in order: one gathered write on a plain socket; on
  /// TLS the pieces are joined first, so small stanzas share TLS records.
  boost::asio::awaitable<void> write(const std::vector<std::string>& pieces,
                                     boost::system::error_code& ec);
  /// Sends the TLS close_notify and waits for the server's (RFC 8446 section
  /// 6.1), so the server knows the stream was not cut off. Nothing to do on
  /// a plain socket. Must not overlap a read or a write.
  boost::asio::awaitable<void> shutdown_tls(boost::system::error_code& ec);
  /// Closes the socket at once; what is in flight ends with an error.
  void close();

private:
  boost::asio::ip::tcp::socket socket_;
  /// Empty on a plain link; then it owns the socket.
  ClientTls tls_;
};

} // namespace trestle::xmpp
