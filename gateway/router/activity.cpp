#include "activity.hpp"

#include <algorithm>

namespace trestle::gateway {

void ActivityTracker::touch(const xmpp::Jid& user, const std::string& component,
                            Clock::time_point now) {
  auto& entry = users_[user.bare_string()];
  entry.last_seen = now;
  entry.components.insert(component);
  evict();
}

void ActivityTracker::presence(const xmpp::Jid& user, const std::string& component, bool available,
                               Clock::time_point now) {
  auto& entry = users_[user.bare_string()];
  entry.last_seen = now;
  entry.components.insert(component);
  // The resource set is keyed by component too: a resource can be online
  // towards one gateway domain and not another.
  const auto key = component + "/" + user.resource();
  if (available) {
    entry.resources.insert(key);
  } else {
    entry.resources.erase(key);
  }
  evict();
}

bool ActivityTracker::forget(const xmpp::Jid& user) {
  return users_.erase(user.bare_string()) > 0;
}

std::vector<std::string> ActivityTracker::active(Clock::duration window,
                                                 Clock::time_point now) const {
  std::vector<std::string> out;
  for (const auto& [jid, entry] : users_) {
    if (!entry.resources.empty() || now - entry.last_seen <= window) {
      out.push_back(jid);
    }
  }
  return out;
}

std::set<std::string> ActivityTracker::components_of(const xmpp::Jid& user) const {
  const auto found = users_.find(user.bare_string());
  return found == users_.end() ? std::set<std::string>{} : found->second.components;
}

void ActivityTracker::evict() {
  while (users_.size() > max_users_) {
    auto oldest = std::min_element(users_.begin(), users_.end(), [](const auto& a, const auto& b) {
      return a.second.last_seen < b.second.last_seen;
    });
    users_.erase(oldest);
  }
}

} // namespace trestle::gateway
