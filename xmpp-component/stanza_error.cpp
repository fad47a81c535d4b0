#include "stanza_error.hpp"

#include "namespaces.hpp"

#include <array>

namespace trestle::xmpp {

namespace {

/// One defined condition: its element name and the type RFC 6120 section
/// 8.3.3 says it SHOULD carry. Where the RFC allows two types the first one
/// it names is used; undefined-condition allows any and gets cancel.
struct ConditionInfo {
  Condition condition;
  std::string_view name;
  ErrorType type;
};

constexpr std::array<ConditionInfo, 22> conditions{{
    {Condition::bad_request, "bad-request", ErrorType::modify},
    {Condition::conflict, "conflict", ErrorType::cancel},
    {Condition::feature_not_implemented, "feature-not-implemented", ErrorType::cancel},
    {Condition::forbidden, "forbidden", ErrorType::auth},
    {Condition::gone, "gone", ErrorType::cancel},
    {Condition::internal_server_error, "internal-server-error", ErrorType::cancel},
    {Condition::item_not_found, "item-not-found", ErrorType::cancel},
    {Condition::jid_malformed, "jid-malformed", ErrorType::modify},
    {Condition::not_acceptable, "not-acceptable", ErrorType::modify},
    {Condition::not_allowed, "not-allowed", ErrorType::cancel},
    {Condition::not_authorized, "not-authorized", ErrorType::auth},
    {Condition::policy_violation, "policy-violation", ErrorType::modify},
    {Condition::recipient_unavailable, "recipient-unavailable", ErrorType::wait},
    {Condition::redirect, "redirect", ErrorType::modify},
    {Condition::registration_required, "registration-required", ErrorType::auth},
    {Condition::remote_server_not_found, "remote-server-not-found", ErrorType::cancel},
    {Condition::remote_server_timeout, "remote-server-timeout", ErrorType::wait},
    {Condition::resource_constraint, "resource-constraint", ErrorType::wait},
    {Condition::service_unavailable, "service-unavailable", ErrorType::cancel},
    {Condition::subscription_required, "subscription-required", ErrorType::auth},
    {Condition::undefined_condition, "undefined-condition", ErrorType::cancel},
    {Condition::unexpected_request, "unexpected-request", ErrorType::wait},
}};

const ConditionInfo& info(Condition condition) {
  for (const auto& entry : conditions) {
    if (entry.condition == condition) {
      return entry;
    }
  }
  // Only reachable with a value cast from outside the enum.
  return conditions[20];
}

constexpr std::array<std::pair<ErrorType, std::string_view>, 5> type_names{{
    {ErrorType::auth, "auth"},
    {ErrorType::cancel, "cancel"},
    {ErrorType::continue_, "continue"},
    {ErrorType::modify, "modify"},
    {ErrorType::wait, "wait"},
}};

/// The stanza's own `<error/>` child: in the stanza's namespace (written
/// explicitly or inherited), not an application element that happens to be
/// called "error".
const Element* error_child(const Element& stanza) {
  for (const auto& node : stanza.nodes()) {
    if (node.is_text() || node.name() != "error") {
      continue;
    }
    if (node.xmlns().empty() || node.xmlns() == stanza.xmlns() || node.xmlns() == ns::component) {
      return &node;
    }
  }
  return nullptr;
}

/// The `<text/>` to report: one without xml:lang or in English if present
/// (RFC 6120 allows one per language), else the first.
const Element* text_child(const Element& error) {
  const auto texts = error.find_all("text", ns::stanza_errors);
  for (const Element* text : texts) {
    const auto lang = text->attr("xml:lang");
    if (!lang || *lang == "en" || lang->starts_with("en-")) {
      return text;
    }
  }
  return texts.empty() ? nullptr : texts.front();
}

} // namespace

StanzaError make_stanza_error(Condition condition, std::string text) {
  return StanzaError{condition, info(condition).type, std::move(text)};
}

std::string_view to_string(Condition condition) {
  return info(condition).name;
}

std::optional<Condition> condition_from_string(std::string_view name) {
  for (const auto& entry : conditions) {
    if (entry.name == name) {
      return entry.condition;
    }
  }
  return std::nullopt;
}

std::string_view to_string(ErrorType type) {
  for (const auto& [value, name] : type_names) {
    if (value == type) {
      return name;
    }
  }
  return "cancel";
}

std::optional<ErrorType> error_type_from_string(std::string_view name) {
  for (const auto& [value, text] : type_names) {
    if (text == name) {
      return value;
    }
  }
  return std::nullopt;
}

Element to_element(const StanzaError& error) {
  // No namespace on <error/>: it inherits the stanza's (RFC 6120 8.3.2).
  Element element("error");
  element.set_attr("type", std::string(to_string(error.type)));
  element.append(std::string(to_string(error.condition)), std::string(ns::stanza_errors));
  if (!error.text.empty()) {
    Element& text = element.append("text", std::string(ns::stanza_errors));
    text.set_attr("xml:lang", "en");
    text.append_text(error.text);
  }
  return element;
}

// Lenient on purpose: this reads errors other entities send. A missing or
// unknown condition becomes undefined-condition, a missing or unknown type
// the condition's usual one, rather than losing the error altogether.
std::optional<StanzaError> stanza_error_from(const Element& stanza) {
  if (stanza.attr_or("type") != "error") {
    return std::nullopt;
  }
  const Element* error = error_child(stanza);
  if (error == nullptr) {
    return std::nullopt;
  }
  Condition condition = Condition::undefined_condition;
  for (const auto& node : error->nodes()) {
    if (node.is_text() || node.xmlns() != ns::stanza_errors) {
      continue;
    }
    if (const auto known = condition_from_string(node.name())) {
      condition = *known;
      break;
    }
  }
  StanzaError result = make_stanza_error(condition);
  if (const auto type = error_type_from_string(error->attr_or("type"))) {
    result.type = *type;
  }
  if (const Element* text = text_child(*error)) {
    result.text = text->text();
  }
  return result;
}

} // namespace trestle::xmpp
