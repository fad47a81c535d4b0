#include "gmime_workarounds.hpp"

#include "base64.hpp"

#include <algorithm>
#include <gmime/gmime.h>
#include <iterator>
#include <vector>

namespace trestle::smtp::gmime {

namespace {

/// Longest header value merge_base64_words() looks at, and longest encoded
/// text it takes for one word: bounds its work on hostile headers.
constexpr std::size_t max_merged_value = 64 * 1024;
constexpr std::size_t max_word_text = 1000;
constexpr std::size_t max_charset = 64;
/// Boundaries bound_charset_labels() tells apart; past that, every line
/// that starts with "--" is taken for one.
constexpr std::size_t max_boundaries = 64;

/// One `=?charset?encoding?text?=` (RFC 2047 section 2) in a header value.
struct EncodedWord {
  std::size_t begin;
  std::size_t end;
  std::string_view charset;
  char encoding;
  std::string_view text;
};

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::optional<EncodedWord> encoded_word_at(std::string_view raw, std::size_t at) {
  if (raw.substr(at, 2) != "=?") {
    return std::nullopt;
  }
  const auto charset_end = raw.substr(0, at + 2 + max_charset).find('?', at + 2);
  if (charset_end == std::string_view::npos || charset_end + 2 >= raw.size() ||
      raw[charset_end + 2] != '?') {
    return std::nullopt;
  }
  const std::size_t text_begin = charset_end + 3;
  std::size_t close = text_begin;
  while (close < raw.size() && close - text_begin <= max_word_text && !is_blank(raw[close]) &&
         raw.substr(close, 2) != "?=") {
    ++close;
  }
  if (raw.substr(close, 2) != "?=") {
    return std::nullopt;
  }
  const std::string_view charset = raw.substr(at + 2, charset_end - at - 2);
  for (const char c : charset) {
    if (is_blank(c)) {
      return std::nullopt;
    }
  }
  const char encoding = raw[charset_end + 1] == 'b' ? 'B' : raw[charset_end + 1];
  return EncodedWord{at, close + 2, charset, encoding, raw.substr(text_begin, close - text_begin)};
}

bool same_charset(std::string_view a, std::string_view b) {
  return a.size() == b.size() && g_ascii_strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::string base64_decode(std::string_view text) {
  std::string out(text.size() / 4 * 3 + 3, '\0');
  int state = 0;
  guint32 save = 0;
  const std::size_t length = g_mime_encoding_base64_decode_step(
      reinterpret_cast<const unsigned char*>(text.data()), text.size(),
      reinterpret_cast<unsigned char*>(out.data()), &state, &save);
  out.resize(length);
  return out;
}

/// The charset labels kept by bound_charset_labels(), lowercase: the ones
/// mail software writes in practice.
bool is_listed_charset(std::string_view label) {
  static constexpr std::string_view listed[] = {
      "utf-8",          "utf8",        "us-ascii",  "ascii",    "latin1",         "koi8-r",
      "koi8-u",         "gb2312",      "gbk",       "gb18030",  "big5",           "big5-hkscs",
      "shift_jis",      "shift-jis",   "sjis",      "x-sjis",   "cp932",          "windows-31j",
      "euc-jp",         "iso-2022-jp", "euc-kr",    "cp949",    "ks_c_5601-1987", "iso-2022-kr",
      "tis-620",        "windows-874", "utf-16",    "utf-16le", "utf-16be",       "utf-7",
      "macintosh",      "x-mac-roman", "cp850",     "cp866",    "ibm866",         "iso-8859-8-i",
      "euc-tw",         "hz-gb-2312",  "x-gbk",     "cp936",    "ms936",          "unknown-8bit",
      "x-user-defined", "viscii",      "armscii-8", "cp437",    "ibm437"};
  if (std::find(std::begin(listed), std::end(listed), label) != std::end(listed)) {
    return true;
  }
  // iso-8859-1 to -16 (also spelt iso8859-N and iso_8859-N), windows-1250
  // to -1258 and cp1250 to cp1258.
  for (const std::string_view prefix : {"iso-8859-", "iso8859-", "iso_8859-"}) {
    if (label.starts_with(prefix)) {
      const std::string_view number = label.substr(prefix.size());
      return (number.size() == 1 && number[0] >= '1' && number[0] <= '9') ||
             (number.size() == 2 && number[0] == '1' && number[1] >= '0' && number[1] <= '6');
    }
  }
  for (const std::string_view prefix : {"windows-125", "cp125"}) {
    if (label.starts_with(prefix)) {
      const std::string_view digit = label.substr(prefix.size());
      return digit.size() == 1 && digit[0] >= '0' && digit[0] <= '8';
    }
  }
  return false;
}

/// Where the label at `text[at]` ends (at `stop`), or npos when there is no
/// `stop` within 64 characters or the label holds a blank.
std::size_t label_end(std::string_view text, std::size_t at, char stop) {
  for (std::size_t i = at; i < text.size() && i - at <= max_charset; ++i) {
    if (text[i] == stop) {
      return i;
    }
    if (is_blank(text[i]) || text[i] == '"' || text[i] == ';') {
      return std::string_view::npos;
    }
  }
  return std::string_view::npos;
}

/// Appends `line` to `out` with its unlisted labels replaced; true when one
/// was. RFC 2231 labels are looked for only in `parameters` lines (of a
/// Content-Type or Content-Disposition field).
bool bound_labels_in_line(std::string_view line, bool parameters, std::string& out) {
  bool replaced = false;
  std::size_t copied = 0;
  for (std::size_t i = 0; i + 1 < line.size(); ++i) {
    std::size_t begin = std::string_view::npos;
    std::size_t end = std::string_view::npos;
    if (line[i] == '=' && line[i + 1] == '?') {
      begin = i + 2;
      end = label_end(line, begin, '?');
      // The label must be followed by an encoding letter and '?'.
      if (end != std::string_view::npos &&
          (end + 2 >= line.size() || line[end + 2] != '?' ||
           std::string_view("BbQq").find(line[end + 1]) == std::string_view::npos)) {
        end = std::string_view::npos;
      }
    } else if (parameters && line[i] == '*' && line[i + 1] == '=') {
      begin = i + 2 < line.size() && line[i + 2] == '"' ? i + 3 : i + 2;
      end = label_end(line, begin, '\'');
    }
    if (end == std::string_view::npos || end == begin) {
      continue;
    }
    std::string label(line.substr(begin, end - begin));
    label = label.substr(0, label.find('*'));
    for (char& c : label) {
      c = g_ascii_tolower(c);
    }
    if (!is_listed_charset(label)) {
      out.append(line.substr(copied, begin - copied));
      out += "utf-8";
      copied = end;
      replaced = true;
    }
    i = end;
  }
  out.append(line.substr(copied));
  return replaced;
}

} // namespace

std::optional<std::string> bound_charset_labels(std::string_view message) {
  std::string out;
  bool replaced = false;
  // Where the scan is: in a header block, and if so in its Content-Type or
  // Content-Disposition field; what Content-Type said; the boundaries so far.
  bool header = true;
  bool content_type = false;
  bool disposition = false;
  bool message_next = false;
  std::vector<std::string> boundaries;
  std::size_t start = 0;
  while (start < message.size()) {
    auto end = message.find('\n', start);
    end = end == std::string_view::npos ? message.size() : end + 1;
    const std::string_view line = message.substr(start, end - start);
    start = end;
    if (!header) {
      header = line.starts_with("--") &&
               (boundaries.size() >= max_boundaries ||
                std::any_of(boundaries.begin(), boundaries.end(), [line](const std::string& b) {
                  return line.substr(2).starts_with(b);
                }));
      out.append(line);
      continue;
    }
    if (line == "\n" || line == "\r\n") {
      // An embedded message's own header block follows its part's.
      header = message_next;
      message_next = false;
      content_type = false;
      disposition = false;
      out.append(line);
      continue;
    }
    if (!line.empty() && !is_blank(line.front())) {
      content_type = g_ascii_strncasecmp(line.data(), "content-type:", 13) == 0;
      disposition = g_ascii_strncasecmp(line.data(), "content-disposition:", 20) == 0;
    }
    if (content_type) {
      std::string lower(line);
      for (char& c : lower) {
        c = g_ascii_tolower(c);
      }
      message_next = message_next || lower.find("message/rfc822") != std::string::npos ||
                     lower.find("message/global") != std::string::npos ||
                     lower.find("message/news") != std::string::npos;
      if (const auto at = lower.find("boundary=");
          at != std::string::npos && boundaries.size() < max_boundaries) {
        std::string_view value = line.substr(at + 9);
        const bool quoted = !value.empty() && value.front() == '"';
        value.remove_prefix(quoted ? 1 : 0);
        value = value.substr(0, value.find_first_of(quoted ? "\"\r\n" : "; \t\r\n"));
        if (!value.empty()) {
          boundaries.emplace_back(value);
        }
      }
    }
    replaced = bound_labels_in_line(line, content_type || disposition, out) || replaced;
  }
  if (!replaced) {
    return std::nullopt;
  }
  return out;
}

std::string merge_base64_words(std::string_view raw) {
  if (raw.size() > max_merged_value) {
    return std::string(raw);
  }
  std::string out;
  std::size_t copied = 0;
  std::size_t at = 0;
  while ((at = raw.find("=?", at)) != std::string_view::npos) {
    const auto first = encoded_word_at(raw, at);
    if (!first || first->encoding != 'B') {
      at += 2;
      continue;
    }
    std::vector<EncodedWord> run{*first};
    for (;;) {
      std::size_t next = run.back().end;
      while (next < raw.size() && is_blank(raw[next])) {
        ++next;
      }
      const auto word = encoded_word_at(raw, next);
      if (!word || word->encoding != 'B' || !same_charset(word->charset, first->charset)) {
        break;
      }
      run.push_back(*word);
    }
    at = run.back().end;
    bool padded_inside = false;
    for (std::size_t i = 0; i + 1 < run.size(); ++i) {
      padded_inside = padded_inside || run[i].text.find('=') != std::string_view::npos;
    }
    if (!padded_inside) {
      continue;
    }
    std::string bytes;
    for (const auto& word : run) {
      bytes += base64_decode(word.text);
    }
    out.append(raw.substr(copied, first->begin - copied));
    out += "=?";
    out += first->charset;
    out += "?B?";
    out += protocols::base64_encode(bytes);
    out += "?=";
    copied = at;
  }
  out.append(raw.substr(copied));
  return out;
}

} // namespace trestle::smtp::gmime
