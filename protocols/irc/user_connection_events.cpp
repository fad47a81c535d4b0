// One XMPP user's connection to one IRC server: the IRC -> XMPP direction.
// Channel state (members, topic) lives once in the shared ChannelRegistry;
// every gateway user's connection applies the same IRC events to it, which
// is idempotent, and delivers them to its own user's resources.

#include "adapter.hpp"
#include "log.hpp"
#include "random_hex.hpp"
#include "server_time.hpp"
#include "user_connection.hpp"

#include <algorithm>
#include <charconv>

namespace trestle::irc {

namespace {

using xmpp::Condition;
using Kind = ClientEvent::Kind;

/// MOTD text collected at most; the rest is dropped.
constexpr std::size_t max_motd_bytes = 16 * 1024;

/// Numerics that only describe the registration or a join in progress; they
/// are logged, not shown (biboumi shows them all, which buries what matters).
bool quiet_numeric(std::string_view numeric) {
  static constexpr std::string_view quiet[] = {"002", "003", "004", "042", "250", "251",
                                               "252", "253", "254", "255", "265", "266",
                                               "329", "333", "396", "324"};
  return std::find(std::begin(quiet), std::end(quiet), numeric) != std::end(quiet);
}

/// The XMPP error for a numeric refusing a JOIN, or nullopt for other numerics.
std::optional<Condition> join_refusal(std::string_view numeric) {
  if (numeric == "403" || numeric == "476") {
    return Condition::item_not_found; // no such channel, bad channel mask
  }
  if (numeric == "405") {
    return Condition::policy_violation; // too many channels
  }
  if (numeric == "471") {
    return Condition::service_unavailable; // full
  }
  if (numeric == "473" || numeric == "477") {
    return Condition::registration_required; // invite only, registered nicks only
  }
  if (numeric == "474") {
    return Condition::forbidden; // banned
  }
  if (numeric == "475") {
    return Condition::not_authorized; // bad key
  }
  return std::nullopt;
}

/// How many parameters a channel mode letter takes, by CHANMODES (types A
/// and B always, C when set, D never).
bool mode_takes_param(const ISupport& isupport, char mode, bool adding) {
  const auto chanmodes = isupport.value("CHANMODES").value_or("beI,k,l,imnpst");
  std::size_t type = 0;
  for (const char c : chanmodes) {
    if (c == ',') {
      ++type;
    } else if (c == mode) {
      return type < 2 || (type == 2 && adding);
    }
  }
  return false;
}

} // namespace

void UserConnection::on_state(IrcLinkState state, const std::string& reason) {
  if (finishing_ || state != IrcLinkState::reconnecting) {
    return;
  }
  if (!ever_registered_) {
    on_connection_failed(reason);
  } else {
    on_connection_lost(reason);
  }
}

void UserConnection::on_connection_failed(const std::string& reason) {
  const auto condition = link_->last_close_kind() == CloseKind::timeout
                             ? Condition::remote_server_timeout
                             : Condition::remote_server_not_found;
  const std::string text = "cannot connect to " + server_ + ": " + reason;
  const auto error = xmpp::make_stanza_error(condition, text);
  for (auto& [key, room] : rooms_) {
    refuse_pending_joins(room, error);
  }
  fail_pending(condition, text);
  rooms_.clear();
  finish("");
}

void UserConnection::on_connection_lost(const std::string& reason) {
  for (auto& [key, room] : rooms_) {
    if (room.state != Room::State::joined) {
      continue;
    }
    room.state = Room::State::rejoining;
    send_room_notice(room, "The connection to " + server_ + " was lost (" + reason +
                               "); trestle is reconnecting and will rejoin " + room.name + ".");
  }
  echoes_.clear();
  pending_nick_.reset();
  if (pending_list_) {
    refuse(pending_list_->request, Condition::remote_server_timeout,
           "the connection to " + server_ + " was lost");
    pending_list_.reset();
  }
}

void UserConnection::on_event(const ClientEvent& event) {
  if (finishing_) {
    return;
  }
  switch (event.kind) {
  case Kind::registered:
    on_registered();
    break;
  case Kind::isupport:
    refold_rooms();
    break;
  case Kind::sasl_failed:
    send_server_message("SASL authentication failed" +
                        (event.text.empty() ? std::string() : ": " + event.text));
    break;
  case Kind::nick_rejected:
    on_nick_failed(event, true);
    break;
  case Kind::nick_change_failed:
    on_nick_failed(event, false);
    break;
  case Kind::joined:
    on_joined(event);
    break;
  case Kind::names:
    on_names(event);
    break;
  case Kind::parted:
    on_parted(event);
    break;
  case Kind::quit:
    on_quit(event);
    break;
  case Kind::kicked:
    on_kicked(event);
    break;
  case Kind::nick_changed:
    on_nick_changed(event);
    break;
  case Kind::topic:
    on_topic(event);
    break;
  case Kind::message:
    on_message(event);
    break;
  case Kind::mode:
    on_mode(event);
    break;
  case Kind::away:
    on_away(event);
    break;
  case Kind::invite:
    on_invite(event);
    break;
  case Kind::error_reply:
    on_error_reply(event);
    break;
  case Kind::server_text:
    on_server_text(event);
    break;
  case Kind::send:
  case Kind::caps:
  case Kind::sasl_succeeded:
  case Kind::closing:
    break;
  }
}

void UserConnection::refold_rooms() {
  std::map<std::string, std::string, std::less<>> renamed; // old key -> new key
  for (const auto& [key, room] : rooms_) {
    if (auto folded = fold(room.name); folded != key) {
      renamed.emplace(key, std::move(folded));
    }
  }
  if (renamed.empty()) {
    return;
  }
  for (const auto& [old_key, new_key] : renamed) {
    auto node = rooms_.extract(old_key);
    if (!rooms_.contains(new_key)) { // two names that now fold alike: the first stays
      node.key() = new_key;
      rooms_.insert(std::move(node));
    }
  }
  for (auto& [resource, keys] : resources_) {
    std::set<std::string, std::less<>> refolded;
    for (const auto& key : keys) {
      const auto found = renamed.find(key);
      refolded.insert(found == renamed.end() ? key : found->second);
    }
    keys = std::move(refolded);
  }
}

void UserConnection::on_registered() {
  ever_registered_ = true;
  if (away_) {
    (void)link_->perform([&](IrcClientSession& s) { return s.away(away_text_); });
  }
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& item : pending) {
    item.run();
  }
}

