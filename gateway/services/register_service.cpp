#include "data_form.hpp"
#include "log.hpp"
#include "namespaces.hpp"
#include "repositories.hpp"
#include "services.hpp"
#include "stanza.hpp"
#include "store.hpp"

#include <chrono>
#include <set>

namespace trestle::gateway {
namespace {

using xmpp::Condition;
using xmpp::Element;

/// Field names XEP-0077 defines as elements of jabber:iq:register.
bool is_legacy_field(std::string_view var) {
  static const std::set<std::string_view> names = {
      "username", "nick",  "password", "name",  "first", "last", "email", "address",
      "city",     "state", "zip",      "phone", "url",   "date", "misc",  "text"};
  return names.contains(var);
}

Element error_reply(const Element& request, Condition condition, std::string text = {}) {
  return xmpp::make_error_reply(request, xmpp::make_stanza_error(condition, std::move(text)));
}

Element registration_form(const ServiceContext& context,
                          const std::vector<RegistrationField>& fields,
                          const Registration* current) {
  auto reply_query = Element("query", std::string(xmpp::ns::register_));
  const auto instructions = context.adapter.registration_instructions();
  reply_query.append("instructions").append_text(instructions);
  if (current) {
    reply_query.append("registered");
  }
  DataForm form;
  form.title = "Registration with " + context.component.name;
  form.instructions = instructions;
  form.with_form_type(xmpp::ns::register_);
  for (const auto& field : fields) {
    std::string value;
    if (current && !field.secret) {
      if (const auto found = current->fields.find(field.var); found != current->fields.end()) {
        value = found->second;
      }
    }
    if (is_legacy_field(field.var)) {
      reply_query.append(field.var).append_text(value);
    }
    FormField form_field;
    form_field.var = field.var;
    form_field.type = field.secret            ? "text-private"
                      : field.options.empty() ? "text-single"
                                              : "list-single";
    for (const auto& option : field.options) {
      form_field.options.emplace_back(option, option);
    }
    form_field.label = field.label;
    form_field.description = field.description;
    form_field.required = field.required;
    if (!value.empty()) {
      form_field.values.push_back(value);
    }
    form.fields.push_back(std::move(form_field));
  }
  reply_query.append(form.to_element());
  return reply_query;
}

/// Values the user submitted, from a data form if there is one, else from
/// the legacy elements.
FieldValues submitted_values(const Element& query, const std::vector<RegistrationField>& fields) {
  FieldValues values;
  if (const auto form = find_form(query)) {
    for (const auto& field : fields) {
      if (const auto* submitted = form->field(field.var); submitted && !submitted->values.empty()) {
        values[field.var] = submitted->values.front();
      }
    }
    return values;
  }
  for (const auto& field : fields) {
    if (const auto* element = query.find(field.var)) {
      values[field.var] = element->text();
    }
  }
  return values;
}

Awaitable<Element> remove_registration(const ServiceContext& context, const Element& request,
                                       const xmpp::Jid& user) {
  std::error_code ec;
  const std::string bare = user.bare_string();
  const std::string component = context.domain.to_string();
  const bool existed = co_await context.repositories.registrations().remove(bare, component, ec);
  if (ec) {
    context.log.error("register", "store error removing a registration: " + ec.message());
    co_return error_reply(request, Condition::internal_server_error, "the gateway's store failed");
  }
  if (!existed) {
    co_return error_reply(request, Condition::registration_required, "you are not registered");
  }
  co_await context.adapter.on_unregistered(user);
  context.log.info("register", bare + " unregistered");
  co_return xmpp::make_iq_result(request);
}

} // namespace

Awaitable<Element> answer_register(const ServiceContext& context, const Element& request,
                                   const xmpp::Jid& from) {
  const auto* query = request.first_element();
  const auto user = from.bare();
  const std::string bare = user.bare_string();
  const std::string component = context.domain.to_string();
  auto& registrations = context.repositories.registrations();
  std::error_code ec;
  const auto current = co_await registrations.find(bare, component, ec);
  if (ec) {
    context.log.error("register", "store error reading a registration: " + ec.message());
    co_return error_reply(request, Condition::internal_server_error, "the gateway's store failed");
  }
  if (request.attr_or("type") == "get") {
    const auto fields = co_await context.adapter.registration_fields();
    auto reply = xmpp::make_iq_result(request);
    reply.append(registration_form(context, fields, current ? &*current : nullptr));
    co_return reply;
  }
  if (query->find("remove")) {
    co_return co_await remove_registration(context, request, user);
  }
  const auto fields = co_await context.adapter.registration_fields();
  auto values = submitted_values(*query, fields);
  for (const auto& field : fields) {
    auto value = values.find(field.var);
    // An empty secret on re-registration keeps the stored one, since the form
    // never shows secrets back.
    if (field.secret && current && (value == values.end() || value->second.empty())) {
      if (const auto old = current->fields.find(field.var); old != current->fields.end()) {
        values[field.var] = old->second;
        continue;
      }
    }
    if (field.required && (value == values.end() || value->second.empty())) {
      co_return error_reply(request, Condition::not_acceptable,
                            "the field '" + field.var + "' is required");
    }
  }
  if (auto refused = co_await context.adapter.validate_registration(user, values)) {
    co_return xmpp::make_error_reply(request, *refused);
  }
  Registration registration;
  registration.user = bare;
  registration.component = component;
  registration.fields = std::move(values);
  registration.updated_at = unix_time_now();
  co_await registrations.put(registration, ec);
  if (ec) {
    context.log.error("register", "store error saving a registration: " + ec.message());
    if (!current) {
      // Undo what validation took for the user (an SMS pool number), so
      // that it is not held for a registration that does not exist.
      co_await context.adapter.on_unregistered(user);
    }
    co_return error_reply(request, Condition::internal_server_error, "the gateway's store failed");
  }
  context.log.info("register", bare + (current ? " re-registered" : " registered"));
  co_return xmpp::make_iq_result(request);
}

} // namespace trestle::gateway
