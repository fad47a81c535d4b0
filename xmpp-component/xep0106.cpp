#include "xep0106.hpp"

#include <array>
#include <optional>

namespace trestle::xmpp::xep0106 {

namespace {

/// One row of the XEP-0106 section 3 tables: a character and its two
/// lowercase hex digits ("CASE IS SIGNIFICANT": `\2F` is not an escape).
struct Mapping {
  char raw;
  std::string_view code;
};

constexpr std::array<Mapping, 10> mappings{{
    {' ', "20"},
    {'"', "22"},
    {'&', "26"},
    {'\'', "27"},
    {'/', "2f"},
    {':', "3a"},
    {'<', "3c"},
    {'>', "3e"},
    {'@', "40"},
    {'\\', "5c"},
}};

/// The code for `c` if it must be escaped, else nullopt. The backslash is
/// handled by the caller, since it is escaped only in front of a code.
std::optional<std::string_view> code_for(char c) {
  for (const auto& mapping : mappings) {
    if (mapping.raw == c && c != '\\') {
      return mapping.code;
    }
  }
  return std::nullopt;
}

/// If `text[pos]` is a backslash followed by one of the ten codes, the
/// character it stands for; partial or unknown sequences give nullopt
/// (section 4.3: they are left alone).
std::optional<char> escape_at(std::string_view text, std::size_t pos) {
  if (text[pos] != '\\' || text.size() - pos < 3) {
    return std::nullopt;
  }
  const std::string_view code = text.substr(pos + 1, 2);
  for (const auto& mapping : mappings) {
    if (mapping.code == code) {
      return mapping.raw;
    }
  }
  return std::nullopt;
}

} // namespace

// Section 4.1 rule 6: `\20` must not start or end an escaped localpart, so
// leading and trailing spaces cannot be represented and are dropped (as
// RFC 2253, the model for this scheme, treats them as insignificant).
// A backslash is escaped only where it starts one of the ten codes (section
// 4.1 rule 7, section 4.3); everywhere else it stays as it is, which keeps
// unescape(escape(x)) equal to x for every x without outer spaces.
std::string escape(std::string_view unescaped) {
  const auto first = unescaped.find_first_not_of(' ');
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = unescaped.find_last_not_of(' ');
  const std::string_view text = unescaped.substr(first, last - first + 1);

  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\') {
      out += escape_at(text, i) ? "\\5c" : "\\";
    } else if (const auto code = code_for(c)) {
      out += '\\';
      out += *code;
    } else {
      out += c;
    }
  }
  return out;
}

std::string unescape(std::string_view escaped) {
  std::string out;
  out.reserve(escaped.size());
  for (std::size_t i = 0; i < escaped.size(); ++i) {
    if (const auto raw = escape_at(escaped, i)) {
      out += *raw;
      i += 2;
    } else {
      out += escaped[i];
    }
  }
  return out;
}

} // namespace trestle::xmpp::xep0106
