#pragma once

// Boost 1.74's Asio coroutine headers need <utility> first under GCC 12.
// clang-format off
#include <utility>
// clang-format on

#include "repositories.hpp"
#include "user_events.hpp"

#include <cstddef>
#include <deque>
#include <functional>
#include <string>
#include <unordered_map>

namespace boost::asio {
class io_context;
}

namespace trestle::gateway {

class Logger;

/// Runs a component's user events through its adapter, one user's events
/// after another in the order they came (a message that waits for the store
/// is never overtaken by the next one of the same user), different users'
/// side by side. Each user's queue is bounded. Used on the loop's thread.
class UserLanes {
public:
  using Handler = std::function<Awaitable<void>(const UserEvent&)>;

  /// `handler` handles one event; `per_user` bounds each user's queue.
  UserLanes(boost::asio::io_context& io, Handler handler, Logger& log, std::string area,
            std::size_t per_user = 256);
  ~UserLanes();
  UserLanes(const UserLanes&) = delete;
  UserLanes& operator=(const UserLanes&) = delete;

  /// Queues `event` behind the events of `user` (a bare JID) and runs it in
  /// turn. False when the user has `per_user` events waiting already: the
  /// caller refuses it.
  bool post(const std::string& user, UserEvent event);
  /// Events queued or running now, all users together.
  std::size_t waiting() const { return waiting_; }

private:
  Awaitable<void> drain(std::string user);

  boost::asio::io_context& io_;
  Handler handler_;
  Logger& log_;
  std::string area_;
  std::size_t per_user_;
  std::size_t waiting_ = 0;
  std::unordered_map<std::string, std::deque<UserEvent>> lanes_;
};

} // namespace trestle::gateway
