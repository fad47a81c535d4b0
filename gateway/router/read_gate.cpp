// Boost 1.74's Asio coroutine headers need <utility> first under GCC 12.
// clang-format off
#include <utility>
// clang-format on

#include "read_gate.hpp"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <vector>

namespace trestle::gateway {

namespace asio = boost::asio;

struct ReadGate::State {
  explicit State(asio::io_context& io_context) : io(io_context) {}

  asio::io_context& io;
  bool open = true;
  std::uint64_t closings = 0;
  /// The timers of the readers waiting now; opening cancels them all.
  std::vector<asio::steady_timer*> waiting;
};

ReadGate::ReadGate(asio::io_context& io) : state_(std::make_shared<State>(io)) {}

ReadGate::~ReadGate() {
  open(); // nobody is left waiting for a gate that no longer exists
}

void ReadGate::close() {
  if (state_->open) {
    state_->open = false;
    ++state_->closings;
  }
}

void ReadGate::open() {
  state_->open = true;
  for (auto* timer : state_->waiting) {
    timer->cancel();
  }
}

bool ReadGate::is_open() const {
  return state_->open;
}

std::uint64_t ReadGate::closings() const {
  return state_->closings;
}

asio::awaitable<bool> ReadGate::wait_open(std::chrono::milliseconds limit) {
  const auto state = state_; // the gate may go away while this waits
  if (state->open) {
    co_return true;
  }
  asio::steady_timer timer(state->io);
  timer.expires_after(limit);
  state->waiting.push_back(&timer);
  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  std::erase(state->waiting, &timer);
  co_return state->open;
}

} // namespace trestle::gateway
