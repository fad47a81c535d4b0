#pragma once

#include "isupport.hpp"

#include <cstddef>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trestle::irc {

/// One member of a channel as the gateway last saw it.
struct ChannelMember {
  /// The nick as the server spells it.
  std::string nick;
  /// Membership prefixes, highest rank first ("@+").
  std::string prefixes;
  /// Marked away (away-notify or a WHO reply).
  bool away = false;
};

/// A multi-user chat role and affiliation (XEP-0045) for an IRC membership.
struct MucStanding {
  std::string_view role;
  std::string_view affiliation;
};

/// The role and affiliation that a member with `prefixes` gets: by the mode
/// letter of the highest prefix, as biboumi maps them (q and a: owner, o:
/// admin, h: moderator member, v: participant member, none: participant).
MucStanding muc_standing(std::string_view prefixes, const ISupport& isupport);

/// One channel on one server, kept once however many gateway users sit in it,
/// so memory grows with users plus members, not with their product. Every
/// change is idempotent: each gateway user's connection reports the same JOIN
/// or PART, and applying it twice must change nothing. Nicks are keyed by the
/// server's case mapping.
class SharedChannel {
public:
  SharedChannel(std::string name, std::size_t max_members);

  /// The channel name as the server spells it.
  const std::string& name() const { return name_; }
  const std::string& topic() const { return topic_; }
  const std::string& topic_setter() const { return topic_setter_; }
  void set_topic(std::string text, std::string setter);

  /// Adds a member or updates its prefixes; false when the channel is full
  /// (the member cap bounds what a hostile server can make us hold).
  bool add_member(const ISupport& isupport, std::string_view nick, std::string_view prefixes);
  /// Removes a member; false when it was not there.
  bool remove_member(const ISupport& isupport, std::string_view nick);
  /// Renames a member, keeping its prefixes; false when `from` was not there.
  bool rename_member(const ISupport& isupport, std::string_view from, std::string_view to);
  /// Adds or removes one membership prefix ('@', '+'...), keeping rank order.
  bool set_member_prefix(const ISupport& isupport, std::string_view nick, char prefix, bool on);
  /// Marks a member away or back.
  bool set_member_away(const ISupport& isupport, std::string_view nick, bool away);
  /// The member called `nick`, or nullptr.
  const ChannelMember* member(const ISupport& isupport, std::string_view nick) const;
  /// Members keyed by folded nick.
  const std::map<std::string, ChannelMember, std::less<>>& members() const { return members_; }
  /// Drops every member (before a fresh NAMES list, or after a reconnect).
  void clear_members() { members_.clear(); }

  /// Remembers that `nick` left (QUIT) or became `new_nick` (NICK; empty
  /// for a QUIT). Every gateway user's connection reports the same QUIT or
  /// NICK, but only the first finds the member to change; the others ask
  /// departed_recently() or renamed_recently() to know the event concerns
  /// this channel. Bounded: the oldest changes are forgotten.
  void remember_change(const ISupport& isupport, std::string_view nick, std::string_view new_nick);
  /// True when a QUIT of `nick` was remembered.
  bool departed_recently(const ISupport& isupport, std::string_view nick) const;
  /// True when a NICK from `nick` to `new_nick` was remembered.
  bool renamed_recently(const ISupport& isupport, std::string_view nick,
                        std::string_view new_nick) const;
  /// Changes remembered at most.
  static constexpr std::size_t max_recent_changes = 64;

  /// Gateway users (bare JIDs) in the channel.
  const std::set<std::string, std::less<>>& users() const { return users_; }
  /// Adds a gateway user; true when it was not there yet.
  bool add_user(std::string_view user) { return users_.emplace(user).second; }
  /// Removes a gateway user; true when it was there.
  bool remove_user(std::string_view user);

private:
  std::string name_;
  std::size_t max_members_;
  std::string topic_;
  std::string topic_setter_;
  std::map<std::string, ChannelMember, std::less<>> members_;
  std::set<std::string, std::less<>> users_;
  /// Recent QUITs and NICKs as folded (old, new) pairs; new is empty for a QUIT.
  std::deque<std::pair<std::string, std::string>> recent_changes_;
};

/// Every shared channel of the gateway, keyed by server and folded name. A
/// channel exists while at least one gateway user is in it.
class ChannelRegistry {
public:
  /// Members held per channel at most (large channels have some 20,000).
  static constexpr std::size_t default_max_members = 100000;

  explicit ChannelRegistry(std::size_t max_members = default_max_members);

  /// Puts `user` in `channel` on `server`, creating the channel's state when
  /// this is the first gateway user there. `server` is the host name as the
  /// gateway addresses it (lower case).
  SharedChannel& enter(std::string_view server, const ISupport& isupport, std::string_view channel,
                       std::string_view user);
  /// Takes `user` out; the state is dropped with the last gateway user.
  /// Returns true when the user was in the channel.
  bool leave(std::string_view server, const ISupport& isupport, std::string_view channel,
             std::string_view user);
  /// Takes `user` out of every channel on `server` (QUIT, lost connection);
  /// returns the names of the channels the user was in.
  std::vector<std::string> leave_all(std::string_view server, std::string_view user);
  /// The channel's state, or nullptr when no gateway user is in it.
  SharedChannel* find(std::string_view server, const ISupport& isupport, std::string_view channel);
  /// Channels with at least one gateway user.
  std::size_t size() const { return channels_.size(); }

private:
  static std::string key(std::string_view server, const ISupport& isupport,
                         std::string_view channel);

  std::size_t max_members_;
  std::map<std::string, SharedChannel, std::less<>> channels_;
};

} // namespace trestle::irc