void UserConnection::on_joined(const ClientEvent& event) {
  if (event.self) {
    if (Room* room = find_room(event.channel)) {
      room->name = event.channel;
      context_.channels.enter(server_, isupport(), event.channel, user_.bare_string());
    }
    return;
  }
  SharedChannel* channel = shared(event.channel);
  if (channel == nullptr) {
    return;
  }
  channel->add_member(isupport(), event.nick, {});
  Room* room = find_room(event.channel);
  if (room != nullptr && room->state == Room::State::joined) {
    if (const auto* member = channel->member(isupport(), event.nick)) {
      send_occupant(*room, *member, true, {});
    }
  }
}

void UserConnection::on_names(const ClientEvent& event) {
  SharedChannel* channel = shared(event.channel);
  if (channel == nullptr) {
    return; // NAMES of a channel we are not in (typed as a raw command)
  }
  Room* room = find_room(event.channel);
  const auto& is = isupport();
  // Alone in the channel, this NAMES is the whole truth; otherwise other
  // users' connections keep the state current and it is only merged.
  const bool alone = channel->users().size() <= 1;
  std::vector<ChannelMember> departed;
  if (alone) {
    for (const auto& [key, member] : channel->members()) {
      const bool still =
          std::any_of(event.members.begin(), event.members.end(),
                      [&](const NamesMember& m) { return is.equal(m.nick, member.nick); });
      if (!still) {
        departed.push_back(member);
      }
    }
    channel->clear_members();
  }
  for (const auto& member : event.members) {
    channel->add_member(is, member.nick, member.prefixes);
  }
  if (room == nullptr) {
    return;
  }
  const auto previous = room->state;
  room->state = Room::State::joined;
  if (previous == Room::State::rejoining) {
    for (const auto& member : departed) {
      send_occupant(*room, member, false, {});
    }
    for (const auto& [key, member] : channel->members()) {
      send_occupant(*room, member, true, {});
    }
    send_room_notice(*room, "Reconnected to " + server_ + " and back in " + room->name + ".");
  }
  auto pending = std::move(room->pending);
  room->pending.clear();
  for (const auto& [resource, nick] : pending) {
    if (const auto to = user_.with_resource(resource)) {
      send_room_list(*room, *to, nick);
      room->resources.emplace(resource, *to);
    }
  }
}

