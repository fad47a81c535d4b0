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
  static constexpr std::array<std::pair<std::string_view, Type>, 7> types{{
      {"", Type::available},
      {"unavailable", Type::unavailable},
      {"subscribe", Type::subscribe},
      {"subscribed", Type::subscribed},
      {"unsubscribe", Type::unsubscribe},
      {"unsubscribed", Type::unsubscribed},
      {"probe", Type::probe},
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
  return Asks::other;
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
    }
  }
  return message;
}

std::optional<UserEvent> read_presence(const xmpp::Element& stanza, xmpp::Jid from, xmpp::Jid to) {
  const auto type = presence_type(stanza.attr_or("type"));
  if (!type) {
    return std::nullopt;
  }
  return UserPresence{std::move(from),
                      std::move(to),
                      *type,
                      stanza.attr_or("id"),
                      stanza.child_text("show"),
                      stanza.child_text("status")};
}

std::optional<UserEvent> read_iq(const xmpp::Element& stanza, xmpp::Jid from, xmpp::Jid to) {
  const auto type = stanza.attr_or("type");
  const auto* payload = stanza.first_element();
  if ((type != "get" && type != "set") || payload == nullptr) {
    return std::nullopt;
  }
  return ContactRequest{std::move(from), std::move(to),     stanza.attr_or("id"),
                        type == "set",   asks_of(*payload), payload->attr_or("node")};
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
