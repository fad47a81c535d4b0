#include "irc_address.hpp"

#include "address_text.hpp"
#include "utf8.hpp"
#include "xep0106.hpp"

#include <cstddef>
#include <utility>

namespace trestle::irc {

namespace {

using protocols::ascii_lower;
using protocols::fail;
using protocols::fail_parse;
using protocols::is_ascii_digit;
using protocols::trim_blanks;

/// Longer than any IRC server's CHANNELLEN or NICKLEN, and short enough that
/// the escaped localpart stays within RFC 7622's 1023 bytes.
constexpr std::size_t max_name_bytes = 255;
/// RFC 1035 limit on a hostname's text form (without the trailing dot).
constexpr std::size_t max_host_bytes = 253;
constexpr std::size_t max_label_bytes = 63;

bool is_ascii_control(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte < 0x20 || byte == 0x7f;
}

/// Checks what channel names and nicknames share: length, encoding, no
/// blank or control character (CR, LF and NUL would split or end an IRC line).
bool check_name_bytes(std::string_view name, std::string_view what, std::string* error) {
  if (name.empty()) {
    return fail(error, "the " + std::string(what) + " is empty");
  }
  if (name.size() > max_name_bytes) {
    return fail(error, "the " + std::string(what) + " is longer than " +
                           std::to_string(max_name_bytes) + " bytes");
  }
  if (!xmpp::is_valid_utf8(name)) {
    return fail(error, "the " + std::string(what) + " is not valid UTF-8");
  }
  for (const char c : name) {
    if (c == ' ') {
      return fail(error, "the " + std::string(what) + " contains a space");
    }
    if (is_ascii_control(c)) {
      return fail(error, "the " + std::string(what) + " contains a control character");
    }
  }
  return true;
}

bool is_valid_ipv4(std::string_view text) {
  int parts = 0;
  std::size_t start = 0;
  while (true) {
    const auto dot = text.find('.', start);
    const auto part = text.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (part.empty() || part.size() > 3 || (part.size() > 1 && part[0] == '0')) {
      return false;
    }
    int value = 0;
    for (const char c : part) {
      if (!is_ascii_digit(c)) {
        return false;
      }
      value = value * 10 + (c - '0');
    }
    if (value > 255) {
      return false;
    }
    ++parts;
    if (dot == std::string_view::npos) {
      break;
    }
    start = dot + 1;
  }
  return parts == 4;
}

/// Checks one hostname label (letters, digits, inner hyphens).
bool check_label(std::string_view label, std::string* error) {
  if (label.empty()) {
    return fail(error, "it has an empty label (two dots in a row, or a leading dot)");
  }
  if (label.size() > max_label_bytes) {
    return fail(error, "a label is longer than 63 characters");
  }
  if (label.front() == '-' || label.back() == '-') {
    return fail(error, "a label starts or ends with '-'");
  }
  for (const char c : label) {
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!letter && !is_ascii_digit(c) && c != '-') {
      return fail(error, "it may contain only letters, digits, '-' and '.'");
    }
  }
  return true;
}

/// Splits `text` at the last '%' into name and server; nullopt without one.
std::optional<std::pair<std::string_view, std::string_view>>
split_at_last_percent(std::string_view text) {
  const auto percent = text.rfind('%');
  if (percent == std::string_view::npos) {
    return std::nullopt;
  }
  return std::pair{text.substr(0, percent), text.substr(percent + 1)};
}

/// A channel or user `name` on `server`, validated.
std::optional<IrcAddress> named_address(std::string_view name, std::string server,
                                        const AddressRules& rules, std::string* error) {
  if (!name.empty() && rules.channel_prefixes.find(name.front()) != std::string::npos) {
    if (!is_valid_channel_name(name, rules.channel_prefixes, error)) {
      return std::nullopt;
    }
    return IrcAddress{AddressKind::channel, std::string(name), std::move(server)};
  }
  if (!is_valid_nickname(name, rules.channel_prefixes, error)) {
    return std::nullopt;
  }
  return IrcAddress{AddressKind::user, std::string(name), std::move(server)};
}

/// Multi-server mode: `name%server` or `server`.
std::optional<IrcAddress> parse_multi_server(std::string_view text, const AddressRules& rules,
                                             std::string* error) {
  constexpr std::string_view expected =
      "expected #channel%irc.example.net, nick%irc.example.net or irc.example.net";
  if (text.empty()) {
    return fail_parse(error, "the address is empty; " + std::string(expected));
  }
  std::string reason;
  if (const auto parts = split_at_last_percent(text)) {
    const auto [name, server_text] = *parts;
    auto server = normalize_server_name(server_text, &reason);
    if (!server) {
      return fail_parse(error, "the part after '%' is not a valid IRC server name: " + reason);
    }
    if (name.empty()) {
      return fail_parse(error, "nothing comes before '%'; " + std::string(expected));
    }
    return named_address(name, std::move(*server), rules, error);
  }
  if (rules.channel_prefixes.find(text.front()) != std::string::npos) {
    return fail_parse(error, "a channel needs its server: write #channel%irc.example.net");
  }
  auto server = normalize_server_name(text, &reason);
  if (!server) {
    return fail_parse(error,
                      "not a valid IRC server name (" + reason + "); " + std::string(expected));
  }
  return IrcAddress{AddressKind::server, {}, std::move(*server)};
}

/// Fixed-server mode: `#chan`, `nick`, or the server's own name.
std::optional<IrcAddress> parse_fixed_server(std::string_view text, const AddressRules& rules,
                                             std::string* error) {
  if (text.empty()) {
    return fail_parse(error, "the address is empty; expected #channel or nick");
  }
  if (const auto server = normalize_server_name(text); server && *server == rules.fixed_server) {
    return IrcAddress{AddressKind::server, {}, rules.fixed_server};
  }
  const bool channel = rules.channel_prefixes.find(text.front()) != std::string::npos;
  if (!channel && text.find('%') != std::string_view::npos) {
    return fail_parse(error, "this gateway serves only " + rules.fixed_server +
                                 ": write the channel or nickname without '%server'");
  }
  return named_address(text, rules.fixed_server, rules, error);
}

std::optional<IrcAddress> parse_unescaped(std::string_view text, const AddressRules& rules,
                                          std::string* error) {
  if (rules.fixed_server.empty()) {
    return parse_multi_server(text, rules, error);
  }
  return parse_fixed_server(text, rules, error);
}

} // namespace

