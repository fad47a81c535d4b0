#include "mime_charset.hpp"

#include "address_text.hpp"
#include "smtp_text.hpp"
#include "utf8.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <iconv.h>

namespace trestle::smtp {

namespace {

using protocols::ascii_lower;

constexpr std::string_view replacement = "\xEF\xBF\xBD";

/// At most this many notes per mail: a hostile mail can have hundreds of
/// broken parts, and one note per kind of trouble says enough.
constexpr std::size_t max_problems = 16;

void append_code_point(std::string& out, std::uint32_t code_point) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

/// windows-1252 (WHATWG's reading of ISO-8859-1 and US-ASCII too) to UTF-8:
/// Latin-1 except 0x80-0x9F, where the five unassigned bytes stay C1 controls.
std::string windows_1252(std::string_view bytes) {
  static constexpr std::array<std::uint16_t, 32> high = {
      0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
      0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
      0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 2);
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    append_code_point(out, byte >= 0x80 && byte < 0xA0 ? high[byte - 0x80] : byte);
  }
  return out;
}

/// `bytes` through iconv from `charset` to UTF-8; a byte iconv cannot read
/// becomes U+FFFD and sets `broken`.
std::string convert(iconv_t cd, std::string_view bytes, bool& broken) {
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 2);
  char* in = const_cast<char*>(bytes.data());
  std::size_t in_left = bytes.size();
  char buffer[4096];
  while (in_left > 0) {
    char* next = buffer;
    std::size_t room = sizeof buffer;
    const std::size_t result = iconv(cd, &in, &in_left, &next, &room);
    out.append(buffer, static_cast<std::size_t>(next - buffer));
    if (result == static_cast<std::size_t>(-1) && errno != E2BIG && in_left > 0) {
      // EILSEQ or EINVAL (a sequence cut off at the end): skip one byte.
      out += replacement;
      broken = true;
      ++in;
      --in_left;
    }
  }
  char* next = buffer;
  std::size_t room = sizeof buffer;
  iconv(cd, nullptr, nullptr, &next, &room);
  out.append(buffer, static_cast<std::size_t>(next - buffer));
  return out;
}

/// The iconv name for a MIME charset label that glibc spells differently or
/// that mail software uses for a superset (WHATWG Encoding, section 4.2).
std::string iconv_name(const std::string& label) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 10> aliases = {{
      {"gb2312", "GB18030"},
      {"gbk", "GB18030"},
      {"x-gbk", "GB18030"},
      {"ks_c_5601-1987", "CP949"},
      {"euc-kr", "CP949"},
      {"iso-8859-8-i", "ISO-8859-8"},
      {"x-sjis", "SHIFT_JIS"},
      {"shift-jis", "SHIFT_JIS"},
      {"windows-31j", "CP932"},
      {"x-mac-roman", "MACINTOSH"},
  }};
  for (const auto& [mime, iconv] : aliases) {
    if (label == mime) {
      return std::string(iconv);
    }
  }
  return label;
}

/// A charset label worth asking iconv about: short, and made of the
/// characters IANA names use.
bool plausible_label(std::string_view label) {
  return !label.empty() && label.size() <= 40 &&
         std::all_of(label.begin(), label.end(), [](char c) {
           return protocols::is_ascii_letter(c) || protocols::is_ascii_digit(c) || c == '-' ||
                  c == '_' || c == '.' || c == ':' || c == '+';
         });
}

/// Undeclared or unknown: UTF-8 if it is, else windows-1252.
std::string guess(std::string_view bytes, std::vector<std::string>& problems,
                  bool note_guess = true) {
  if (xmpp::is_valid_utf8(bytes)) {
    return clean_text(bytes);
  }
  if (note_guess) {
    add_problem(problems, "8-bit text without a charset, read as windows-1252");
  }
  return clean_text(windows_1252(bytes));
}

} // namespace

std::string clean_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x80) {
      if (byte == '\r') {
        out += '\n';
        i += (i + 1 < text.size() && text[i + 1] == '\n') ? 2 : 1;
        continue;
      }
      if (byte == '\n' || byte == '\t' || (byte >= 0x20 && byte != 0x7F)) {
        out += static_cast<char>(byte);
      }
      ++i;
      continue;
    }
    const std::size_t start = i;
    const auto code_point = xmpp::decode_utf8(text, i);
    if (!code_point || *code_point == 0xFFFE || *code_point == 0xFFFF) {
      out += replacement;
    } else {
      out.append(text.substr(start, i - start));
    }
  }
  return out;
}

std::size_t utf8_cut(std::string_view text, std::size_t limit) {
  if (limit >= text.size()) {
    return text.size();
  }
  std::size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  return cut;
}

std::string charset_to_utf8(std::string_view bytes, std::string_view charset,
                            std::vector<std::string>& problems) {
  std::string label(protocols::trim_blanks(charset));
  std::transform(label.begin(), label.end(), label.begin(), ascii_lower);
  if (label.empty()) {
    return guess(bytes, problems);
  }
  if (label == "utf-8" || label == "utf8") {
    if (!xmpp::is_valid_utf8(bytes)) {
      add_problem(problems, "invalid UTF-8 replaced");
    }
    return clean_text(bytes);
  }
  if (label == "us-ascii" || label == "ascii" || label == "ansi_x3.4-1968") {
    return guess(bytes, problems, false);
  }
  if (label == "iso-8859-1" || label == "iso8859-1" || label == "latin1" || label == "iso_8859-1" ||
      label == "windows-1252" || label == "cp1252") {
    return clean_text(windows_1252(bytes));
  }
  const iconv_t cd =
      plausible_label(label) ? iconv_open("UTF-8", iconv_name(label).c_str()) : iconv_t(-1);
  if (cd == iconv_t(-1)) {
    add_problem(problems, "unknown charset '" + printable(label, 40) + "'");
    return guess(bytes, problems, false);
  }
  bool broken = false;
  std::string out = convert(cd, bytes, broken);
  iconv_close(cd);
  if (broken) {
    add_problem(problems, "bytes not valid in charset '" + printable(label, 40) + "' replaced");
  }
  return clean_text(out);
}

void add_problem(std::vector<std::string>& problems, std::string text) {
  if (problems.size() < max_problems &&
      std::find(problems.begin(), problems.end(), text) == problems.end()) {
    problems.push_back(std::move(text));
  }
}

} // namespace trestle::smtp
