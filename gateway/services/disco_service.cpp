#include "command_service.hpp"
#include "data_form.hpp"
#include "namespaces.hpp"
#include "services.hpp"
#include "stanza.hpp"

namespace trestle::gateway {

namespace {

/// XEP-0157's FORM_TYPE, under which the border is stated in disco#info.
constexpr std::string_view serverinfo_form_type = "http://jabber.org/network/serverinfo";

} // namespace

std::vector<std::string> component_features() {
  return {
      std::string(xmpp::ns::disco_info), std::string(xmpp::ns::disco_items),
      std::string(xmpp::ns::version),    std::string(xmpp::ns::ping),
      std::string(xmpp::ns::register_),  std::string(xmpp::ns::gateway),
      std::string(xmpp::ns::commands),
  };
}

xmpp::Element border_form(const NetworkAbilities& abilities) {
  const std::string network(abilities.network);
  DataForm form;
  form.type = "result";
  form.with_form_type(serverinfo_form_type);
  // XEP-0068: fields that XEP-0157 does not register start with "x-".
  FormField border;
  border.var = "x-gateway-border";
  border.type = "text-multi";
  border.label = "Where XMPP's security ends";
  border.values = {
      "This is a gateway to " + network +
          ". Messages sent through it leave XMPP here: the gateway reads them to pass them on, "
          "and " +
          network + " carries them without end-to-end encryption.",
      "End-to-end encrypted messages (OMEMO, OpenPGP, OTR) cannot cross and are refused."};
  form.fields.push_back(std::move(border));
  FormField name;
  name.var = "x-gateway-network";
  name.label = "The network on the other side";
  name.values = {network};
  form.fields.push_back(std::move(name));
  return form.to_element();
}

xmpp::Element answer_disco_info(const ServiceContext& context, const xmpp::Element& request,
                                bool admin) {
  const auto* query = request.first_element();
  const auto node = query ? query->attr_or("node") : std::string();
  if (!node.empty() && node != xmpp::ns::commands &&
      !CommandService::has_command(context.adapter, node, admin)) {
    return xmpp::make_error_reply(request,
                                  xmpp::make_stanza_error(xmpp::Condition::item_not_found));
  }
  auto reply = xmpp::make_iq_result(request);
  auto& answer = reply.append("query", std::string(xmpp::ns::disco_info));
  if (!node.empty()) {
    answer.set_attr("node", node);
  }
  if (node == xmpp::ns::commands) {
    answer.append("identity")
        .set_attr("category", "automation")
        .set_attr("type", "command-list")
        .set_attr("name", "Commands");
    return reply;
  }
  if (!node.empty()) {
    answer.append("identity")
        .set_attr("category", "automation")
        .set_attr("type", "command-node")
        .set_attr("name", CommandService::command_name(context.adapter, node));
    answer.append("feature").set_attr("var", std::string(xmpp::ns::commands));
    answer.append("feature").set_attr("var", std::string(xmpp::ns::data_forms));
    return reply;
  }
  answer.append("identity")
      .set_attr("category", "gateway")
      .set_attr("type", std::string(context.adapter.identity_type()))
      .set_attr("name", context.component.name);
  for (const auto& feature : component_features()) {
    answer.append("feature").set_attr("var", feature);
  }
  answer.append(border_form(context.adapter.abilities()));
  return reply;
}

xmpp::Element answer_disco_items(const ServiceContext& context, const xmpp::Element& request,
                                 bool admin) {
  const auto* query = request.first_element();
  const auto node = query ? query->attr_or("node") : std::string();
  if (!node.empty() && node != xmpp::ns::commands) {
    return xmpp::make_error_reply(request,
                                  xmpp::make_stanza_error(xmpp::Condition::item_not_found));
  }
  auto reply = xmpp::make_iq_result(request);
  auto& answer = reply.append("query", std::string(xmpp::ns::disco_items));
  if (node.empty()) {
    return reply;
  }
  answer.set_attr("node", node);
  for (const auto& command : CommandService::commands(context.adapter, admin)) {
    answer.append("item")
        .set_attr("jid", context.domain.to_string())
        .set_attr("node", command.node)
        .set_attr("name", command.name);
  }
  return reply;
}

} // namespace trestle::gateway
