#pragma once

#include "jid.hpp"

#include <chrono>
#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace trestle::gateway {

/// Which XMPP users are using the gateway: available resources (from
/// presence) and the time of each user's last stanza. Bounded: beyond
/// `max_users` the least recently seen users are forgotten.
class ActivityTracker {
public:
  using Clock = std::chrono::steady_clock;

  explicit ActivityTracker(std::size_t max_users = 100000) : max_users_(max_users) {}

  /// Records a stanza from `user` (full JID) to `component`.
  void touch(const xmpp::Jid& user, const std::string& component, Clock::time_point now);
  /// Records available or unavailable presence of `user` (full JID) towards `component`.
  void presence(const xmpp::Jid& user, const std::string& component, bool available,
                Clock::time_point now);
  /// Forgets a user everywhere (admin disconnect); returns whether they were known.
  bool forget(const xmpp::Jid& user);
  /// Bare JIDs with an available resource or a stanza within `window`, sorted.
  std::vector<std::string> active(Clock::duration window, Clock::time_point now) const;
  /// Components the user (bare JID) has touched.
  std::set<std::string> components_of(const xmpp::Jid& user) const;
  /// Number of users currently tracked.
  std::size_t size() const { return users_.size(); }

private:
  struct Entry {
    Clock::time_point last_seen;
    std::set<std::string> resources;
    std::set<std::string> components;
  };
  void evict();

  std::size_t max_users_;
  std::map<std::string, Entry> users_;
};

} // namespace trestle::gateway
