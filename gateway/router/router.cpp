#include "router.hpp"

#include "access_control.hpp"
#include "activity.hpp"
#include "border.hpp"
#include "border_crossing.hpp"
#include "border_notices.hpp"
#include "bridge.hpp"
#include "log.hpp"
#include "namespaces.hpp"
#include "stanza.hpp"

namespace trestle::gateway {
namespace {

using xmpp::Condition;
using xmpp::Element;
using xmpp::StanzaKind;

/// Whether an error reply to `stanza` is allowed: never to an error (RFC
/// 6120 8.3.1), never to an iq result, and not to unavailable presence,
/// which ends something and expects no answer.
bool answerable(const Element& stanza) {
  const auto type = stanza.attr_or("type");
  if (type == "error") {
    return false;
  }
  const auto kind = xmpp::kind_of(stanza);
  if (kind == StanzaKind::iq) {
    return type == "get" || type == "set";
  }
  return !(kind == StanzaKind::presence && type == "unavailable");
}

} // namespace

Router::Router(ServiceContext context, ActivityTracker& activity, Send send, Post post, Spawn spawn)
    : context_(context), activity_(activity), send_(std::move(send)), post_(std::move(post)),
      spawn_(std::move(spawn)) {}

void Router::hand_over(const Element& stanza, const xmpp::Jid& from, const xmpp::Jid& to) {
  auto event = read_user_event(stanza, from, to);
  if (!event) {
    if (xmpp::StanzaView(stanza).is_iq_request()) {
      refuse(stanza, Condition::bad_request, "an iq request needs a payload");
    }
    return; // an error or an answer: nothing to do
  }
  if (!post_(from.bare_string(), std::move(*event))) {
    context_.log.warning("router", "too many stanzas from " + from.bare_string() +
                                       " wait for the adapter: refused one");
    refuse(stanza, Condition::resource_constraint,
           "too many of your messages are waiting to be handled; try again later");
  }
}

void Router::refuse(const Element& stanza, Condition condition, std::string text) {
  if (answerable(stanza)) {
    send_(xmpp::make_error_reply(stanza, xmpp::make_stanza_error(condition, std::move(text))));
  }
}

Awaitable<void> Router::deliver(const UserEvent& event) {
  // Without the requirement, the adapter's own coroutine is the lane's: no
  // frame in between on the hot path.
  if (!context_.access.registration_required()) {
    return context_.adapter.handle(event);
  }
  return deliver_registered(event);
}

Awaitable<void> Router::deliver_registered(const UserEvent& event) {
  const std::string bare = sender_of(event).bare_string();
  const std::string component = context_.domain.to_string();
  std::error_code ec;
  const auto found = co_await context_.repositories.registrations().find(bare, component, ec);
  if (ec) {
    // Not the user's fault: saying "register first" would be wrong for a
    // registered user, so report the gateway's own failure.
    context_.log.error("router", "store error checking a registration: " + ec.message());
    refuse(event, Condition::internal_server_error,
           "the gateway cannot check your registration right now; try again later");
    co_return;
  }
  if (!found) {
    refuse(event, Condition::registration_required,
           "register with " + component + " before using it");
    co_return;
  }
  co_await context_.adapter.handle(event);
}

void Router::refuse(const UserEvent& event, Condition condition, std::string text) {
  if (Bridge::asks_no_answer(event)) {
    return;
  }
  send_(Bridge::error_reply(event, xmpp::make_stanza_error(condition, std::move(text))));
}

void Router::route(const Element& stanza) {
  const xmpp::StanzaView view(stanza);
  const auto from = view.from();
  if (!from) {
    // Nobody to answer: the server should never route this to us.
    context_.log.warning("router", "dropped a <" + stanza.name() + "/> without a valid from");
    return;
  }
  const auto to = view.to();
  if (!to || to->domain() != context_.domain.domain()) {
    refuse(stanza, Condition::jid_malformed, "the 'to' address is not on this gateway");
    return;
  }
  if (!context_.access.allowed(*from)) {
    context_.log.debug("router", "refused " + from->bare_string() + ": not allowed");
    refuse(stanza, Condition::forbidden, "you are not allowed to use this gateway");
    return;
  }
  const auto now = ActivityTracker::Clock::now();
  activity_.touch(*from, context_.domain.to_string(), now);

  const bool to_domain = to->local().empty();
  if (view.kind() == StanzaKind::iq && to_domain) {
    route_iq_to_domain(stanza, *from);
    return;
  }
  if (view.kind() == StanzaKind::presence && to_domain) {
    route_presence_to_domain(stanza, *from);
    return;
  }
  if (view.kind() == StanzaKind::message && to_domain) {
    // Messages to the gateway's own address (raw commands in IRC's
    // fixed-server mode) cross the border too: never an encrypted one.
    if (stanza.attr_or("type") == "error" || refused_encrypted(stanza, *from)) {
      return;
    }
    if (context_.adapter.takes_domain_messages()) {
      hand_over(stanza, *from, *to);
      return;
    }
    refuse(stanza, Condition::service_unavailable,
           "this is the gateway's own address; write to a contact on it instead");
    return;
  }
  if (view.kind() == StanzaKind::message && stanza.attr_or("type") != "error") {
    route_message(stanza, *from, *to);
    return;
  }
  hand_over(stanza, *from, *to);
}

bool Router::refused_encrypted(const Element& stanza, const xmpp::Jid& from) {
  const auto scheme = end_to_end_encryption(stanza);
  if (!scheme) {
    return false;
  }
  ++encrypted_refused_;
  context_.log.info("router", "refused an end-to-end encrypted (" + std::string(*scheme) +
                                  ") message from " + from.bare_string());
  refuse(stanza, Condition::not_acceptable,
         encrypted_refusal_text(*scheme, context_.adapter.abilities().network));
  return true;
}

void Router::route_message(const Element& stanza, const xmpp::Jid& from, const xmpp::Jid& to) {
  if (refused_encrypted(stanza, from)) {
    return;
  }
  const auto abilities = context_.adapter.abilities();
  if (stanza.attr_or("type") == "headline") {
    hand_over(stanza, from, to); // not a conversation: nothing to translate
    return;
  }
  const auto user = from.bare_string();
  auto crossing = cross_border(stanza, abilities, recent_, user);
  if (!crossing.notices.empty()) {
    const auto contact = to.bare_string();
    const auto now = BorderNotices::Clock::now();
    for (const auto& notice : crossing.notices) {
      if (notices_.allow(user, contact, notice.topic, now)) {
        ++border_notices_;
        send_(make_border_notice(stanza, notice.text));
      }
    }
  }
  switch (crossing.verdict) {
  case Crossing::Verdict::pass:
    hand_over(crossing.message, from, to);
    break;
  case Crossing::Verdict::refuse:
    refuse(stanza, crossing.condition, std::move(crossing.error_text));
    break;
  case Crossing::Verdict::drop:
    break;
  }
}

void Router::remember_sent(const Element& stanza) {
  if (stanza.name() != "message") {
    return;
  }
  const auto type = stanza.attr_or("type");
  if (type != "chat" && type != "groupchat" && type != "normal" && !type.empty()) {
    return;
  }
  if (const auto to = xmpp::StanzaView(stanza).to()) {
    recent_.remember(to->bare_string(), stanza);
  }
}

void Router::route_iq_to_domain(const Element& stanza, const xmpp::Jid& from) {
  const auto type = stanza.attr_or("type");
  if (type != "get" && type != "set") {
    return; // answers to our own requests; the driver consumes keepalive answers
  }
  const auto* payload = stanza.first_element();
  if (!payload) {
    refuse(stanza, Condition::bad_request, "an iq request needs a payload");
    return;
  }
  // Every service here is open before registration (XEP-0077 needs disco
  // and register; the rest tell about the gateway), so none checks it.
  const auto& xmlns = payload->xmlns();
  const bool get = type == "get";
  const bool admin = context_.access.admin(from);
  if (xmlns == xmpp::ns::disco_info && get) {
    send_(answer_disco_info(context_, stanza, admin));
  } else if (xmlns == xmpp::ns::disco_items && get) {
    send_(answer_disco_items(context_, stanza, admin));
  } else if (xmlns == xmpp::ns::version && get) {
    send_(answer_version(stanza));
  } else if (xmlns == xmpp::ns::ping && get) {
    send_(answer_ping(stanza));
  } else if (xmlns == xmpp::ns::register_ && payload->name() == "query") {
    spawn_(register_and_answer(stanza, from));
  } else if (xmlns == xmpp::ns::gateway && payload->name() == "query") {
    send_(answer_gateway(context_, stanza));
  } else if (xmlns == xmpp::ns::commands && !get && payload->name() == "command") {
    if (CommandService::is_adapter_command(context_.adapter, stanza)) {
      spawn_(CommandService::run_adapter_command(context_.adapter, stanza, from, admin, send_));
    } else {
      send_(commands_.execute(context_, stanza, from, admin));
    }
  } else {
    refuse(stanza, Condition::service_unavailable, {});
  }
}

Awaitable<void> Router::register_and_answer(Element request, xmpp::Jid from) {
  const auto reply = co_await answer_register(context_, request, from);
  send_(reply);
}

void Router::route_presence_to_domain(const Element& stanza, const xmpp::Jid& from) {
  const auto type = stanza.attr_or("type");
  const auto now = ActivityTracker::Clock::now();
  const auto& domain = context_.domain;
  if (type.empty() || type == "unavailable") {
    activity_.presence(from, domain.to_string(), type.empty(), now);
    context_.adapter.on_domain_presence(from, type.empty());
    return;
  }
  if (type == "subscribe") {
    // XEP-0100 section 4.1.1: the gateway accepts the user's subscription and
    // asks for one back so its availability shows in the roster.
    send_(xmpp::make_presence(domain, from.bare(), "subscribed"));
    send_(xmpp::make_presence(domain, from.bare(), "subscribe"));
    send_(xmpp::make_presence(domain, from.bare()));
    return;
  }
  if (type == "probe") {
    send_(xmpp::make_presence(domain, from));
  }
}

} // namespace trestle::gateway
