#include "bridge.hpp"

#include "log.hpp"
#include "namespaces.hpp"
#include "random_hex.hpp"
#include "stanza.hpp"

#include <array>
#include <type_traits>
#include <utility>
#include <variant>

namespace trestle::gateway {

namespace {

/// An error answer from the event's recipient to its sender, with its id.
xmpp::Element addressed_error(std::string_view name, const xmpp::Jid& from, const xmpp::Jid& to,
                              const std::string& id) {
  xmpp::Element reply{std::string(name)};
  reply.set_attr("from", from.to_string());
  reply.set_attr("to", to.to_string());
  reply.set_attr("type", "error");
  if (!id.empty()) {
    reply.set_attr("id", id);
  }
  return reply;
}

/// The shells of an error answer to each event: addressed back, with its
/// id; a message's keeps its body, so that a client can show what failed
/// (RFC 6120 8.2).
xmpp::Element error_shell(const UserMessage& message) {
  auto reply = addressed_error("message", message.to, message.from, message.id);
  if (!message.body.empty()) {
    reply.append("body").append_text(message.body);
  }
  return reply;
}

xmpp::Element error_shell(const UserPresence& presence) {
  return addressed_error("presence", presence.to, presence.from, presence.id);
}

xmpp::Element error_shell(const ContactRequest& request) {
  return addressed_error("iq", request.to, request.from, request.id);
}

bool ends_something(const UserMessage& /*message*/) {
  return false;
}

bool ends_something(const ContactRequest& /*request*/) {
  return false;
}

/// An unavailable presence ends something and a presence error answers
/// something: neither is answered (RFC 6120 8.3.1).
bool ends_something(const UserPresence& presence) {
  return presence.type == UserPresence::Type::unavailable ||
         presence.type == UserPresence::Type::error;
}

template <typename Event> xmpp::Element error_of(const Event& event, xmpp::StanzaError error) {
  auto reply = error_shell(event);
  reply.append(xmpp::to_element(error));
  return reply;
}

} // namespace

xmpp::Element Bridge::stanza_of(const ContactMessage& message) {
  auto stanza = xmpp::make_message(message.from, message.to, type_name(message.type), message.body);
  stanza.set_attr("id", message.id.empty() ? random_hex(8) : message.id);
  if (message.subject) {
    stanza.append("subject").append_text(*message.subject);
  }
  if (!message.thread.empty()) {
    stanza.append("thread").append_text(message.thread);
  }
  for (const auto& url : message.attachments) {
    stanza.append("x", "jabber:x:oob").append("url").append_text(url);
  }
  const auto& delay_from = message.delay_from.empty() ? message.from.domain() : message.delay_from;
  if (message.received_at != 0) {
    xmpp::add_delay(stanza, delay_from, xmpp::xep0082_datetime(message.received_at));
  } else {
    xmpp::add_delay(stanza, delay_from, message.delay_stamp);
  }
  return stanza;
}

xmpp::Element Bridge::stanza_of(const MessageFailure& failure) {
  auto stanza = xmpp::make_message(failure.from, failure.to, "error");
  if (!failure.id.empty()) {
    stanza.set_attr("id", failure.id);
  }
  stanza.append(xmpp::to_element(failure.error));
  return stanza;
}

xmpp::Element Bridge::stanza_of(const Receipt& receipt) {
  auto stanza = xmpp::make_message(receipt.from, receipt.to, {});
  stanza.set_attr("id", random_hex(8));
  stanza.append("received", std::string(xmpp::ns::receipts)).set_attr("id", receipt.id);
  return stanza;
}

xmpp::Element Bridge::stanza_of(const ContactPresence& presence) {
  auto stanza = xmpp::make_presence(presence.from, presence.to, type_name(presence.type));
  if (!presence.show.empty()) {
    stanza.append("show").append_text(presence.show);
  }
  if (!presence.status.empty()) {
    stanza.append("status").append_text(presence.status);
  }
  return stanza;
}

xmpp::Element Bridge::error_reply(const UserEvent& event, const xmpp::StanzaError& error) {
  return std::visit([&](const auto& typed) { return error_of(typed, error); }, event);
}

bool Bridge::asks_no_answer(const UserEvent& event) {
  return std::visit([](const auto& typed) { return ends_something(typed); }, event);
}

bool Bridge::send_stanza(xmpp::Element stanza, std::string_view what) {
  if (context_->send(std::move(stanza))) {
    return true;
  }
  context_->log().warning("component " + context_->domain().domain(),
                          "send queue full: dropped " + std::string(what));
  return false;
}

bool Bridge::send(const ContactMessage& message) {
  return send_stanza(stanza_of(message), "a message");
}

bool Bridge::send(const MessageFailure& failure) {
  return send_stanza(stanza_of(failure), "an error");
}

bool Bridge::send(const Receipt& receipt) {
  return send_stanza(stanza_of(receipt), "a receipt");
}

bool Bridge::send(const ContactPresence& presence) {
  return send_stanza(stanza_of(presence), "a presence");
}

bool Bridge::send(const PresenceFailure& failure) {
  auto stanza = xmpp::make_presence(failure.from, failure.to, "error");
  stanza.append(xmpp::to_element(failure.error));
  return send_stanza(std::move(stanza), "a presence error");
}

bool Bridge::send(const RoomInvite& invite) {
  auto stanza = xmpp::make_message(invite.room, invite.to, "normal", invite.text);
  stanza.append("x", std::string(xmpp::ns::muc_user))
      .append("invite")
      .set_attr("from", invite.inviter.to_string());
  return send_stanza(std::move(stanza), "an invitation");
}

bool Bridge::send_occupant(const xmpp::Jid& room, const xmpp::Jid& to, const MucOccupant& occupant,
                           bool available, const PresenceDetails& details) {
  auto stanza = occupant_presence(room, to, occupant, available, details);
  return !stanza.name().empty() && send_stanza(std::move(stanza), "an occupant's presence");
}

Fanout Bridge::room_subject(const xmpp::Jid& room, std::string_view subject,
                            std::string_view setter) {
  return Fanout(gateway::room_subject(room, room, subject, setter));
}

Fanout Bridge::room_message(const xmpp::Jid& room, std::string_view nick, std::string_view body,
                            std::string_view id, std::string_view stamp) {
  return Fanout(groupchat_message(room, nick, room, body, id, stamp));
}

bool Bridge::send_to(const Fanout& stanza, const xmpp::Jid& to) {
  auto copy = stanza.stanza_;
  copy.set_attr("to", to.to_string());
  return send_stanza(std::move(copy), "a room's stanza");
}

Awaitable<bool> Bridge::keep_stanza(xmpp::Element stanza, const std::vector<Correlation>& remember,
                                    std::error_code& ec) {
  co_return co_await context_->send_confirmed(stanza, remember, ec);
}

Awaitable<bool> Bridge::keep(const ContactMessage& message,
                             const std::vector<Correlation>& remember, std::error_code& ec) {
  return keep_stanza(stanza_of(message), remember, ec);
}

Awaitable<bool> Bridge::keep(const MessageFailure& failure,
                             const std::vector<Correlation>& remember, std::error_code& ec) {
  return keep_stanza(stanza_of(failure), remember, ec);
}

Awaitable<bool> Bridge::keep(const Receipt& receipt, const std::vector<Correlation>& remember,
                             std::error_code& ec) {
  return keep_stanza(stanza_of(receipt), remember, ec);
}

void Bridge::refuse(const UserEvent& event, xmpp::Condition condition, std::string text) {
  std::visit([&](const auto& typed) { refuse(typed, condition, text); }, event);
}

void Bridge::refuse(const UserMessage& message, xmpp::Condition condition, std::string text) {
  send_stanza(error_of(message, xmpp::make_stanza_error(condition, std::move(text))),
              "an error reply");
}

void Bridge::refuse(const UserPresence& presence, xmpp::Condition condition, std::string text) {
  if (!ends_something(presence)) {
    send_stanza(error_of(presence, xmpp::make_stanza_error(condition, std::move(text))),
                "an error reply");
  }
}

void Bridge::refuse(const ContactRequest& request, xmpp::Condition condition, std::string text) {
  send_stanza(error_of(request, xmpp::make_stanza_error(condition, std::move(text))),
              "an error reply");
}

namespace {

/// The result to `request`, from the address it was sent to.
xmpp::Element result_of(const ContactRequest& request) {
  auto reply = xmpp::make_iq(std::string_view("result"), request.to, request.from, request.id);
  return reply;
}

} // namespace

bool Bridge::answer(const ContactRequest& request) {
  return send_stanza(result_of(request), "an answer");
}

bool Bridge::answer(const ContactRequest& request, const DiscoInfo& info) {
  auto reply = result_of(request);
  auto& query = reply.append("query", std::string(xmpp::ns::disco_info));
  if (!request.node.empty()) {
    query.set_attr("node", request.node);
  }
  for (const auto& identity : info.identities) {
    auto& element = query.append("identity");
    element.set_attr("category", identity.category);
    element.set_attr("type", identity.type);
    if (!identity.name.empty()) {
      element.set_attr("name", identity.name);
    }
  }
  for (const auto& feature : info.features) {
    query.append("feature").set_attr("var", feature);
  }
  return send_stanza(std::move(reply), "a disco answer");
}

bool Bridge::answer(const ContactRequest& request, const DiscoItems& items) {
  auto reply = result_of(request);
  auto& query = reply.append("query", std::string(xmpp::ns::disco_items));
  if (!request.node.empty()) {
    query.set_attr("node", request.node);
  }
  for (const auto& item : items.items) {
    auto& element = query.append("item");
    element.set_attr("jid", item.jid.to_string());
    if (!item.node.empty()) {
      element.set_attr("node", item.node);
    }
    if (!item.name.empty()) {
      element.set_attr("name", item.name);
    }
  }
  return send_stanza(std::move(reply), "a disco answer");
}

bool Bridge::answer(const ContactRequest& request, const CommandAnswer& step) {
  if (step.error) {
    refuse(request, step.error->condition, step.error->text);
    return true;
  }
  return send_stanza(
      command_reply(request.to, request.from, request.id, request.node, request.session_id, step),
      "a command's answer");
}

xmpp::Element Bridge::command_reply(const xmpp::Jid& from, const xmpp::Jid& to,
                                    const std::string& id, const std::string& node,
                                    const std::string& session_id, const CommandAnswer& step) {
  static constexpr std::array<std::string_view, 3> statuses{"executing", "completed", "canceled"};
  auto reply = xmpp::make_iq(std::string_view("result"), from, to, id);
  auto& command = reply.append("command", std::string(xmpp::ns::commands));
  command.set_attr("node", node);
  command.set_attr("sessionid", session_id.empty() ? random_hex(8) : session_id);
  command.set_attr("status", std::string(statuses.at(static_cast<std::size_t>(step.status))));
  if (step.status == CommandAnswer::Status::executing) {
    auto& actions = command.append("actions");
    actions.set_attr("execute", "complete");
    actions.append("complete");
  }
  if (!step.note.empty()) {
    command.append("note")
        .set_attr("type", step.note_is_warning ? "warn" : "info")
        .append_text(step.note);
  }
  if (step.form) {
    command.append(step.form->to_element());
  }
  return reply;
}

void Bridge::not_available(const UserEvent& event, std::string_view text) {
  const bool request = std::visit(
      [](const auto& typed) {
        using Event = std::decay_t<decltype(typed)>;
        if constexpr (std::is_same_v<Event, UserMessage>) {
          return !typed.body.empty();
        } else if constexpr (std::is_same_v<Event, UserPresence>) {
          return typed.type == UserPresence::Type::available ||
                 typed.type == UserPresence::Type::subscribe;
        } else {
          return true;
        }
      },
      event);
  if (request) {
    refuse(event, xmpp::Condition::service_unavailable, std::string(text));
  }
}

void Bridge::answer_always_there(const UserPresence& presence, const xmpp::Jid& contact,
                                 std::string_view status) {
  using Type = UserPresence::Type;
  const auto user = presence.from.bare();
  const ContactPresence there{contact, user, Type::available, {}, std::string(status)};
  switch (presence.type) {
  case Type::subscribe:
    send(ContactPresence{contact, user, Type::subscribed, {}, {}});
    send(there);
    break;
  case Type::probe:
    send(there);
    break;
  case Type::unsubscribe:
    send(ContactPresence{contact, user, Type::unsubscribed, {}, {}});
    break;
  default:
    break;
  }
}

} // namespace trestle::gateway
