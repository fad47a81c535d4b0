#include "adapter_replies.hpp"

#include "log.hpp"
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

} // namespace trestle::gateway
