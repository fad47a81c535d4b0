#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>

namespace boost::asio {
class io_context;
}

namespace trestle::gateway {

/// Back-pressure from the XMPP side to the legacy networks. While a
/// component's stream to the XMPP server has too much waiting to be sent, its
/// gate is closed and the adapter's readers (IRC connections, listeners)
/// stop taking more input; the legacy server then holds it, instead of the
/// gateway buffering it or dropping it. Opening wakes every waiting reader.
/// Single-threaded: all calls on the io_context's thread. Copies of the
/// shared_ptr keep the gate alive for readers that are still waiting.
class ReadGate {
public:
  explicit ReadGate(boost::asio::io_context& io);
  ~ReadGate();
  ReadGate(const ReadGate&) = delete;
  ReadGate& operator=(const ReadGate&) = delete;

  /// Readers wait before their next read.
  void close();
  /// Readers go on; every waiting one is woken.
  void open();
  bool is_open() const;
  /// How often the gate was closed (for metrics).
  std::uint64_t closings() const;

  /// Returns at once when the gate is open, else when it opens or `limit`
  /// passed, whichever comes first. True when the gate is open. The limit
  /// keeps a reader from starving its own connection's keepalive when the
  /// XMPP side stays stuck.
  boost::asio::awaitable<bool> wait_open(std::chrono::milliseconds limit);

private:
  struct State;
  std::shared_ptr<State> state_;
};

} // namespace trestle::gateway
