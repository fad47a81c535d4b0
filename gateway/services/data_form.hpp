#pragma once

#include "element.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trestle::gateway {

/// One field of an XEP-0004 data form.
struct FormField {
  std::string var;
  /// `text-single`, `text-private`, `jid-single`, `list-single`, `fixed`, `hidden`, ...
  std::string type = "text-single";
  std::string label;
  std::string description;
  bool required = false;
  std::vector<std::string> values;
  /// (label, value) pairs of a list field.
  std::vector<std::pair<std::string, std::string>> options;
};

/// An XEP-0004 data form (`jabber:x:data`).
struct DataForm {
  /// `form`, `submit`, `result` or `cancel`.
  std::string type = "form";
  std::string title;
  std::string instructions;
  std::vector<FormField> fields;

  /// The first value of field `var`, or empty.
  std::string value(std::string_view var) const;
  /// Field `var`, or null.
  const FormField* field(std::string_view var) const;
  /// Adds a hidden FORM_TYPE field (XEP-0068) first.
  DataForm& with_form_type(std::string_view form_type);
  /// The `<x xmlns='jabber:x:data'/>` element.
  xmpp::Element to_element() const;
  /// Reads a form from an `<x xmlns='jabber:x:data'/>` element; nullopt if it is not one.
  static std::optional<DataForm> parse(const xmpp::Element& x);
};

/// The first `jabber:x:data` child of `parent`, parsed, if any.
std::optional<DataForm> find_form(const xmpp::Element& parent);

} // namespace trestle::gateway
