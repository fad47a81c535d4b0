#pragma once

#include "element.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace trestle::xmpp {

/// Every stream error condition of RFC 6120 section 4.9.3.
enum class StreamCondition {
  bad_format,
  bad_namespace_prefix,
  conflict,
  connection_timeout,
  host_gone,
  host_unknown,
  improper_addressing,
  internal_server_error,
  invalid_from,
  invalid_namespace,
  invalid_xml,
  not_authorized,
  not_well_formed,
  policy_violation,
  remote_connection_failed,
  reset,
  resource_constraint,
  restricted_xml,
  see_other_host,
  system_shutdown,
  undefined_condition,
  unsupported_encoding,
  unsupported_feature,
  unsupported_stanza_type,
  unsupported_version,
};

/// A stream error: condition plus optional human-readable text.
struct StreamError {
  StreamCondition condition = StreamCondition::undefined_condition;
  std::string text;
};

/// The element name of `condition` (`not-well-formed`, ...).
std::string_view to_string(StreamCondition condition);
/// Parses an element name back to a condition.
std::optional<StreamCondition> stream_condition_from_string(std::string_view name);
/// `<stream:error>` as an element in the streams namespace.
Element to_element(const StreamError& error);
/// Reads a received `<stream:error>` element; unknown conditions map to undefined_condition.
StreamError stream_error_from_element(const Element& error);

} // namespace trestle::xmpp
