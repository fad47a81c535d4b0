#pragma once

#include "element.hpp"

#include <chrono>
#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

namespace trestle::gateway {

/// Rate limits the gateway's notices about what did not cross the border:
/// each (user, contact, topic) hears about it once per `interval`, not once
/// per message. Bounded: the oldest record goes when `capacity` are held
/// (its notice may then come again early). Single-threaded.
class BorderNotices {
public:
  using Clock = std::chrono::steady_clock;

  explicit BorderNotices(Clock::duration interval = std::chrono::hours(24),
                         std::size_t capacity = 4096);

  /// Whether a notice on `topic` may go to `user` (a bare JID) about
  /// `contact` (a bare JID) at `now`; when it may, it is recorded as sent.
  bool allow(std::string_view user, std::string_view contact, std::string_view topic,
             Clock::time_point now);

  std::size_t size() const { return sent_.size(); }

private:
  Clock::duration interval_;
  std::size_t capacity_;
  std::unordered_map<std::string, Clock::time_point> sent_;
  /// Keys, oldest first.
  std::deque<std::string> order_;
};

/// The notice `text` to the sender of `message`, from where it was sent to:
/// a chat message from the contact, or a groupchat message from the room's
/// bare JID (shown as a room notice), its body marked "[gateway] ".
xmpp::Element make_border_notice(const xmpp::Element& message, std::string_view text);

} // namespace trestle::gateway
