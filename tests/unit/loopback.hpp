#pragma once

// Test support: fake servers and clients on the loopback interface.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdint>
#include <utility>

namespace trestle::test {

/// 127.0.0.1 at `port`; port 0 binds an ephemeral port.
inline boost::asio::ip::tcp::endpoint loopback(std::uint16_t port = 0) {
  return {boost::asio::ip::address_v4::loopback(), port};
}

/// A port on 127.0.0.1 where nothing listens (bound once, then released).
inline std::uint16_t closed_port(boost::asio::io_context& io) {
  boost::asio::ip::tcp::acceptor acceptor(io, loopback());
  return acceptor.local_endpoint().port();
}

/// Accepts connections on `acceptor` until it is closed (or destroyed),
/// handing each new socket to `serve`.
template <typename Serve>
boost::asio::awaitable<void> accept_each(boost::asio::ip::tcp::acceptor& acceptor, Serve serve) {
  for (;;) {
    boost::system::error_code ec;
    auto socket =
        co_await acceptor.async_accept(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    if (ec) {
      co_return;
    }
    serve(std::move(socket));
  }
}

} // namespace trestle::test
