#include "user_events.hpp"

#include "namespaces.hpp"
#include "stanza.hpp"

#include <array>
#include <string_view>
#include <utility>

namespace trestle::gateway {

namespace {

using PresenceType = UserPresence::Type;

constexpr std::array<std::pair<std::string_view, MessageType>, 4> message_types{{
    {"", MessageType::normal},
    {"chat", MessageType::chat},
    {"groupchat", MessageType::groupchat},
    {"headline", MessageType::headline},
}};

constexpr std::array<std::pair<std::string_view, PresenceType>, 8> presence_types{{
    {"", PresenceType::available},
    {"unavailable", PresenceType::unavailable},
    {"subscribe", PresenceType::subscribe},
    {"subscribed", PresenceType::subscribed},
    {"unsubscribe", PresenceType::unsubscribe},
    {"unsubscribed", PresenceType::unsubscribed},
    {"probe", PresenceType::probe},
    {"error", PresenceType::error},
}};

template <typename Value, std::size_t N>
std::optional<Value> value_named(const std::array<std::pair<std::string_view, Value>, N>& table,
                                 std::string_view name) {
  for (const auto& [known, value] : table) {
    if (known == name) {
      return value;
    }
  }
  return std::nullopt;
}

template <typename Value, std::size_t N>
std::string_view name_of(const std::array<std::pair<std::string_view, Value>, N>& table,
                         Value value) {
  for (const auto& [name, known] : table) {
    if (known == value) {
      return name;
    }
  }
  return {};
}

/// RFC 6121 5.2.2: an unknown type is taken as normal; errors are nothing.
std::optional<MessageType> message_type(std::string_view type) {
  if (type == "error") {
    return std::nullopt;
  }
  return value_named(message_types, type).value_or(MessageType::normal);
}

ContactRequest::Asks asks_of(const xmpp::Element& payload) {
  using Asks = ContactRequest::Asks;
  const auto& xmlns = payload.xmlns();
  if (xmlns == xmpp::ns::disco_info && payload.name() == "query") {
    return Asks::disco_info;
  }
  if (xmlns == xmpp::ns::disco_items && payload.name() == "query") {
    return Asks::disco_items;
  }
  if (xmlns == xmpp::ns::version && payload.name() == "query") {
    return Asks::version;
  }
  if (xmlns == xmpp::ns::ping && payload.name() == "ping") {
    return Asks::ping;
  }
  if (xmlns == "vcard-temp" && payload.name() == "vCard") {
    return Asks::vcard;
  }
  if (xmlns == xmpp::ns::commands && payload.name() == "command") {
    return Asks::command;
  }
  if (xmlns == "http://jabber.org/protocol/muc#admin" && payload.name() == "query") {
    return Asks::room_admin;
  }
  return Asks::other;
}

/// A history limit: a non-negative number, or nothing.
std::optional<long> history_limit(const xmpp::Element& history, std::string_view name) {
  const auto text = history.attr(name);
  if (!text || text->empty() || text->size() > 9 ||
      text->find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  return std::stol(std::string(*text));
}

RoomJoin read_join(const xmpp::Element& x) {
  RoomJoin join{x.child_text("password"), {}, {}, {}, {}};
  if (const auto* history = x.find("history")) {
    join.max_stanzas = history_limit(*history, "maxstanzas");
    join.max_chars = history_limit(*history, "maxchars");
    join.seconds = history_limit(*history, "seconds");
    join.since = history->attr_or("since");
  }
  return join;
}

std::optional<UserEvent> read_message(const xmpp::Element& stanza, xmpp::Jid from, xmpp::Jid to) {
  const auto type = message_type(stanza.attr_or("type"));
  if (!type) {
    return std::nullopt;
  }
  UserMessage message{std::move(from), std::move(to), *type, stanza.attr_or("id"), {}, {}, {}, {}};
  // By name in any namespace, as clients write them (the first of each).
  for (const auto& child : stanza.nodes()) {
    if (child.is_text()) {
      continue;
    }
    if (child.name() == "body" && message.body.empty()) {
      message.body = child.text();
    } else if (child.name() == "subject" && !message.subject) {
      message.subject = child.text();
    } else if (child.name() == "thread" && message.thread.empty()) {
      message.thread = child.text();
    } else if (child.name() == "request" && child.xmlns() == xmpp::ns::receipts) {
      message.receipt_requested = true;
    } else if (child.name() == "x" && child.xmlns() == xmpp::ns::muc_user && !message.invite) {
      if (const auto* invite = child.find("invite")) {
        message.invite = Invitation{xmpp::Jid::parse(invite->attr_or("to"))};
      }
    } else if (child.name() == "x" && child.xmlns() == "jabber:x:conference" &&
               !message.room_invitation) {
      message.room_invitation = Invitation{xmpp::Jid::parse(child.attr_or("jid"))};
    }
  }
  return message;
}

std::optional<UserEvent> read_presence(const xmpp::Element& stanza, xmpp::Jid from, xmpp::Jid to) {
  const auto type = value_named(presence_types, stanza.attr_or("type"));
  if (!type) {
    return std::nullopt;
  }
  UserPresence presence{std::move(from),
                        std::move(to),
                        *type,
                        stanza.attr_or("id"),
                        stanza.child_text("show"),
                        stanza.child_text("status")};
  if (const auto* x = stanza.find("x", xmpp::ns::muc)) {
    presence.join = read_join(*x);
  }
  return presence;
}

std::optional<UserEvent> read_iq(const xmpp::Element& stanza, xmpp::Jid from, xmpp::Jid to) {
  const auto type = stanza.attr_or("type");
  const auto* payload = stanza.first_element();
  if ((type != "get" && type != "set") || payload == nullptr) {
    return std::nullopt;
  }
  ContactRequest request{std::move(from), std::move(to),     stanza.attr_or("id"),
                         type == "set",   asks_of(*payload), payload->attr_or("node")};
  if (request.asks == ContactRequest::Asks::command) {
    request.action = payload->attr_or("action", "execute");
    request.session_id = payload->attr_or("sessionid");
    request.form = find_form(*payload);
  } else if (request.asks == ContactRequest::Asks::room_admin) {
    for (const auto* item : payload->find_all("item")) {
      request.role_changes.push_back(RoleChange{item->attr_or("nick"), item->attr_or("role"),
                                                item->child_text("reason"),
                                                item->attr("affiliation").has_value()});
    }
  }
  return request;
}

} // namespace

std::string_view type_name(MessageType type) {
  return name_of(message_types, type);
}

std::string_view type_name(UserPresence::Type type) {
  return name_of(presence_types, type);
}

std::optional<UserEvent> read_user_event(const xmpp::Element& stanza) {
  const xmpp::StanzaView view(stanza);
  auto from = view.from();
  auto to = view.to();
  if (!from || !to) {
    return std::nullopt;
  }
  return read_user_event(stanza, std::move(*from), std::move(*to));
}

std::optional<UserEvent> read_user_event(const xmpp::Element& stanza, xmpp::Jid from,
                                         xmpp::Jid to) {
  switch (xmpp::kind_of(stanza)) {
  case xmpp::StanzaKind::message:
    return read_message(stanza, std::move(from), std::move(to));
  case xmpp::StanzaKind::presence:
    return read_presence(stanza, std::move(from), std::move(to));
  case xmpp::StanzaKind::iq:
    return read_iq(stanza, std::move(from), std::move(to));
  case xmpp::StanzaKind::other:
    break;
  }
  return std::nullopt;
}

const xmpp::Jid& sender_of(const UserEvent& event) {
  return std::visit([](const auto& typed) -> const xmpp::Jid& { return typed.from; }, event);
}

const xmpp::Jid& recipient_of(const UserEvent& event) {
  return std::visit([](const auto& typed) -> const xmpp::Jid& { return typed.to; }, event);
}

} // namespace trestle::gateway
