#pragma once

// Test support: runs an io_context until a condition holds, with a hard upper
// bound so that a hang fails the test instead of blocking it.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <utility>

namespace trestle::test {

/// Every test's hard upper bound.
inline constexpr std::chrono::milliseconds hard_limit{5000};

/// Runs `io` until `done()` holds (checked after every handler) or `limit`
/// passes; returns whether `done()` holds.
template <typename Pred>
bool run_until(boost::asio::io_context& io, Pred&& done,
               std::chrono::milliseconds limit = hard_limit) {
  io.restart();
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    io.run_one_until(deadline);
    if (io.stopped()) {
      return done();
    }
  }
  return true;
}

} // namespace trestle::test
