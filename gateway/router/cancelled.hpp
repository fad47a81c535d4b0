#pragma once

// Asks a coroutine whether it was cancelled: the long-lived loops (an
// adapter's run(), an outbox) end on Asio's cancellation between their waits.

// Boost's Asio coroutine headers need <utility> first under GCC 12.
// clang-format off
#include <utility>
// clang-format on

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/this_coro.hpp>

namespace trestle::gateway {

/// Whether the coroutine that awaits this was cancelled. Once it was, a
/// coroutine that throws on cancellation (Asio's default) throws here
/// instead: a loop that asks turns that off first
/// (`co_await boost::asio::this_coro::throw_if_cancelled(false)`).
inline boost::asio::awaitable<bool> cancelled() {
  const auto state = co_await boost::asio::this_coro::cancellation_state;
  co_return state.cancelled() != boost::asio::cancellation_type::none;
}

} // namespace trestle::gateway