void UserConnection::on_parted(const ClientEvent& event) {
  Room* room = find_room(event.channel);
  if (event.self) {
    if (room != nullptr) {
      PresenceDetails details;
      details.status_text = event.text;
      drop_room(*room, details);
    }
    return;
  }
  if (SharedChannel* channel = shared(event.channel)) {
    channel->remove_member(isupport(), event.nick);
  }
  if (room != nullptr && room->state == Room::State::joined) {
    PresenceDetails details;
    details.status_text = event.text;
    send_occupant(*room, ChannelMember{event.nick, {}, false}, false, details);
  }
}

void UserConnection::on_quit(const ClientEvent& event) {
  if (event.self) {
    return;
  }
  PresenceDetails details;
  details.status_text = event.text;
  for (auto& [key, room] : rooms_) {
    SharedChannel* channel = shared(room.name);
    if (channel == nullptr) {
      continue;
    }
    bool was_there = channel->remove_member(isupport(), event.nick);
    if (was_there) {
      channel->remember_change(isupport(), event.nick, {});
    } else {
      was_there = channel->departed_recently(isupport(), event.nick);
    }
    if (was_there && room.state == Room::State::joined) {
      send_occupant(room, ChannelMember{event.nick, {}, false}, false, details);
    }
  }
}

void UserConnection::on_kicked(const ClientEvent& event) {
  Room* room = find_room(event.channel);
  PresenceDetails details;
  details.status_codes = {muc_status::kicked};
  details.actor = event.by;
  details.reason = event.text;
  if (event.self) {
    if (room != nullptr) {
      drop_room(*room, details);
    }
    return;
  }
  if (SharedChannel* channel = shared(event.channel)) {
    channel->remove_member(isupport(), event.nick);
  }
  if (room != nullptr && room->state == Room::State::joined) {
    send_occupant(*room, ChannelMember{event.nick, {}, false}, false, details);
  }
}

void UserConnection::on_nick_changed(const ClientEvent& event) {
  const auto& is = isupport();
  if (event.self) {
    pending_nick_.reset();
  }
  for (auto& [key, room] : rooms_) {
    SharedChannel* channel = shared(room.name);
    if (channel == nullptr) {
      continue;
    }
    bool was_there = channel->rename_member(is, event.nick, event.new_nick);
    if (was_there) {
      channel->remember_change(is, event.nick, event.new_nick);
    } else {
      was_there = channel->member(is, event.new_nick) != nullptr &&
                  channel->renamed_recently(is, event.nick, event.new_nick);
    }
    if (!was_there || room.state != Room::State::joined) {
      continue;
    }
    const auto* member = channel->member(is, event.new_nick);
    PresenceDetails details;
    details.status_codes = {muc_status::nick_changed};
    details.new_nick = event.new_nick;
    ChannelMember old = member != nullptr ? *member : ChannelMember{};
    old.nick = event.nick;
    if (event.self) {
      for (const auto& [resource, jid] : room.resources) {
        const auto standing = muc_standing(old.prefixes, is);
        details.status_codes.push_back(muc_status::self);
        bridge_.send_occupant(room.jid, jid,
                              MucOccupant{old.nick, standing.role, standing.affiliation, {}}, false,
                              details);
        details.status_codes.pop_back();
        send_self_presence(room, jid, true, {});
      }
    } else {
      send_occupant(room, old, false, details);
      if (member != nullptr) {
        send_occupant(room, *member, true, {});
      }
    }
  }
}

void UserConnection::on_topic(const ClientEvent& event) {
  SharedChannel* channel = shared(event.channel);
  if (channel != nullptr) {
    channel->set_topic(event.text, event.by);
  }
  Room* room = find_room(event.channel);
  if (room != nullptr && room->state == Room::State::joined) {
    deliver(*room, gateway::Bridge::room_subject(room->jid, event.text, event.by));
  }
}

