#include "user_lanes.hpp"

#include "log.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>

namespace trestle::gateway {

UserLanes::UserLanes(boost::asio::io_context& io, Handler handler, Logger& log, std::string area,
                     std::size_t per_user)
    : io_(io), handler_(std::move(handler)), log_(log), area_(std::move(area)),
      per_user_(per_user) {}

UserLanes::~UserLanes() = default;

bool UserLanes::post(const std::string& user, UserEvent event) {
  auto [lane, created] = lanes_.try_emplace(user);
  if (lane->second.size() >= per_user_) {
    return false;
  }
  lane->second.push_back(std::move(event));
  ++waiting_;
  if (created) {
    boost::asio::co_spawn(io_, drain(user), boost::asio::detached);
  }
  return true;
}

Awaitable<void> UserLanes::drain(std::string user) {
  for (;;) {
    const auto lane = lanes_.find(user);
    if (lane == lanes_.end()) {
      co_return;
    }
    if (lane->second.empty()) {
      lanes_.erase(lane);
      co_return;
    }
    // Kept in this frame while it runs: the queue may grow meanwhile.
    const UserEvent event = std::move(lane->second.front());
    lane->second.pop_front();
    try {
      co_await handler_(event);
    } catch (const std::exception& error) {
      log_.error(area_, "an event from " + user + " failed: " + error.what());
    }
    --waiting_;
  }
}

} // namespace trestle::gateway
