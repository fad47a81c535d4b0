#include "user_events.hpp"

#include "namespaces.hpp"
#include "stanza.hpp"

#include <array>
#include <string_view>
#include <utility>

namespace trestle::gateway {

namespace {

/// RFC 6121 5.2.2: an unknown type is taken as normal; errors are nothing.
std::optional<MessageType> message_type(std::string_view type) {
  if (type == "error") {
    return std::nullopt;
  }
  if (type == "chat") {
    return MessageType::chat;
  }
  if (type == "groupchat") {
    return MessageType::groupchat;
  }
  if (type == "headline") {
    return MessageType::headline;
  }
  return MessageType::normal;
}

std::optional<UserPresence::Type> presence_type(std::string_view type) {
  using Type = UserPresence::Type;
  static constexpr std::array<std::pair<std::string_view, Type>, 8> types{{
      {"", Type::available},
      {"unavailable", Type::unavailable},
      {"subscribe", Type::subscribe},
      {"subscribed", Type::subscribed},
      {"unsubscribe", Type::unsubscribe},
      {"unsubscribed", Type::unsubscribed},
      {"probe", Type::probe},
      {"error", Type::error},
  }};
  for (const auto& [name, value] : types) {
    if (name == type) {
      return value;
    }
  }
  return std::nullopt;
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
  const auto type = presence_type(stanza.attr_or("type"));
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

std::optional<UserEvent> read_user_event(const xmpp::Element& stanza) {
  const xmpp::StanzaView view(stanza);
  auto from = view.from();
  auto to = view.to();
  if (!from || !to) {
    return std::nullopt;
  }
  switch (view.kind()) {
  case xmpp::StanzaKind::message:
    return read_message(stanza, std::move(*from), std::move(*to));
  case xmpp::StanzaKind::presence:
    return read_presence(stanza, std::move(*from), std::move(*to));
  case xmpp::StanzaKind::iq:
    return read_iq(stanza, std::move(*from), std::move(*to));
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
