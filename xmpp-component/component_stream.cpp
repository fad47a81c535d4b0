#include "component_stream.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <openssl/ssl.h>

namespace trestle::xmpp {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using boost::system::error_code;

} // namespace

ComponentStream::ComponentStream(asio::io_context& io) : socket_(io) {}

asio::ip::tcp::socket& ComponentStream::lowest() {
  return tls_ ? tls_->next_layer() : socket_;
}

awaitable<std::string> ComponentStream::start_tls(const StreamTls& settings,
                                                  const std::string& peer) {
  std::string problem;
  if (!tls_.start(socket_, settings.verify_certificate, settings.ca_file, settings.server_name,
                  &problem)) {
    co_return "cannot start TLS with " + peer + ": " + problem;
  }
  error_code ec;
  co_await tls_->async_handshake(asio::ssl::stream_base::client,
                                 asio::redirect_error(use_awaitable, ec));
  co_return ec ? tls_.handshake_failure(peer, ec) : std::string();
}

std::string ComponentStream::tls_summary() {
  if (!tls_) {
    return {};
  }
  SSL* ssl = tls_->native_handle();
  return std::string(SSL_get_version(ssl)) + ", " +
         SSL_CIPHER_get_name(SSL_get_current_cipher(ssl));
}

awaitable<std::size_t> ComponentStream::read_some(asio::mutable_buffer buffer, error_code& ec) {
  if (tls_) {
    co_return co_await tls_->async_read_some(buffer, asio::redirect_error(use_awaitable, ec));
  }
  co_return co_await socket_.async_read_some(buffer, asio::redirect_error(use_awaitable, ec));
}

awaitable<void> ComponentStream::write(const std::vector<std::string>& pieces, error_code& ec) {
  if (tls_) {
    // The TLS stream encrypts one buffer per write: a gathered write of many
    // stanzas would cost one record and one system call each.
    if (pieces.size() == 1) {
      co_await asio::async_write(*tls_, asio::buffer(pieces.front()),
                                 asio::redirect_error(use_awaitable, ec));
      co_return;
    }
    std::size_t total = 0;
    for (const auto& piece : pieces) {
      total += piece.size();
    }
    std::string joined;
    joined.reserve(total);
    for (const auto& piece : pieces) {
      joined += piece;
    }
    co_await asio::async_write(*tls_, asio::buffer(joined),
                               asio::redirect_error(use_awaitable, ec));
    co_return;
  }
  std::vector<asio::const_buffer> buffers;
  buffers.reserve(pieces.size());
  for (const auto& piece : pieces) {
    buffers.push_back(asio::buffer(piece));
  }
  co_await asio::async_write(socket_, buffers, asio::redirect_error(use_awaitable, ec));
}

awaitable<void> ComponentStream::shutdown_tls(error_code& ec) {
  if (tls_) {
    co_await tls_->async_shutdown(asio::redirect_error(use_awaitable, ec));
  }
}

void ComponentStream::close() {
  error_code ignored;
  auto& socket = lowest();
  socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

} // namespace trestle::xmpp
