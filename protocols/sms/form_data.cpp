#include "form_data.hpp"

#include "address_text.hpp"
#include "utf8.hpp"

#include <algorithm>

namespace trestle::sms {

namespace {

using protocols::hex_value;

/// Decodes one name or value; false with the reason on a bad escape.
bool decode(std::string_view raw, std::string& out, std::size_t limit, std::string_view what,
            std::string* error) {
  out.clear();
  for (std::size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '+') {
      c = ' ';
    } else if (c == '%') {
      const int high = i + 2 < raw.size() ? hex_value(raw[i + 1]) : -1;
      const int low = i + 2 < raw.size() ? hex_value(raw[i + 2]) : -1;
      if (high < 0 || low < 0) {
        *error = "malformed %-escape in a " + std::string(what);
        return false;
      }
      c = static_cast<char>(high * 16 + low);
      i += 2;
    }
    if (out.size() == limit) {
      *error = std::string(what) + " longer than " + std::to_string(limit) + " bytes";
      return false;
    }
    out += c;
  }
  if (out.find('\0') != std::string::npos) {
    *error = "NUL in a " + std::string(what);
    return false;
  }
  if (!xmpp::is_valid_utf8(out)) {
    *error = std::string(what) + " is not valid UTF-8";
    return false;
  }
  return true;
}

} // namespace

std::optional<std::vector<FormField>> parse_form(std::string_view text, std::string* error,
                                                 const FormLimits& limits) {
  std::string ignored;
  std::string& reason = error != nullptr ? *error : ignored;
  std::vector<FormField> fields;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find('&', start), text.size());
    const std::string_view pair = text.substr(start, end - start);
    start = end + 1;
    if (pair.empty()) {
      continue;
    }
    if (fields.size() == limits.max_fields) {
      reason = "more than " + std::to_string(limits.max_fields) + " fields";
      return std::nullopt;
    }
    const std::size_t equals = std::min(pair.find('='), pair.size());
    FormField field;
    if (!decode(pair.substr(0, equals), field.name, limits.max_name_bytes, "field name", &reason) ||
        !decode(equals < pair.size() ? pair.substr(equals + 1) : std::string_view(), field.value,
                limits.max_value_bytes, "field value", &reason)) {
      return std::nullopt;
    }
    fields.push_back(std::move(field));
  }
  return fields;
}

std::optional<std::string_view> form_value(const std::vector<FormField>& fields,
                                           std::string_view name) {
  for (const auto& field : fields) {
    if (field.name == name) {
      return std::string_view(field.value);
    }
  }
  return std::nullopt;
}

std::string form_encode(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') ||
        (byte >= '0' && byte <= '9') || byte == '-' || byte == '.' || byte == '_' || byte == '~') {
      out += c;
    } else {
      out += '%';
      out += hex[byte >> 4];
      out += hex[byte & 0xf];
    }
  }
  return out;
}

} // namespace trestle::sms
