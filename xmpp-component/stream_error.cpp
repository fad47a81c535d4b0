#include "stream_error.hpp"

#include "namespaces.hpp"

#include <array>
#include <utility>

namespace trestle::xmpp {

namespace {

/// Condition names in enum order (RFC 6120 section 4.9.3).
constexpr std::array<std::pair<StreamCondition, std::string_view>, 25> condition_names{{
    {StreamCondition::bad_format, "bad-format"},
    {StreamCondition::bad_namespace_prefix, "bad-namespace-prefix"},
    {StreamCondition::conflict, "conflict"},
    {StreamCondition::connection_timeout, "connection-timeout"},
    {StreamCondition::host_gone, "host-gone"},
    {StreamCondition::host_unknown, "host-unknown"},
    {StreamCondition::improper_addressing, "improper-addressing"},
    {StreamCondition::internal_server_error, "internal-server-error"},
    {StreamCondition::invalid_from, "invalid-from"},
    {StreamCondition::invalid_namespace, "invalid-namespace"},
    {StreamCondition::invalid_xml, "invalid-xml"},
    {StreamCondition::not_authorized, "not-authorized"},
    {StreamCondition::not_well_formed, "not-well-formed"},
    {StreamCondition::policy_violation, "policy-violation"},
    {StreamCondition::remote_connection_failed, "remote-connection-failed"},
    {StreamCondition::reset, "reset"},
    {StreamCondition::resource_constraint, "resource-constraint"},
    {StreamCondition::restricted_xml, "restricted-xml"},
    {StreamCondition::see_other_host, "see-other-host"},
    {StreamCondition::system_shutdown, "system-shutdown"},
    {StreamCondition::undefined_condition, "undefined-condition"},
    {StreamCondition::unsupported_encoding, "unsupported-encoding"},
    {StreamCondition::unsupported_feature, "unsupported-feature"},
    {StreamCondition::unsupported_stanza_type, "unsupported-stanza-type"},
    {StreamCondition::unsupported_version, "unsupported-version"},
}};

} // namespace

std::string_view to_string(StreamCondition condition) {
  for (const auto& [value, name] : condition_names) {
    if (value == condition) {
      return name;
    }
  }
  return "undefined-condition";
}

std::optional<StreamCondition> stream_condition_from_string(std::string_view name) {
  for (const auto& [value, known] : condition_names) {
    if (known == name) {
      return value;
    }
  }
  return std::nullopt;
}

Element to_element(const StreamError& error) {
  Element element("error", std::string(ns::streams));
  element.append(std::string(to_string(error.condition)), std::string(ns::stream_errors));
  if (!error.text.empty()) {
    element.append("text", std::string(ns::stream_errors)).append_text(error.text);
  }
  return element;
}

StreamError stream_error_from_element(const Element& error) {
  StreamError result;
  bool have_condition = false;
  for (const auto& node : error.nodes()) {
    if (node.is_text() || node.xmlns() != ns::stream_errors) {
      continue;
    }
    if (node.name() == "text") {
      result.text = node.text();
    } else if (!have_condition) {
      // The first defined child is the condition (RFC 6120 section 4.9.2);
      // one this version does not know is still an error, just unnamed.
      result.condition =
          stream_condition_from_string(node.name()).value_or(StreamCondition::undefined_condition);
      have_condition = true;
    }
  }
  return result;
}

} // namespace trestle::xmpp
