#include "adapter_replies.hpp"

#include "log.hpp"
#include "namespaces.hpp"
#include "stanza.hpp"

#include <string>

namespace trestle::gateway {

void refuse(const xmpp::Element& stanza, AdapterContext& context, xmpp::Condition condition,
            std::string text) {
  const auto type = stanza.attr_or("type");
  if (type == "error" || type == "result" || type == "unavailable") {
    return;
  }
  context.send(xmpp::make_error_reply(stanza, xmpp::make_stanza_error(condition, std::move(text))));
}

void answer_not_available(const xmpp::Element& stanza, AdapterContext& context,
                          std::string_view text) {
  const xmpp::StanzaView view(stanza);
  const std::string type = view.type();
  if (type == "error") {
    return;
  }
  bool request = false;
  switch (view.kind()) {
  case xmpp::StanzaKind::message:
    request = stanza.find("body") != nullptr;
    break;
  case xmpp::StanzaKind::iq:
    request = view.is_iq_request();
    break;
  case xmpp::StanzaKind::presence:
    request = type.empty() || type == "subscribe";
    break;
  case xmpp::StanzaKind::other:
    break;
  }
  if (!request) {
    return;
  }
  const auto error =
      xmpp::make_stanza_error(xmpp::Condition::service_unavailable, std::string(text));
  if (!context.send(xmpp::make_error_reply(stanza, error))) {
    context.log().warning("component " + context.domain().to_string(),
                          "send queue full: dropped a service-unavailable reply");
  }
}

xmpp::Element message_error(const xmpp::Jid& from, const xmpp::Jid& to, std::string_view id,
                            const xmpp::StanzaError& error) {
  auto stanza = xmpp::make_message(from, to, "error");
  if (!id.empty()) {
    stanza.set_attr("id", std::string(id));
  }
  stanza.append(xmpp::to_element(error));
  return stanza;
}

xmpp::Element message_receipt(const xmpp::Jid& from, const xmpp::Jid& to, std::string_view id) {
  auto stanza = xmpp::make_message(from, to, {});
  stanza.set_attr("id", random_hex(8));
  stanza.append("received", std::string(xmpp::ns::receipts)).set_attr("id", std::string(id));
  return stanza;
}

void answer_contact_presence(const xmpp::Element& stanza, AdapterContext& context,
                             const xmpp::Jid& user, const xmpp::Jid& contact,
                             std::string_view status) {
  const auto type = stanza.attr_or("type");
  const auto bare = user.bare();
  const auto available = [&] {
    auto presence = xmpp::make_presence(contact, bare);
    presence.append("status").append_text(std::string(status));
    return presence;
  };
  if (type == "subscribe") {
    context.send(xmpp::make_presence(contact, bare, "subscribed"));
    context.send(available());
  } else if (type == "probe") {
    context.send(available());
  } else if (type == "unsubscribe") {
    context.send(xmpp::make_presence(contact, bare, "unsubscribed"));
  }
}

} // namespace trestle::gateway
