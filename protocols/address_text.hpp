#pragma once

// Small text helpers that the address codecs of every network share.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace trestle::protocols {

/// Stores `text` in `*error` when the caller asked for a reason; returns false
/// so that checks read `return fail(error, "...")`.
inline bool fail(std::string* error, std::string text) {
  if (error != nullptr) {
    *error = std::move(text);
  }
  return false;
}

/// nullopt-returning twin of fail() for the parse functions.
inline std::nullopt_t fail_parse(std::string* error, std::string text) {
  fail(error, std::move(text));
  return std::nullopt;
}

inline bool is_ascii_digit(char c) {
  return c >= '0' && c <= '9';
}

/// The value of a hex digit, or -1.
inline int hex_value(char c) {
  if (is_ascii_digit(c)) {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

inline bool is_ascii_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

inline char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

/// `bytes` read as Latin-1 (ISO-8859-1), in UTF-8: byte b is U+00b.
inline std::string latin1_to_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x80) {
      out += c;
    } else {
      // Two UTF-8 bytes, 110000xx 10xxxxxx.
      out += static_cast<char>(0xC0 | (byte >> 6));
      out += static_cast<char>(0x80 | (byte & 0x3F));
    }
  }
  return out;
}

/// Replaces every `placeholder` (such as `{name}`) in `text` with `value`.
inline void replace_all(std::string& text, std::string_view placeholder, std::string_view value) {
  for (auto at = text.find(placeholder); at != std::string::npos;
       at = text.find(placeholder, at + value.size())) {
    text.replace(at, placeholder.size(), value);
  }
}

/// The line of `text` that starts at `start` (without its LF; a CR before
/// it is kept), and moves `start` past it. Call while `start < text.size()`.
inline std::string_view next_line(std::string_view text, std::size_t& start) {
  auto end = text.find('\n', start);
  if (end == std::string_view::npos) {
    end = text.size();
  }
  const std::string_view line = text.substr(start, end - start);
  start = end + 1;
  return line;
}

/// `text` without leading and trailing spaces and tabs.
inline std::string_view trim_blanks(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

} // namespace trestle::protocols
