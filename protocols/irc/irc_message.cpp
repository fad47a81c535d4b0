#include "irc_message.hpp"

#include "address_text.hpp"

#include <algorithm>
#include <unordered_map>

namespace trestle::irc {

namespace {

using protocols::fail;
using protocols::fail_parse;
using protocols::is_ascii_digit;
using protocols::is_ascii_letter;

/// CR and LF end a line and NUL ends a C string on some servers: none may
/// appear inside any part of a message (RFC 1459 section 2.3.1).
bool has_line_breaker(std::string_view text) {
  // One pass; find_first_of would search the set once per character.
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

char ascii_upper(char c) {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

bool is_word_char(char c) {
  return is_ascii_letter(c) || is_ascii_digit(c) || c == '-';
}

/// RFC 1459: a command is letters, or a numeric reply of three digits.
bool is_valid_command(std::string_view command) {
  if (command.empty()) {
    return false;
  }
  if (is_numeric(command)) {
    return true;
  }
  for (const char c : command) {
    if (!is_ascii_letter(c)) {
      return false;
    }
  }
  return true;
}

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = ascii_upper(c);
  }
  return out;
}

std::string_view skip_spaces(std::string_view text) {
  const auto first = text.find_first_not_of(' ');
  return first == std::string_view::npos ? std::string_view{} : text.substr(first);
}

/// Splits off the first space-delimited word of `text`.
std::string_view take_word(std::string_view& text) {
  const auto space = text.find(' ');
  const auto word = text.substr(0, space);
  text = space == std::string_view::npos ? std::string_view{} : text.substr(space);
  return word;
}

/// Parses the tag part (between '@' and the first space). A repeated key
/// keeps its first position and its last value, so a serialized message
/// parses back equal.
std::vector<std::pair<std::string, std::string>> parse_tags(std::string_view raw) {
  std::vector<std::pair<std::string, std::string>> tags;
  std::unordered_map<std::string_view, std::size_t> seen;
  while (!raw.empty()) {
    const auto semicolon = raw.find(';');
    const auto item = raw.substr(0, semicolon);
    raw = semicolon == std::string_view::npos ? std::string_view{} : raw.substr(semicolon + 1);
    const auto equals = item.find('=');
    const auto key = item.substr(0, equals);
    if (!is_valid_tag_key(key)) {
      continue; // One server's odd tag must not cost us the message.
    }
    std::string value = equals == std::string_view::npos
                            ? std::string()
                            : unescape_tag_value(item.substr(equals + 1));
    if (const auto found = seen.find(key); found != seen.end()) {
      tags[found->second].second = std::move(value);
      continue;
    }
    seen.emplace(key, tags.size());
    tags.emplace_back(std::string(key), std::move(value));
  }
  return tags;
}

/// Parses the parameters after the command: runs of spaces separate them, a
/// ':' starts the trailing one, and the 15th takes the rest of the line.
std::vector<std::string> parse_params(std::string_view rest) {
  std::vector<std::string> params;
  while (true) {
    rest = skip_spaces(rest);
    if (rest.empty()) {
      break;
    }
    if (rest.front() == ':') {
      params.emplace_back(rest.substr(1));
      break;
    }
    if (params.size() + 1 == max_params) {
      // RFC 1459: "14( SPACE middle ) [ SPACE [ ":" ] trailing ]".
      params.emplace_back(rest.substr(0, rest.find_last_not_of(' ') + 1));
      break;
    }
    params.emplace_back(take_word(rest));
  }
  return params;
}

bool check_tags(const IrcMessage& message, std::string* error) {
  std::unordered_map<std::string_view, bool> seen;
  for (const auto& [key, value] : message.tags) {
    if (!is_valid_tag_key(key)) {
      return fail(error, "the tag key '" + key + "' is not [+][vendor/]name");
    }
    if (value.find('\0') != std::string::npos) {
      // CR and LF have escapes in a tag value; NUL has none.
      return fail(error, "the value of tag '" + key + "' contains NUL");
    }
    if (!seen.emplace(key, true).second) {
      return fail(error, "the tag '" + key + "' appears twice");
    }
  }
  return true;
}

bool check_params(const IrcMessage& message, std::string* error) {
  if (message.params.size() > max_params) {
    return fail(error, "more than " + std::to_string(max_params) + " parameters");
  }
  for (std::size_t i = 0; i < message.params.size(); ++i) {
    const std::string& param = message.params[i];
    const std::string which = "parameter " + std::to_string(i + 1);
    if (has_line_breaker(param)) {
      return fail(error, which + " contains CR, LF or NUL");
    }
    if (i + 1 == message.params.size()) {
      break;
    }
    if (param.empty()) {
      return fail(error, which + " is empty but not the last");
    }
    if (param.find(' ') != std::string::npos) {
      return fail(error, which + " contains a space but is not the last");
    }
    if (param.front() == ':') {
      return fail(error, which + " starts with ':' but is not the last");
    }
  }
  return true;
}

bool check_message(const IrcMessage& message, std::string* error) {
  if (!check_tags(message, error)) {
    return false;
  }
  if (has_line_breaker(message.source) || message.source.find(' ') != std::string::npos) {
    return fail(error, "the source contains a space, CR, LF or NUL");
  }
  if (!is_valid_command(message.command)) {
    return fail(error, "the command is neither letters nor a three-digit numeric");
  }
  return check_params(message, error);
}

std::string serialize_tags(const IrcMessage& message) {
  std::string out;
  if (message.tags.empty()) {
    return out;
  }
  out += '@';
  for (const auto& [key, value] : message.tags) {
    if (out.size() > 1) {
      out += ';';
    }
    out += key;
    if (!value.empty()) {
      // The empty value is written in its missing form (message-tags allows it).
      out += '=';
      out += escape_tag_value(value);
    }
  }
  out += ' ';
  return out;
}

std::string serialize_body(const IrcMessage& message) {
  std::string out;
  if (!message.source.empty()) {
    out += ':';
    out += message.source;
    out += ' ';
  }
  out += upper(message.command);
  for (std::size_t i = 0; i < message.params.size(); ++i) {
    const std::string& param = message.params[i];
    out += ' ';
    const bool last = i + 1 == message.params.size();
    if (last && (param.empty() || param.front() == ':' || param.find(' ') != std::string::npos)) {
      out += ':';
    }
    out += param;
  }
  return out;
}

} // namespace

bool is_numeric(std::string_view command) {
  return command.size() == 3 && is_ascii_digit(command[0]) && is_ascii_digit(command[1]) &&
         is_ascii_digit(command[2]);
}

bool is_client_only_tag(std::string_view key) {
  return !key.empty() && key.front() == '+';
}

bool is_valid_tag_key(std::string_view key) {
  if (is_client_only_tag(key)) {
    key.remove_prefix(1);
  }
  const auto slash = key.rfind('/');
  const auto name = slash == std::string_view::npos ? key : key.substr(slash + 1);
  if (name.empty()) {
    return false;
  }
  for (const char c : name) {
    if (!is_word_char(c)) {
      return false;
    }
  }
  if (slash == std::string_view::npos) {
    return true;
  }
  const auto vendor = key.substr(0, slash);
  if (vendor.empty()) {
    return false;
  }
  for (const char c : vendor) {
    if (!is_word_char(c) && c != '.') {
      return false;
    }
  }
  return true;
}

std::string_view source_nick(std::string_view source) {
  return source.substr(0, source.find_first_of("!@"));
}

std::string escape_tag_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    switch (c) {
    case ';':
      out += "\\:";
      break;
    case ' ':
      out += "\\s";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\n':
      out += "\\n";
      break;
    default:
      out += c;
    }
  }
  return out;
}

