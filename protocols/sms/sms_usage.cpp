#include "sms_usage.hpp"

#include "adapter.hpp"
#include "adapter_replies.hpp"
#include "data_form.hpp"
#include "namespaces.hpp"
#include "stanza.hpp"
#include "store.hpp"

#include <system_error>

namespace trestle::sms {

namespace {

/// Held messages listed at most.
constexpr std::size_t held_listed = 20;

std::string limit_text(std::size_t cap) {
  return cap == 0 ? "no limit" : std::to_string(cap);
}

} // namespace

xmpp::Element usage_report(const xmpp::Element& request, gateway::AdapterContext& context,
                           const gateway::SmsSettings& settings) {
  const std::string& component = context.domain().domain();
  auto& store = context.store();
  std::error_code ec;
  const auto usage = store.usage_summary(component, gateway::unix_time_now(), ec);
  const auto held_count = ec ? 0 : store.count_held(component, ec);
  const auto held = ec ? std::vector<gateway::HeldMessage>{}
                       : store.held_messages(component, false, held_listed, ec);
  if (ec) {
    return xmpp::make_error_reply(
        request, xmpp::make_stanza_error(xmpp::Condition::internal_server_error,
                                         "the usage could not be read: " + ec.message()));
  }
  auto reply = xmpp::make_iq_result(request);
  const auto* asked = request.first_element();
  auto& command = reply.append("command", std::string(xmpp::ns::commands));
  command.set_attr("node", asked != nullptr ? asked->attr_or("node") : "");
  command.set_attr("sessionid", gateway::random_hex(8));
  command.set_attr("status", "completed");
  command.append("note")
      .set_attr("type", "info")
      .append_text(std::to_string(usage.size()) + " users sent messages in the last day; limits: " +
                   limit_text(settings.max_per_hour) + " per hour, " +
                   limit_text(settings.max_per_day) + " per day. " + std::to_string(held_count) +
                   " held messages.");
  gateway::DataForm form;
  form.type = "result";
  form.title = "SMS usage";
  for (const auto& row : usage) {
    gateway::FormField field;
    field.var = "user:" + row.user;
    field.label = row.user;
    field.values.push_back(std::to_string(row.last_hour) + " in the last hour, " +
                           std::to_string(row.last_day) + " in the last day");
    form.fields.push_back(std::move(field));
  }
  for (const auto& message : held) {
    gateway::FormField field;
    field.var = "held:" + std::to_string(message.id);
    field.label =
        "Held " + std::to_string(message.id) + ": " + message.peer + " to " + message.recipient;
    field.type = "text-multi";
    field.values.push_back(message.body);
    form.fields.push_back(std::move(field));
  }
  command.append(form.to_element());
  return reply;
}

} // namespace trestle::sms
