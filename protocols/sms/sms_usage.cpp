#include "sms_usage.hpp"

#include "data_form.hpp"
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

gateway::Awaitable<gateway::CommandAnswer> usage_report(gateway::AdapterContext& context,
                                                        const sms::SmsSettings& settings) {
  const std::string& component = context.domain().domain();
  auto& repositories = context.repositories();
  std::error_code ec;
  const auto now = gateway::unix_time_now();
  const auto usage = co_await repositories.usage().summary(component, now, ec);
  std::size_t held_count = 0;
  std::vector<gateway::HeldMessage> held;
  if (!ec) {
    held_count = co_await repositories.held().count(component, ec);
  }
  if (!ec) {
    held = co_await repositories.held().list(component, false, held_listed, ec);
  }
  if (ec) {
    co_return gateway::CommandAnswer{
        .error = xmpp::make_stanza_error(xmpp::Condition::internal_server_error,
                                         "the usage could not be read: " + ec.message())};
  }
  gateway::CommandAnswer answer;
  answer.note = std::to_string(usage.size()) + " users sent messages in the last day; limits: " +
                limit_text(settings.max_per_hour) + " per hour, " +
                limit_text(settings.max_per_day) + " per day. " + std::to_string(held_count) +
                " held messages.";
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
  answer.form = std::move(form);
  co_return answer;
}

} // namespace trestle::sms
