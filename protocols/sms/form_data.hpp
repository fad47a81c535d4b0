#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trestle::sms {

/// One `name=value` pair of a form body or query string, decoded.
struct FormField {
  std::string name;
  std::string value;

  friend bool operator==(const FormField&, const FormField&) = default;
};

/// Bounds on what a provider's webhook may send.
struct FormLimits {
  std::size_t max_fields = 256;
  std::size_t max_name_bytes = 256;
  std::size_t max_value_bytes = 64 * 1024;
};

/// Parses `application/x-www-form-urlencoded` text (a POST body, or a query
/// string without its `?`): pairs split at `&`, names from values at the
/// first `=`, `+` as a space, `%XX` escapes decoded. Fields keep their
/// order; repeated names are kept. Refused with a reason in `error`: a
/// malformed escape, a name or value that is not UTF-8 after decoding or
/// holds a NUL, and anything beyond the limits. Empty pairs (`a=1&&b=2`)
/// are skipped.
std::optional<std::vector<FormField>> parse_form(std::string_view text, std::string* error,
                                                 const FormLimits& limits = {});

/// The value of the first field called `name`, or nullopt.
std::optional<std::string_view> form_value(const std::vector<FormField>& fields,
                                           std::string_view name);

/// `text` percent-encoded for a form or query (unreserved characters kept,
/// space as `%20`).
std::string form_encode(std::string_view text);

} // namespace trestle::sms