void UserConnection::on_message(const ClientEvent& event) {
  if (event.message_kind == MessageKind::ctcp) {
    return; // CTCP requests (VERSION, PING...) are not shown
  }
  if (isupport().is_channel(event.target)) {
    Room* room = find_room(event.target);
    if (room == nullptr || room->state != Room::State::joined) {
      return;
    }
    if (event.self) {
      on_own_echo(event, *room);
    } else {
      on_channel_message(event, *room);
    }
    return;
  }
  if (!event.self) {
    on_private_message(event);
  }
}

void UserConnection::on_channel_message(const ClientEvent& event, Room& room) {
  const std::string body =
      event.message_kind == MessageKind::action ? "/me " + event.plain_text : event.plain_text;
  deliver(room,
          gateway::Bridge::room_message(room.jid, event.nick, body, event.msgid,
                                        delay_stamp(event.time, std::chrono::system_clock::now())));
}

void UserConnection::on_own_echo(const ClientEvent& event, Room& room) {
  const auto target = fold(event.target);
  const auto echo = std::find_if(echoes_.begin(), echoes_.end(),
                                 [&](const PendingEcho& e) { return e.target == target; });
  if (echo == echoes_.end()) {
    // Sent some other way (a raw command): show it as ours, without an id.
    on_channel_message(event, room);
    return;
  }
  if (!echo->reflected) {
    // One XMPP message may have become several lines: the first echo
    // reflects the whole message with its id, the others are absorbed.
    deliver(room,
            gateway::Bridge::room_message(room.jid, link_->session().nick(), echo->body, echo->id));
    echo->reflected = true;
  }
  if (--echo->lines == 0) {
    echoes_.erase(echo);
  }
}

void UserConnection::on_private_message(const ClientEvent& event) {
  const auto from = nick_jid(event.nick);
  if (!from) {
    send_server_message("<" + event.nick + "> " + event.plain_text);
    return;
  }
  const std::string body =
      event.message_kind == MessageKind::action ? "/me " + event.plain_text : event.plain_text;
  // An id lets the user's client react and reply to the message.
  gateway::ContactMessage message{.from = *from,
                                  .to = user_,
                                  .id = event.msgid.empty() ? gateway::random_hex(12) : event.msgid,
                                  .body = body};
  message.delay_stamp = delay_stamp(event.time, std::chrono::system_clock::now());
  message.delay_from = server_jid().to_string();
  bridge_.send(message);
}

void UserConnection::on_mode(const ClientEvent& event) {
  const auto& is = isupport();
  if (!is.is_channel(event.target)) {
    return; // user modes
  }
  SharedChannel* channel = shared(event.target);
  Room* room = find_room(event.target);
  if (channel == nullptr) {
    return;
  }
  bool adding = true;
  std::size_t next_param = 0;
  for (const char c : event.text) {
    if (c == '+' || c == '-') {
      adding = c == '+';
      continue;
    }
    if (const auto membership = is.membership_by_mode(c)) {
      if (next_param >= event.params.size()) {
        break;
      }
      const auto& nick = event.params[next_param++];
      channel->set_member_prefix(is, nick, membership->second, adding);
      const auto* member = channel->member(is, nick);
      if (member != nullptr && room != nullptr && room->state == Room::State::joined) {
        send_occupant(*room, *member, true, {});
      }
    } else if (mode_takes_param(is, c, adding)) {
      ++next_param;
    }
  }
}

void UserConnection::on_away(const ClientEvent& event) {
  const bool away = !event.text.empty();
  for (auto& [key, room] : rooms_) {
    SharedChannel* channel = shared(room.name);
    if (channel == nullptr || channel->member(isupport(), event.nick) == nullptr) {
      continue;
    }
    channel->set_member_away(isupport(), event.nick, away);
    if (room.state == Room::State::joined) {
      send_occupant(room, *channel->member(isupport(), event.nick), true, {});
    }
  }
}

void UserConnection::on_invite(const ClientEvent& event) {
  const auto room = room_jid(event.channel);
  const auto inviter = nick_jid(event.by);
  if (!room || !inviter) {
    return;
  }
  bridge_.send(
      gateway::RoomInvite{*room, user_, *inviter, event.by + " invites you to " + event.channel});
}