std::string unescape_tag_value(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '\\') {
      out += raw[i];
      continue;
    }
    if (++i == raw.size()) {
      break;
    }
    switch (raw[i]) {
    case ':':
      out += ';';
      break;
    case 's':
      out += ' ';
      break;
    case 'r':
      out += '\r';
      break;
    case 'n':
      out += '\n';
      break;
    default:
      out += raw[i]; // "\\" gives '\'; any other escaped character stands for itself.
    }
  }
  return out;
}

std::optional<IrcMessage> parse_line(std::string_view line, std::string* error) {
  if (has_line_breaker(line)) {
    return fail_parse(error, "the line contains CR, LF or NUL");
  }
  IrcMessage message;
  std::string_view rest = skip_spaces(line);
  if (!rest.empty() && rest.front() == '@') {
    const auto space = rest.find(' ');
    if (space == std::string_view::npos) {
      return fail_parse(error, "the line has tags but no command");
    }
    if (space + 1 > max_tags_bytes) {
      return fail_parse(error,
                        "the tags are longer than " + std::to_string(max_tags_bytes) + " bytes");
    }
    message.tags = parse_tags(rest.substr(1, space - 1));
    rest = skip_spaces(rest.substr(space));
  }
  if (rest.size() > max_received_bytes) {
    return fail_parse(error, "the line is longer than " + std::to_string(max_received_bytes) +
                                 " bytes after its tags");
  }
  if (!rest.empty() && rest.front() == ':') {
    rest.remove_prefix(1);
    message.source = take_word(rest);
    if (message.source.empty()) {
      return fail_parse(error, "the line has an empty source after ':'");
    }
    rest = skip_spaces(rest);
  }
  const auto command = take_word(rest);
  if (command.empty()) {
    return fail_parse(error, "the line has no command");
  }
  if (!is_valid_command(command)) {
    return fail_parse(error, "the command is neither letters nor a three-digit numeric");
  }
  message.command = upper(command);
  message.params = parse_params(rest);
  return message;
}

std::optional<std::string> serialize(const IrcMessage& message, std::string* error) {
  if (!check_message(message, error)) {
    return std::nullopt;
  }
  std::string tags = serialize_tags(message);
  if (tags.size() > max_sent_tags_bytes) {
    return fail_parse(error,
                      "the tags are longer than " + std::to_string(max_sent_tags_bytes) + " bytes");
  }
  const std::string body = serialize_body(message);
  if (body.size() > max_sent_bytes) {
    return fail_parse(error, "the line is longer than " + std::to_string(max_sent_bytes) +
                                 " bytes before CR LF");
  }
  return tags + body;
}

} // namespace trestle::irc
