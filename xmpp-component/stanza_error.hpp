#pragma once

#include "element.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace trestle::xmpp {

/// Every stanza error condition of RFC 6120 section 8.3.3.
enum class Condition {
  bad_request,
  conflict,
  feature_not_implemented,
  forbidden,
  gone,
  internal_server_error,
  item_not_found,
  jid_malformed,
  not_acceptable,
  not_allowed,
  not_authorized,
  policy_violation,
  recipient_unavailable,
  redirect,
  registration_required,
  remote_server_not_found,
  remote_server_timeout,
  resource_constraint,
  service_unavailable,
  subscription_required,
  undefined_condition,
  unexpected_request,
};

/// The error type attribute (RFC 6120 section 8.3.2).
enum class ErrorType { auth, cancel, continue_, modify, wait };

/// A stanza error: condition, type and optional text.
struct StanzaError {
  Condition condition = Condition::undefined_condition;
  ErrorType type = ErrorType::cancel;
  std::string text;
};

/// A StanzaError with the type RFC 6120 recommends for `condition`.
StanzaError make_stanza_error(Condition condition, std::string text = {});
/// The element name of `condition` (`service-unavailable`, ...).
std::string_view to_string(Condition condition);
/// Parses an element name back to a condition.
std::optional<Condition> condition_from_string(std::string_view name);
/// `auth`, `cancel`, `continue`, `modify` or `wait`.
std::string_view to_string(ErrorType type);
/// Parses a type attribute value.
std::optional<ErrorType> error_type_from_string(std::string_view name);
/// The `<error/>` child element for `error`.
Element to_element(const StanzaError& error);
/// Reads the `<error/>` child of a stanza of type error, if any.
std::optional<StanzaError> stanza_error_from(const Element& stanza);

} // namespace trestle::xmpp