void UserConnection::on_error_reply(const ClientEvent& event) {
  const std::string target = event.params.empty() ? std::string() : event.params.front();
  const std::string text = event.text + (target.empty() ? "" : " (" + target + ")");
  if (const auto condition = join_refusal(event.numeric); condition && !target.empty()) {
    Room* room = find_room(target);
    if (room != nullptr && room->state != Room::State::joined) {
      refuse_pending_joins(*room, xmpp::make_stanza_error(*condition, event.text));
      drop_room(*room, {});
      return;
    }
  }
  if ((event.numeric == "401" || event.numeric == "404" || event.numeric == "406") &&
      !target.empty()) {
    const auto sent = last_ids_.find(fold(target));
    const auto to = sent == last_ids_.end() ? std::nullopt : xmpp::Jid::parse(sent->second.second);
    const auto from = isupport().is_channel(target) ? room_jid(target) : nick_jid(target);
    if (to && from) {
      bridge_.send(gateway::MessageFailure{*from, *to, sent->second.first,
                                           xmpp::make_stanza_error(event.numeric == "404"
                                                                       ? Condition::forbidden
                                                                       : Condition::item_not_found,
                                                                   event.text)});
      return;
    }
  }
  if (!target.empty() && isupport().is_channel(target)) {
    if (Room* room = find_room(target); room != nullptr && room->state == Room::State::joined) {
      send_room_notice(*room, "IRC: " + event.text);
      return;
    }
  }
  send_server_message(event.numeric + " " + text);
}

void UserConnection::on_server_text(const ClientEvent& event) {
  const auto& numeric = event.numeric;
  if (numeric == "375") {
    motd_ = event.text + "\n";
    return;
  }
  if (numeric == "372") {
    if (motd_.size() + event.text.size() < max_motd_bytes) {
      motd_ += event.text + "\n";
    }
    return;
  }
  if (numeric == "376") {
    if (!motd_.empty() && motd_.back() == '\n') {
      motd_.pop_back();
    }
    send_server_message(motd_);
    motd_.clear();
    return;
  }
  if (numeric == "321") {
    return;
  }
  if (numeric == "322") {
    if (pending_list_ && pending_list_->channels.size() < max_listed_channels &&
        !event.params.empty()) {
      const std::string users = event.params.size() > 1 ? event.params[1] : std::string();
      pending_list_->channels.emplace_back(
          event.params[0], event.params[0] + " (" + users + ")" +
                               (event.text.empty() ? std::string() : ": " + event.text));
    }
    return;
  }
  if (numeric == "323") {
    if (pending_list_) {
      gateway::DiscoItems items;
      for (const auto& [name, description] : pending_list_->channels) {
        if (auto jid = room_jid(name)) {
          items.items.push_back({std::move(*jid), {}, description});
        }
      }
      bridge_.answer(pending_list_->request, items);
      pending_list_.reset();
    }
    return;
  }
  if (quiet_numeric(numeric) || (numeric.empty() && !ever_registered_)) {
    return;
  }
  if (numeric == "301" && event.params.size() >= 1) {
    send_server_message(event.params[0] + " is away: " + event.text);
    return;
  }
  std::string text;
  for (const auto& param : event.params) {
    text += param + " ";
  }
  send_server_message(text + event.text);
}

void UserConnection::on_nick_failed(const ClientEvent& event, bool registering) {
  if (registering) {
    if (ever_registered_) {
      // After a reconnect our old nick may still be held by our ghost.
      (void)link_->nick(event.nick + "_");
      return;
    }
    const std::string text =
        "the nickname " + event.nick + " cannot be used on " + server_ + ": " + event.text;
    const auto error = xmpp::make_stanza_error(Condition::conflict, text);
    for (auto& [key, room] : rooms_) {
      refuse_pending_joins(room, error);
    }
    fail_pending(Condition::conflict, text);
    rooms_.clear();
    finish("");
    return;
  }
  if (pending_nick_) {
    Room* room = find_room(pending_nick_->channel);
    const auto from = room != nullptr ? room->jid.with_resource(pending_nick_->nick) : std::nullopt;
    if (from) {
      bridge_.send(gateway::PresenceFailure{*from, pending_nick_->from,
                                            xmpp::make_stanza_error(event.numeric == "433"
                                                                        ? Condition::conflict
                                                                        : Condition::not_acceptable,
                                                                    event.text)});
    }
    pending_nick_.reset();
    return;
  }
  send_server_message("cannot change the nickname to " + event.nick + ": " + event.text);
}

