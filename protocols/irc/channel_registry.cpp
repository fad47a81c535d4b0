#include "channel_registry.hpp"

#include <algorithm>
#include <iterator>
#include <utility>

namespace trestle::irc {

MucStanding muc_standing(std::string_view prefixes, const ISupport& isupport) {
  // Prefixes come highest rank first, so the first one decides.
  const auto membership =
      prefixes.empty() ? std::nullopt : isupport.membership_by_prefix(prefixes.front());
  const char mode = membership ? membership->first : '\0';
  switch (mode) {
  case 'q':
  case 'a':
    return {"moderator", "owner"};
  case 'o':
    return {"moderator", "admin"};
  case 'h':
    return {"moderator", "member"};
  case 'v':
    return {"participant", "member"};
  default:
    return {"participant", "none"};
  }
}

SharedChannel::SharedChannel(std::string name, std::size_t max_members)
    : name_(std::move(name)), max_members_(max_members) {}

void SharedChannel::set_topic(std::string text, std::string setter) {
  topic_ = std::move(text);
  topic_setter_ = std::move(setter);
}

bool SharedChannel::add_member(const ISupport& isupport, std::string_view nick,
                               std::string_view prefixes) {
  auto folded = isupport.fold(nick);
  const auto found = members_.find(folded);
  if (found != members_.end()) {
    found->second.nick = std::string(nick);
    found->second.prefixes = std::string(prefixes);
    return true;
  }
  if (members_.size() >= max_members_) {
    return false;
  }
  members_.emplace(std::move(folded),
                   ChannelMember{std::string(nick), std::string(prefixes), false});
  return true;
}

bool SharedChannel::remove_member(const ISupport& isupport, std::string_view nick) {
  const auto found = members_.find(isupport.fold(nick));
  if (found == members_.end()) {
    return false;
  }
  members_.erase(found);
  return true;
}

bool SharedChannel::rename_member(const ISupport& isupport, std::string_view from,
                                  std::string_view to) {
  auto node = members_.extract(isupport.fold(from));
  if (node.empty()) {
    return false;
  }
  node.key() = isupport.fold(to);
  node.mapped().nick = std::string(to);
  // A stale entry under the new name (a missed QUIT) gives way to the renamed one.
  members_.erase(node.key());
  members_.insert(std::move(node));
  return true;
}

bool SharedChannel::set_member_prefix(const ISupport& isupport, std::string_view nick, char prefix,
                                      bool on) {
  const auto found = members_.find(isupport.fold(nick));
  if (found == members_.end()) {
    return false;
  }
  std::string& have = found->second.prefixes;
  const auto at = have.find(prefix);
  if (!on) {
    if (at != std::string::npos) {
      have.erase(at, 1);
    }
    return true;
  }
  if (at != std::string::npos) {
    return true;
  }
  // Rebuild in the server's rank order; unknown prefixes keep their place at the end.
  std::string ordered;
  for (const char symbol : isupport.prefix_symbols()) {
    if (symbol == prefix || have.find(symbol) != std::string::npos) {
      ordered.push_back(symbol);
    }
  }
  for (const char symbol : have) {
    if (isupport.prefix_symbols().find(symbol) == std::string::npos) {
      ordered.push_back(symbol);
    }
  }
  if (isupport.prefix_symbols().find(prefix) == std::string::npos) {
    ordered.push_back(prefix);
  }
  have = std::move(ordered);
  return true;
}

bool SharedChannel::set_member_away(const ISupport& isupport, std::string_view nick, bool away) {
  const auto found = members_.find(isupport.fold(nick));
  if (found == members_.end()) {
    return false;
  }
  found->second.away = away;
  return true;
}

const ChannelMember* SharedChannel::member(const ISupport& isupport, std::string_view nick) const {
  const auto found = members_.find(isupport.fold(nick));
  return found == members_.end() ? nullptr : &found->second;
}

bool SharedChannel::remove_user(std::string_view user) {
  const auto found = users_.find(user);
  if (found == users_.end()) {
    return false;
  }
  users_.erase(found);
  return true;
}

ChannelRegistry::ChannelRegistry(std::size_t max_members) : max_members_(max_members) {}

std::string ChannelRegistry::key(std::string_view server, const ISupport& isupport,
                                 std::string_view channel) {
  // NUL separates: neither a host name nor an IRC channel name holds one.
  std::string key(server);
  key.push_back('\0');
  key += isupport.fold(channel);
  return key;
}

SharedChannel& ChannelRegistry::enter(std::string_view server, const ISupport& isupport,
                                      std::string_view channel, std::string_view user) {
  auto [where, created] =
      channels_.try_emplace(key(server, isupport, channel), std::string(channel), max_members_);
  where->second.add_user(user);
  return where->second;
}

bool ChannelRegistry::leave(std::string_view server, const ISupport& isupport,
                            std::string_view channel, std::string_view user) {
  const auto found = channels_.find(key(server, isupport, channel));
  if (found == channels_.end() || !found->second.remove_user(user)) {
    return false;
  }
  if (found->second.users().empty()) {
    channels_.erase(found);
  }
  return true;
}

std::vector<std::string> ChannelRegistry::leave_all(std::string_view server,
                                                    std::string_view user) {
  std::vector<std::string> left;
  std::string prefix(server);
  prefix.push_back('\0');
  auto it = channels_.lower_bound(prefix);
  while (it != channels_.end() && it->first.compare(0, prefix.size(), prefix) == 0) {
    if (it->second.remove_user(user)) {
      left.push_back(it->second.name());
    }
    it = it->second.users().empty() ? channels_.erase(it) : std::next(it);
  }
  return left;
}

SharedChannel* ChannelRegistry::find(std::string_view server, const ISupport& isupport,
                                     std::string_view channel) {
  const auto found = channels_.find(key(server, isupport, channel));
  return found == channels_.end() ? nullptr : &found->second;
}

void SharedChannel::remember_change(const ISupport& isupport, std::string_view nick,
                                    std::string_view new_nick) {
  if (recent_changes_.size() >= max_recent_changes) {
    recent_changes_.pop_front();
  }
  recent_changes_.emplace_back(isupport.fold(nick),
                               new_nick.empty() ? std::string() : isupport.fold(new_nick));
}

bool SharedChannel::departed_recently(const ISupport& isupport, std::string_view nick) const {
  const auto folded = isupport.fold(nick);
  return std::any_of(recent_changes_.begin(), recent_changes_.end(), [&](const auto& change) {
    return change.first == folded && change.second.empty();
  });
}

bool SharedChannel::renamed_recently(const ISupport& isupport, std::string_view nick,
                                     std::string_view new_nick) const {
  const auto from = isupport.fold(nick);
  const auto to = isupport.fold(new_nick);
  return std::any_of(recent_changes_.begin(), recent_changes_.end(), [&](const auto& change) {
    return change.first == from && change.second == to;
  });
}

} // namespace trestle::irc