std::optional<std::string> normalize_server_name(std::string_view name, std::string* error) {
  if (!name.empty() && name.back() == '.') {
    name.remove_suffix(1);
  }
  if (name.empty()) {
    return fail_parse(error, "it is empty");
  }
  if (name.find(':') != std::string_view::npos) {
    return fail_parse(error, "IPv6 addresses are not supported; use a hostname");
  }
  if (name.size() > max_host_bytes) {
    return fail_parse(error, "it is longer than 253 characters");
  }
  const auto last_dot = name.rfind('.');
  const auto last_label = last_dot == std::string_view::npos ? name : name.substr(last_dot + 1);
  if (!last_label.empty() && is_ascii_digit(last_label.front()) &&
      last_label.find_first_not_of("0123456789") == std::string_view::npos) {
    // A numeric top label only makes sense in an IPv4 literal.
    if (!is_valid_ipv4(name)) {
      return fail_parse(error, "it is neither a hostname nor an IPv4 address");
    }
    return std::string(name);
  }
  std::size_t start = 0;
  while (true) {
    const auto dot = name.find('.', start);
    const auto label = name.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (!check_label(label, error)) {
      return std::nullopt;
    }
    if (dot == std::string_view::npos) {
      break;
    }
    start = dot + 1;
  }
  std::string lower(name);
  for (char& c : lower) {
    c = ascii_lower(c);
  }
  return lower;
}

bool is_valid_channel_name(std::string_view name, std::string_view prefixes, std::string* error) {
  if (name.empty() || prefixes.find(name.front()) == std::string_view::npos) {
    return fail(error, "a channel name starts with one of " + std::string(prefixes));
  }
  if (!check_name_bytes(name, "channel name", error)) {
    return false;
  }
  if (name.find(',') != std::string_view::npos) {
    // IRC separates channel lists with commas (JOIN #a,#b).
    return fail(error, "the channel name contains a comma");
  }
  return true;
}

bool is_valid_nickname(std::string_view nick, std::string_view prefixes, std::string* error) {
  if (!check_name_bytes(nick, "nickname", error)) {
    return false;
  }
  // ,*?! and @ delimit or match nick!user@host masks; % is a membership
  // prefix (halfop); . marks server names; : would start a trailing parameter.
  constexpr std::string_view forbidden = ",*?!@%.:";
  if (const auto bad = nick.find_first_of(forbidden); bad != std::string_view::npos) {
    return fail(error, "a nickname cannot contain '" + std::string(1, nick[bad]) + "'");
  }
  if (is_ascii_digit(nick.front())) {
    return fail(error, "a nickname cannot start with a digit");
  }
  if (nick.front() == '-') {
    return fail(error, "a nickname cannot start with '-'");
  }
  if (prefixes.find(nick.front()) != std::string_view::npos) {
    return fail(error,
                "a nickname cannot start with a channel prefix (" + std::string(prefixes) + ")");
  }
  return true;
}

std::optional<IrcAddress> parse_typed_address(std::string_view typed, const AddressRules& rules,
                                              std::string* error) {
  return parse_unescaped(trim_blanks(typed), rules, error);
}

std::optional<IrcAddress> parse_localpart(std::string_view localpart, const AddressRules& rules,
                                          std::string* error) {
  if (localpart.empty() && !rules.fixed_server.empty()) {
    return IrcAddress{AddressKind::server, {}, rules.fixed_server};
  }
  return parse_unescaped(xmpp::xep0106::unescape(localpart), rules, error);
}

std::string to_localpart(const IrcAddress& address, const AddressRules& rules) {
  if (!rules.fixed_server.empty()) {
    return address.kind == AddressKind::server ? std::string()
                                               : xmpp::xep0106::escape(address.name);
  }
  if (address.kind == AddressKind::server) {
    return xmpp::xep0106::escape(address.server);
  }
  return xmpp::xep0106::escape(address.name + '%' + address.server);
}

std::string to_typed(const IrcAddress& address, const AddressRules& rules) {
  if (address.kind == AddressKind::server) {
    return address.server;
  }
  if (!rules.fixed_server.empty()) {
    return address.name;
  }
  return address.name + '%' + address.server;
}

} // namespace trestle::irc
