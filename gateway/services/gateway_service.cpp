#include "namespaces.hpp"
#include "services.hpp"
#include "stanza.hpp"

namespace trestle::gateway {

xmpp::Element answer_gateway(const ServiceContext& context, const xmpp::Element& request) {
  if (request.attr_or("type") == "get") {
    auto reply = xmpp::make_iq_result(request);
    auto& query = reply.append("query", std::string(xmpp::ns::gateway));
    query.append("desc").append_text(context.adapter.gateway_description());
    query.append("prompt").append_text(context.adapter.gateway_prompt());
    return reply;
  }
  const auto* query = request.first_element();
  const auto* prompt = query->find("prompt");
  if (!prompt || prompt->text().empty()) {
    return xmpp::make_error_reply(
        request, xmpp::make_stanza_error(xmpp::Condition::bad_request, "no <prompt/> given"));
  }
  xmpp::StanzaError error = xmpp::make_stanza_error(xmpp::Condition::jid_malformed);
  const auto jid = context.adapter.jid_for_address(prompt->text(), error);
  if (!jid) {
    return xmpp::make_error_reply(request, error);
  }
  auto reply = xmpp::make_iq_result(request);
  auto& answer = reply.append("query", std::string(xmpp::ns::gateway));
  // XEP-0100 section 6.3: <jid/> is the current form, <prompt/> the old one.
  answer.append("jid").append_text(jid->to_string());
  answer.append("prompt").append_text(jid->to_string());
  return reply;
}

} // namespace trestle::gateway