void UserConnection::send_occupant(Room& room, const ChannelMember& member, bool available,
                                   const PresenceDetails& details) {
  const auto& is = isupport();
  if (is.equal(member.nick, link_->session().nick())) {
    for (const auto& [resource, jid] : room.resources) {
      send_self_presence(room, jid, available, details);
    }
    return;
  }
  const auto standing = muc_standing(member.prefixes, is);
  const MucOccupant occupant{member.nick, standing.role, standing.affiliation,
                             member.away ? std::string_view("away") : std::string_view()};
  for (const auto& [resource, jid] : room.resources) {
    bridge_.send_occupant(room.jid, jid, occupant, available, details);
  }
}

void UserConnection::send_self_presence(Room& room, const xmpp::Jid& to, bool available,
                                        const PresenceDetails& details) {
  const auto& is = isupport();
  const auto& nick = link_->session().nick();
  const SharedChannel* channel = shared(room.name);
  const ChannelMember* self = channel != nullptr ? channel->member(is, nick) : nullptr;
  const auto standing = muc_standing(self != nullptr ? self->prefixes : std::string(), is);
  PresenceDetails with_self = details;
  with_self.status_codes.push_back(muc_status::self);
  bridge_.send_occupant(room.jid, to, MucOccupant{nick, standing.role, standing.affiliation, {}},
                        available, with_self);
}

void UserConnection::send_room_list(Room& room, const xmpp::Jid& to,
                                    std::string_view requested_nick) {
  const auto& is = isupport();
  const auto& nick = link_->session().nick();
  const SharedChannel* channel = shared(room.name);
  if (channel != nullptr) {
    for (const auto& [key, member] : channel->members()) {
      if (is.equal(member.nick, nick)) {
        continue;
      }
      const auto standing = muc_standing(member.prefixes, is);
      bridge_.send_occupant(
          room.jid, to,
          MucOccupant{member.nick, standing.role, standing.affiliation,
                      member.away ? std::string_view("away") : std::string_view()},
          true);
    }
  }
  PresenceDetails details;
  if (!requested_nick.empty() && requested_nick != nick) {
    details.status_codes.push_back(muc_status::nick_assigned);
  }
  send_self_presence(room, to, true, details);
  bridge_.send_to(gateway::Bridge::room_subject(room.jid,
                                                channel ? channel->topic() : std::string(),
                                                channel ? channel->topic_setter() : std::string()),
                  to);
}

void UserConnection::send_room_notice(Room& room, std::string_view text) {
  deliver(room, gateway::Bridge::room_message(room.jid, {}, text, {}));
}

void UserConnection::send_server_message(std::string_view text) {
  bridge_.send(
      gateway::ContactMessage{.from = server_jid(), .to = user_, .body = std::string(text)});
}

void UserConnection::fail_pending(Condition condition, const std::string& text) {
  auto pending = std::move(pending_);
  pending_.clear();
  for (const auto& item : pending) {
    refuse(item.event, condition, text);
  }
}

void UserConnection::deliver(const Room& room, const gateway::Fanout& stanza) {
  for (const auto& [resource, jid] : room.resources) {
    bridge_.send_to(stanza, jid);
  }
}

void UserConnection::drop_room(Room& room, const PresenceDetails& details) {
  for (const auto& [resource, jid] : room.resources) {
    send_self_presence(room, jid, false, details);
  }
  context_.channels.leave(server_, isupport(), room.name, user_.bare_string());
  rooms_.erase(fold(room.name));
  arm_idle_timer();
}

void UserConnection::refuse_pending_joins(Room& room, const xmpp::StanzaError& error) {
  for (const auto& [resource, nick] : room.pending) {
    const auto to = user_.with_resource(resource);
    const auto from = room.jid.with_resource(nick);
    if (to && from) {
      bridge_.send(gateway::PresenceFailure{*from, *to, error});
    }
  }
  room.pending.clear();
}

} // namespace trestle::irc
