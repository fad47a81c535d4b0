#include "command_service.hpp"

#include "adapter.hpp"
#include "bridge.hpp"
#include "data_form.hpp"
#include "log.hpp"
#include "namespaces.hpp"
#include "random_hex.hpp"
#include "services.hpp"
#include "stanza.hpp"

#include <algorithm>
#include <array>

namespace trestle::gateway {
namespace {

using xmpp::Condition;
using xmpp::Element;

struct AdminCommand {
  std::string_view node;
  std::string_view name;
};

constexpr std::array<AdminCommand, 3> admin_commands = {{
    {"uptime", "Uptime and statistics"},
    {"users", "List active users"},
    {"disconnect-user", "Disconnect a user"},
}};

/// Sessions older than this are forgotten; more than max_sessions are refused.
constexpr auto session_lifetime = std::chrono::minutes(10);
constexpr std::size_t max_sessions = 256;

Element error_reply(const Element& request, Condition condition, std::string text = {}) {
  return xmpp::make_error_reply(request, xmpp::make_stanza_error(condition, std::move(text)));
}

Element& command_reply(Element& reply, std::string_view node, std::string_view session,
                       std::string_view status) {
  auto& command = reply.append("command", std::string(xmpp::ns::commands));
  command.set_attr("node", std::string(node));
  command.set_attr("sessionid", std::string(session));
  command.set_attr("status", std::string(status));
  return command;
}

std::string duration_text(std::chrono::steady_clock::duration elapsed) {
  const auto total = std::chrono::duration_cast<std::chrono::seconds>(elapsed).count();
  const auto days = total / 86400;
  const auto hours = (total % 86400) / 3600;
  const auto minutes = (total % 3600) / 60;
  const auto seconds = total % 60;
  return std::to_string(days) + "d " + std::to_string(hours) + "h " + std::to_string(minutes) +
         "m " + std::to_string(seconds) + "s";
}

Element run_uptime(const ServiceContext& context, const Element& request, std::string_view id) {
  auto reply = xmpp::make_iq_result(request);
  auto& command = command_reply(reply, "uptime", id, "completed");
  DataForm form;
  form.type = "result";
  form.title = "Uptime and statistics";
  FormField uptime;
  uptime.var = "uptime";
  uptime.label = "Uptime";
  uptime.values.push_back(duration_text(context.status.uptime()));
  form.fields.push_back(std::move(uptime));
  for (const auto& [label, value] : context.status.statistics()) {
    FormField field;
    field.var = label;
    field.label = label;
    field.values.push_back(value);
    form.fields.push_back(std::move(field));
  }
  command.append(form.to_element());
  return reply;
}

Element run_users(const ServiceContext& context, const Element& request, std::string_view id) {
  auto reply = xmpp::make_iq_result(request);
  auto& command = command_reply(reply, "users", id, "completed");
  const auto users = context.status.active_users();
  command.append("note")
      .set_attr("type", "info")
      .append_text(std::to_string(users.size()) + " active users");
  DataForm form;
  form.type = "result";
  form.title = "Active users";
  FormField list;
  list.var = "users";
  list.type = "jid-multi";
  list.label = "Users";
  list.values = users;
  form.fields.push_back(std::move(list));
  command.append(form.to_element());
  return reply;
}

} // namespace

bool CommandService::is_adapter_command(const Adapter& adapter, const Element& request) {
  const auto node = request.first_element()->attr_or("node");
  const auto own = adapter.domain_commands();
  return std::any_of(own.begin(), own.end(),
                     [&](const DomainCommand& command) { return command.node == node; });
}

Element CommandService::reply_of(const Element& request, const CommandAnswer& answer) {
  if (answer.error) {
    return xmpp::make_error_reply(request, *answer.error);
  }
  const xmpp::StanzaView view(request);
  const auto& asked = *request.first_element();
  return Bridge::command_reply(view.to().value(), view.from().value(), view.id(),
                               asked.attr_or("node"), asked.attr_or("sessionid"), answer);
}

Awaitable<void> CommandService::run_adapter_command(Adapter& adapter, Element request,
                                                    xmpp::Jid from, bool admin,
                                                    std::function<bool(const Element&)> send) {
  const auto& asked = *request.first_element();
  CommandRequest step{from, asked.attr_or("node"), asked.attr_or("action", "execute"),
                      asked.attr_or("sessionid"), find_form(asked)};
  const auto own = adapter.domain_commands();
  const auto command = std::find_if(
      own.begin(), own.end(), [&](const DomainCommand& known) { return known.node == step.node; });
  if (command == own.end() || (command->admin_only && !admin)) {
    send(error_reply(request, Condition::forbidden, "this command is for gateway admins"));
    co_return;
  }
  if (step.action == "cancel") {
    send(reply_of(request, CommandAnswer{.status = CommandAnswer::Status::canceled}));
    co_return;
  }
  const auto answer = co_await adapter.run_command(step);
  send(reply_of(request, answer));
}

std::vector<CommandService::Command> CommandService::commands(const Adapter& adapter, bool admin) {
  std::vector<Command> visible;
  for (auto& command : adapter.domain_commands()) {
    if (admin || !command.admin_only) {
      visible.push_back({std::move(command.node), std::move(command.name), command.admin_only});
    }
  }
  if (admin) {
    for (const auto& command : admin_commands) {
      visible.push_back({std::string(command.node), std::string(command.name), true});
    }
  }
  return visible;
}

bool CommandService::has_command(const Adapter& adapter, std::string_view node, bool admin) {
  const auto visible = commands(adapter, admin);
  return std::any_of(visible.begin(), visible.end(),
                     [&](const Command& command) { return command.node == node; });
}

std::string CommandService::command_name(const Adapter& adapter, std::string_view node) {
  for (const auto& command : commands(adapter, true)) {
    if (command.node == node) {
      return command.name;
    }
  }
  return {};
}

Element CommandService::execute(const ServiceContext& context, const Element& request,
                                const xmpp::Jid& from, bool admin) {
  const auto* command = request.first_element();
  const auto node = command->attr_or("node");
  const auto known = command_name(context.adapter, node);
  if (known.empty()) {
    return error_reply(request, Condition::item_not_found, "no such command");
  }
  if (!has_command(context.adapter, node, admin)) {
    return error_reply(request, Condition::forbidden, "this command is for gateway admins");
  }
  expire(Clock::now());
  const auto action = command->attr_or("action", "execute");
  const auto session_id = command->attr_or("sessionid");
  if (action == "cancel") {
    // Only the admin who opened a session may end it; for anyone else the
    // cancel is a no-op, as it is for a session that has already ended.
    if (const auto session = sessions_.find(session_id);
        session != sessions_.end() && session->second.owner == from.bare_string()) {
      sessions_.erase(session);
    }
    auto reply = xmpp::make_iq_result(request);
    command_reply(reply, node, session_id, "canceled");
    return reply;
  }
  context.log.info("commands", from.bare_string() + " runs " + node);
  if (node == "uptime") {
    return run_uptime(context, request, "uptime-" + std::to_string(++next_session_));
  }
  if (node == "users") {
    return run_users(context, request, "users-" + std::to_string(++next_session_));
  }
  return disconnect_user(context, request, *command, from);
}

Element CommandService::disconnect_user(const ServiceContext& context, const Element& request,
                                        const Element& command, const xmpp::Jid& from) {
  const auto session_id = command.attr_or("sessionid");
  if (session_id.empty()) {
    if (sessions_.size() >= max_sessions) {
      return error_reply(request, Condition::resource_constraint, "too many open commands");
    }
    const auto id = "disconnect-" + std::to_string(++next_session_);
    sessions_[id] = Session{"disconnect-user", from.bare_string(), Clock::now()};
    auto reply = xmpp::make_iq_result(request);
    auto& answer = command_reply(reply, "disconnect-user", id, "executing");
    answer.append("actions").set_attr("execute", "complete").append("complete");
    DataForm form;
    form.title = "Disconnect a user";
    form.instructions = "The user's legacy sessions on every gateway domain are closed.";
    FormField jid;
    jid.var = "jid";
    jid.type = "jid-single";
    jid.label = "User (bare JID)";
    jid.required = true;
    form.fields.push_back(std::move(jid));
    answer.append(form.to_element());
    return reply;
  }
  const auto session = sessions_.find(session_id);
  if (session == sessions_.end() || session->second.owner != from.bare_string() ||
      session->second.node != "disconnect-user") {
    return error_reply(request, Condition::bad_request, "unknown or expired session");
  }
  sessions_.erase(session);
  const auto form = find_form(command);
  const auto target = form ? xmpp::Jid::parse(form->value("jid")) : std::nullopt;
  if (!target) {
    return error_reply(request, Condition::bad_request, "give the user's JID in the 'jid' field");
  }
  const bool existed = context.status.disconnect_user(target->bare());
  context.log.info("commands", from.bare_string() + " disconnected " + target->bare_string());
  auto reply = xmpp::make_iq_result(request);
  command_reply(reply, "disconnect-user", session_id, "completed")
      .append("note")
      .set_attr("type", "info")
      .append_text(existed ? target->bare_string() + " was disconnected"
                           : target->bare_string() + " had no active session");
  return reply;
}

void CommandService::expire(Clock::time_point now) {
  std::erase_if(sessions_,
                [now](const auto& entry) { return now - entry.second.started > session_lifetime; });
}

} // namespace trestle::gateway
