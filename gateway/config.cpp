#include "config.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

// Every error names its place as `source:line:column: key.path: message`, with
// 1-based line and column taken from yaml-cpp's (0-based) marks. List indices
// in key paths are 0-based, as in `yq`. Errors about the whole document (YAML
// syntax, size) have no key path. Values of keys named `secret` or `password`
// are never quoted back, and a value is never quoted after `${...}`
// substitution failed, because the value may be half a secret.

namespace trestle::gateway {
namespace {

/// Configuration files are small; the bound keeps a hostile or mistaken input
/// (a log file passed by accident) from costing seconds inside yaml-cpp.
constexpr std::size_t max_config_bytes = 1024 * 1024;

/// Nesting a configuration never needs; deeper input is refused before
/// yaml-cpp's recursive-descent parser sees it.
constexpr std::size_t max_nesting = 64;

/// An inclusive range a numeric setting must fall in.
struct Range {
  std::uint64_t min;
  std::uint64_t max;
};

constexpr Range port_range{1, 65535};
constexpr Range seconds_range{1, 86400};
constexpr Range bytes_range{1, 64 * 1024 * 1024};
constexpr Range count_range{1, 1000000};

/// Formats and throws errors for one source (file name or label).
class Context {
public:
  explicit Context(std::string_view source) : source_(source) {}

  /// `source:line:column: path: message`; a null mark reads as 1:1.
  std::string format(const YAML::Mark& mark, std::string_view path,
                     std::string_view message) const {
    const int line = mark.is_null() ? 1 : mark.line + 1;
    const int column = mark.is_null() ? 1 : mark.column + 1;
    std::string out = source_ + ':' + std::to_string(line) + ':' + std::to_string(column) + ": ";
    if (!path.empty()) {
      out.append(path).append(": ");
    }
    out.append(message);
    return out;
  }

  [[noreturn]] void fail(const YAML::Mark& mark, std::string_view path,
                         std::string_view message) const {
    throw ConfigError(format(mark, path, message));
  }

private:
  std::string source_;
};

/// A value quoted for a message: control characters escaped, long values cut.
std::string quoted(std::string_view value) {
  static constexpr char hex[] = "0123456789abcdef";
  constexpr std::size_t max_shown = 60;
  std::string out = "'";
  for (std::size_t i = 0; i < value.size() && i < max_shown; ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += value.size() > max_shown ? "...'" : "'";
  return out;
}

/// True for keys whose values must never appear in a message.
bool is_confidential(std::string_view key) {
  return key == "secret" || key == "password";
}

/// The value as it may be shown for `key`.
std::string shown(std::string_view key, std::string_view value) {
  return is_confidential(key) ? std::string("(value hidden)") : quoted(value);
}

std::string_view kind_of(const YAML::Node& node) {
  switch (node.Type()) {
  case YAML::NodeType::Map:
    return "a mapping";
  case YAML::NodeType::Sequence:
    return "a list";
  case YAML::NodeType::Scalar:
    return "a scalar";
  default:
    return "nothing";
  }
}

std::string join_keys(std::string_view parent, std::string_view key) {
  return parent.empty() ? std::string(key) : std::string(parent) + '.' + std::string(key);
}

std::string join_index(std::string_view parent, std::size_t index) {
  return std::string(parent) + '[' + std::to_string(index) + ']';
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

bool is_name_start(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

bool is_name_char(char c) {
  return is_name_start(c) || (c >= '0' && c <= '9');
}

/// One `key: value` pair of a mapping, with the key path of the value.
struct Entry {
  std::string key;
  std::string path;
  YAML::Node key_node;
  YAML::Node value;

  /// Where to point at the value; an empty value has no useful mark of its
  /// own (yaml-cpp gives the next token's), so the key is named instead.
  YAML::Mark mark() const { return value.IsNull() ? key_node.Mark() : value.Mark(); }
};

/// A mapping whose keys are checked against a fixed set: every key a plain
/// scalar, known and given once. A null node reads as an empty mapping, so
/// `storage:` with nothing under it means "all defaults".
class MapView {
public:
  MapView(const Context& ctx, const YAML::Node& node, const YAML::Mark& fallback, std::string path,
          std::initializer_list<std::string_view> allowed)
      : ctx_(ctx), mark_(node.IsNull() ? fallback : node.Mark()), path_(std::move(path)) {
    if (!node.IsNull() && !node.IsMap()) {
      ctx.fail(mark_, path_, "expected a mapping, got " + std::string(kind_of(node)));
    }
    if (node.IsNull()) {
      return;
    }
    // yaml-cpp's iterators yield pairs by value: copy the nodes out.
    for (const auto& pair : node) {
      const YAML::Node key = pair.first;
      if (!key.IsScalar()) {
        ctx.fail(key.Mark(), path_, "expected a key name, got " + std::string(kind_of(key)));
      }
      const std::string name = key.Scalar();
      if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
        ctx.fail(key.Mark(), join_keys(path_, name), unknown_key_message(name, allowed));
      }
      if (const Entry* first = find(name)) {
        ctx.fail(key.Mark(), first->path,
                 "duplicate key (first given at line " +
                     std::to_string(first->key_node.Mark().line + 1) + ")");
      }
      entries_.push_back(Entry{name, join_keys(path_, name), key, pair.second});
    }
  }

  const Context& ctx() const { return ctx_; }
  const std::string& path() const { return path_; }
  const YAML::Mark& mark() const { return mark_; }

  /// The entry for `key`, or null when it is not given.
  const Entry* find(std::string_view key) const {
    const auto it = std::find_if(entries_.begin(), entries_.end(),
                                 [&](const Entry& e) { return e.key == key; });
    return it == entries_.end() ? nullptr : &*it;
  }

  /// The entry for `key`; a missing key is reported at this mapping.
  const Entry& require(std::string_view key, std::string_view hint = {}) const {
    if (const Entry* entry = find(key)) {
      return *entry;
    }
    std::string message = "required key is missing";
    if (!hint.empty()) {
      message.append(" (").append(hint).append(")");
    }
    ctx_.fail(mark_, join_keys(path_, key), message);
  }

private:
  static std::string unknown_key_message(std::string_view name,
                                         std::initializer_list<std::string_view> allowed) {
    std::string message = "unknown key " + quoted(name);
    if (allowed.size() == 0) {
      return message + "; this section takes no keys";
    }
    const auto closest = std::min_element(allowed.begin(), allowed.end(), [&](auto a, auto b) {
      return edit_distance(name, a) < edit_distance(name, b);
    });
    if (closest != allowed.end() && edit_distance(name, *closest) <= 2) {
      message.append(" (did you mean '").append(*closest).append("'?)");
    }
    message += "; allowed keys: ";
    for (auto it = allowed.begin(); it != allowed.end(); ++it) {
      message.append(it == allowed.begin() ? "" : ", ").append(*it);
    }
    return message;
  }

  const Context& ctx_;
  YAML::Mark mark_;
  std::string path_;
  std::vector<Entry> entries_;
};

/// Replaces `${NAME}` with the environment variable NAME; `$${` stays a
/// literal `${`. Substituted text is not scanned again.
std::string substitute_env(const Context& ctx, const Entry& entry, std::string_view text,
                           const YAML::Mark& mark) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$') {
      out += text[i];
    } else if (text.substr(i, 3) == "$${") {
      out += "${";
      i += 2;
    } else if (text.substr(i, 2) == "${") {
      const std::size_t close = text.find('}', i + 2);
      const std::string_view name =
          close == std::string_view::npos ? std::string_view{} : text.substr(i + 2, close - i - 2);
      if (name.empty() || !is_name_start(name.front()) ||
          !std::all_of(name.begin(), name.end(), is_name_char)) {
        ctx.fail(mark, entry.path,
                 "bad variable reference: '${' must be followed by a name made of letters, digits "
                 "and '_' (not starting with a digit) and '}'; write '$${' for a literal '${'");
      }
      const std::string name_string(name);
      const char* value = std::getenv(name_string.c_str());
      if (value == nullptr) {
        ctx.fail(mark, entry.path, "environment variable " + name_string + " is not set");
      }
      out += value;
      i = close;
    } else {
      out += '$';
    }
  }
  return out;
}

/// The entry as a string, `${...}` substituted; an empty value reads as "".
std::string read_text(const Context& ctx, const Entry& entry, std::string_view expected) {
  if (entry.value.IsNull()) {
    return {};
  }
  if (!entry.value.IsScalar()) {
    ctx.fail(entry.mark(), entry.path,
             "expected " + std::string(expected) + ", got " + std::string(kind_of(entry.value)));
  }
  return substitute_env(ctx, entry, entry.value.Scalar(), entry.mark());
}

std::uint64_t read_unsigned(const Context& ctx, const Entry& entry, Range range) {
  const std::string bounds =
      "between " + std::to_string(range.min) + " and " + std::to_string(range.max);
  if (entry.value.IsNull()) {
    ctx.fail(entry.mark(), entry.path, "expected an integer " + bounds + ", got nothing");
  }
  const std::string text = read_text(ctx, entry, "an integer");
  const bool negative = text.size() > 1 && text.front() == '-';
  const std::string_view digits = std::string_view(text).substr(negative ? 1 : 0);
  if (digits.empty() ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    ctx.fail(entry.mark(), entry.path,
             "expected an integer " + bounds + ", got " + shown(entry.key, text));
  }
  if (negative) {
    ctx.fail(entry.mark(), entry.path, "must not be negative: expected an integer " + bounds);
  }
  std::uint64_t value = 0;
  bool overflow = false;
  for (const char c : digits) {
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) {
      overflow = true;
      break;
    }
    value = value * 10 + digit;
  }
  if (overflow || value < range.min || value > range.max) {
    ctx.fail(entry.mark(), entry.path, "out of range: expected an integer " + bounds);
  }
  return value;
}

/// Reads `key` into `out` when given, leaving the default otherwise.
template <typename T> void read_number(const MapView& map, std::string_view key, T& out, Range r) {
  static_assert(std::is_unsigned_v<T>);
  if (const Entry* entry = map.find(key)) {
    out = static_cast<T>(read_unsigned(map.ctx(), *entry, r));
  }
}

void read_bool(const MapView& map, std::string_view key, bool& out) {
  const Entry* entry = map.find(key);
  if (entry == nullptr) {
    return;
  }
  const std::string text =
      entry->value.IsNull() ? std::string{} : read_text(map.ctx(), *entry, "true or false");
  if (text == "true" || text == "True" || text == "TRUE") {
    out = true;
  } else if (text == "false" || text == "False" || text == "FALSE") {
    out = false;
  } else {
    map.ctx().fail(entry->mark(), entry->path,
                   "expected true or false, got " +
                       (entry->value.IsNull() ? std::string("nothing") : shown(key, text)));
  }
}

void read_string(const MapView& map, std::string_view key, std::string& out) {
  if (const Entry* entry = map.find(key)) {
    out = read_text(map.ctx(), *entry, "a string");
  }
}

/// Which characters a required string may hold besides printable ones.
enum class Spaces { refused, allowed };

/// Reads a string that must not be empty nor hold control characters (host
/// names, addresses, paths); spaces only where `spaces` allows them.
void read_required_text(const MapView& map, std::string_view key, std::string& out, Spaces spaces) {
  const Entry* entry = map.find(key);
  if (entry == nullptr) {
    return;
  }
  out = read_text(map.ctx(), *entry, "a string");
  if (out.empty()) {
    map.ctx().fail(entry->mark(), entry->path, "must not be empty");
  }
  const unsigned char lowest = spaces == Spaces::allowed ? 0x20 : 0x21;
  if (std::any_of(out.begin(), out.end(),
                  [&](unsigned char c) { return c < lowest || c == 0x7f; })) {
    map.ctx().fail(entry->mark(), entry->path,
                   std::string(spaces == Spaces::allowed ? "must not contain control characters: "
                                                         : "must not contain spaces or control "
                                                           "characters: ") +
                       shown(key, out));
  }
}

/// Why `domain` is not a plausible domain name, or empty when it is.
std::string domain_problem(std::string_view domain) {
  if (domain.empty()) {
    return "must not be empty";
  }
  if (domain.size() > 1023) {
    return "is longer than 1023 bytes";
  }
  if (domain.find_first_of("@/") != std::string_view::npos) {
    return "must be a bare domain, without '@' or '/'";
  }
  if (std::any_of(domain.begin(), domain.end(),
                  [](unsigned char c) { return c <= 0x20 || c == 0x7f; })) {
    return "must not contain spaces or control characters";
  }
  if (domain.front() == '.' || domain.back() == '.' ||
      domain.find("..") != std::string_view::npos) {
    return "has an empty label (a leading, trailing or doubled '.')";
  }
  return {};
}

/// True for `local@domain` with a plausible domain and no resource.
bool is_bare_jid(std::string_view jid) {
  const std::size_t at = jid.find('@');
  if (at == 0 || at == std::string_view::npos || at > 1023) {
    return false;
  }
  const std::string_view local = jid.substr(0, at);
  return std::none_of(local.begin(), local.end(),
                      [](unsigned char c) { return c <= 0x20 || c == 0x7f || c == '/'; }) &&
         domain_problem(jid.substr(at + 1)).empty();
}

/// Which entries an access list admits.
enum class AccessEntries { any, jids_only };

std::vector<std::string> read_access_list(const Context& ctx, const Entry& entry,
                                          AccessEntries kind, bool star_allowed) {
  std::vector<std::string> out;
  if (entry.value.IsNull()) {
    return out;
  }
  if (!entry.value.IsSequence()) {
    ctx.fail(entry.mark(), entry.path,
             "expected a list, got " + std::string(kind_of(entry.value)) +
                 " (write a single entry as ['*'] or [alice@example.org])");
  }
  for (std::size_t i = 0; i < entry.value.size(); ++i) {
    const Entry item{entry.key, join_index(entry.path, i), entry.key_node, entry.value[i]};
    const std::string text = read_text(ctx, item, "a string");
    const YAML::Mark mark = item.mark();
    if (text == "*") {
      if (!star_allowed) {
        ctx.fail(mark, item.path, "'*' is only meaningful in access.allow");
      }
    } else if (kind == AccessEntries::jids_only) {
      if (!is_bare_jid(text)) {
        ctx.fail(mark, item.path,
                 quoted(text) + " is not a bare JID (local@domain, without /resource)");
      }
    } else if (!is_bare_jid(text) && !domain_problem(text).empty()) {
      ctx.fail(mark, item.path,
               quoted(text) +
                   " is not '*', a domain or a bare JID (local@domain, without /resource)");
    }
    out.push_back(text);
  }
  return out;
}

XmlLimitsConfig parse_limits(const Context& ctx, const Entry& entry) {
  const MapView map(ctx, entry.value, entry.key_node.Mark(), entry.path,
                    {"max_stanza_bytes", "max_depth", "max_attributes"});
  XmlLimitsConfig limits;
  read_number(map, "max_stanza_bytes", limits.max_stanza_bytes, bytes_range);
  read_number(map, "max_depth", limits.max_depth, Range{1, 1000});
  read_number(map, "max_attributes", limits.max_attributes, Range{1, 10000});
  return limits;
}

XmppServerConfig parse_xmpp(const Context& ctx, const Entry& entry) {
  const MapView map(ctx, entry.value, entry.key_node.Mark(), entry.path,
                    {"host", "port", "keepalive_interval_seconds", "keepalive_timeout_seconds",
                     "connect_timeout_seconds", "reconnect_min_delay_seconds",
                     "reconnect_max_delay_seconds", "send_queue_limit", "send_queue_max_bytes",
                     "send_queue_high_water_bytes", "limits"});
  XmppServerConfig xmpp;
  read_required_text(map, "host", xmpp.host, Spaces::refused);
  read_number(map, "port", xmpp.port, port_range);
  read_number(map, "keepalive_interval_seconds", xmpp.keepalive_interval_seconds, seconds_range);
  read_number(map, "keepalive_timeout_seconds", xmpp.keepalive_timeout_seconds, seconds_range);
  read_number(map, "connect_timeout_seconds", xmpp.connect_timeout_seconds, seconds_range);
  read_number(map, "reconnect_min_delay_seconds", xmpp.reconnect_min_delay_seconds, seconds_range);
  read_number(map, "reconnect_max_delay_seconds", xmpp.reconnect_max_delay_seconds, seconds_range);
  read_number(map, "send_queue_limit", xmpp.send_queue_limit, count_range);
  read_number(map, "send_queue_max_bytes", xmpp.send_queue_max_bytes,
              Range{64 * 1024, 4ULL * 1024 * 1024 * 1024});
  if (const Entry* high = map.find("send_queue_high_water_bytes")) {
    read_number(map, "send_queue_high_water_bytes", xmpp.send_queue_high_water_bytes,
                Range{0, 4ULL * 1024 * 1024 * 1024});
    if (xmpp.send_queue_high_water_bytes >= xmpp.send_queue_max_bytes) {
      ctx.fail(high->mark(), high->path,
               "must be below send_queue_max_bytes (" + std::to_string(xmpp.send_queue_max_bytes) +
                   "), or the queue refuses stanzas before the readers pause; got " +
                   std::to_string(xmpp.send_queue_high_water_bytes));
    }
  } else {
    // The default follows a small byte bound down.
    xmpp.send_queue_high_water_bytes =
        std::min(xmpp.send_queue_high_water_bytes, xmpp.send_queue_max_bytes / 2);
  }
  if (const Entry* limits = map.find("limits")) {
    xmpp.limits = parse_limits(ctx, *limits);
  }
  if (xmpp.reconnect_min_delay_seconds > xmpp.reconnect_max_delay_seconds) {
    const std::string min = std::to_string(xmpp.reconnect_min_delay_seconds);
    const std::string max = std::to_string(xmpp.reconnect_max_delay_seconds);
    if (const Entry* given_max = map.find("reconnect_max_delay_seconds")) {
      ctx.fail(given_max->mark(), given_max->path,
               "must be at least reconnect_min_delay_seconds (" + min + "), got " + max);
    }
    const Entry& given_min = map.require("reconnect_min_delay_seconds");
    ctx.fail(given_min.mark(), given_min.path,
             "must not exceed reconnect_max_delay_seconds (" + max + ", the default), got " + min);
  }
  return xmpp;
}

/// The adapter names and their default display names.
struct AdapterInfo {
  std::string_view adapter;
  std::string_view default_name;
};

constexpr AdapterInfo adapters[] = {
    {"irc", "IRC gateway"},
    {"smtp", "Email gateway"},
    {"sms", "SMS gateway"},
};

/// Fails unless the adapter-specific `section` may appear on `adapter`.
void check_section(const MapView& map, std::string_view section, std::string_view adapter) {
  if (const Entry* entry = map.find(section); entry != nullptr && adapter != section) {
    map.ctx().fail(entry->key_node.Mark(), entry->path,
                   "an '" + std::string(section) +
                       "' section is only allowed on a component with "
                       "adapter: " +
                       std::string(section) + " (this one is '" + std::string(adapter) + "')");
  }
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  });
  return out;
}

/// Reads a list of server-name patterns (`*` and `?` wildcards).
std::vector<std::string> read_server_patterns(const Context& ctx, const Entry& entry) {
  std::vector<std::string> out;
  if (entry.value.IsNull()) {
    return out;
  }
  if (!entry.value.IsSequence()) {
    ctx.fail(entry.mark(), entry.path,
             "expected a list of server name patterns, got " + std::string(kind_of(entry.value)) +
                 " (write a single entry as ['*.libera.chat'])");
  }
  for (std::size_t i = 0; i < entry.value.size(); ++i) {
    const Entry item{entry.key, join_index(entry.path, i), entry.key_node, entry.value[i]};
    std::string text = lowercase(read_text(ctx, item, "a string"));
    if (text.empty() || std::any_of(text.begin(), text.end(), [](unsigned char c) {
          return c <= 0x20 || c == 0x7f || c == '@' || c == '/';
        })) {
      ctx.fail(item.mark(), item.path,
               quoted(text) + " is not a server name pattern (a host name with * and ?)");
    }
    out.push_back(std::move(text));
  }
  return out;
}

/// Reads the keys of one IRC server over `base` (the defaults).
IrcServerSettings parse_irc_server(const Context& ctx, const Entry& entry,
                                   const IrcServerSettings& base, bool with_host) {
  static const std::initializer_list<std::string_view> defaults_keys = {
      "port",
      "tls",
      "verify_certificate",
      "ca_file",
      "password",
      "flood_burst",
      "flood_lines_per_second",
      "connect_timeout_seconds",
      "reconnect_min_delay_seconds",
      "reconnect_max_delay_seconds"};
  static const std::initializer_list<std::string_view> server_keys = {
      "host",
      "port",
      "tls",
      "verify_certificate",
      "ca_file",
      "password",
      "flood_burst",
      "flood_lines_per_second",
      "connect_timeout_seconds",
      "reconnect_min_delay_seconds",
      "reconnect_max_delay_seconds"};
  const MapView map(ctx, entry.value, entry.key_node.Mark(), entry.path,
                    with_host ? server_keys : defaults_keys);
  IrcServerSettings server = base;
  if (with_host) {
    const Entry& host = map.require("host", "the IRC server's host name, e.g. irc.libera.chat");
    server.host = lowercase(read_text(ctx, host, "a string"));
    if (!server.host.empty() && server.host.back() == '.') {
      server.host.pop_back();
    }
    if (const std::string problem = domain_problem(server.host); !problem.empty()) {
      ctx.fail(host.mark(), host.path, quoted(server.host) + ' ' + problem);
    }
  }
  read_number(map, "port", server.port, port_range);
  read_bool(map, "tls", server.tls);
  read_bool(map, "verify_certificate", server.verify_certificate);
  read_string(map, "ca_file", server.ca_file);
  read_string(map, "password", server.password);
  if (server.password.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
    const Entry& password = *map.find("password");
    ctx.fail(password.mark(), password.path, "must not contain line breaks");
  }
  read_number(map, "flood_burst", server.flood_burst, Range{1, 10000});
  read_number(map, "flood_lines_per_second", server.flood_lines_per_second, Range{0, 10000});
  read_number(map, "connect_timeout_seconds", server.connect_timeout_seconds, seconds_range);
  read_number(map, "reconnect_min_delay_seconds", server.reconnect_min_delay_seconds,
              seconds_range);
  read_number(map, "reconnect_max_delay_seconds", server.reconnect_max_delay_seconds,
              seconds_range);
  if (server.reconnect_max_delay_seconds < server.reconnect_min_delay_seconds) {
    ctx.fail(entry.mark(), entry.path,
             "reconnect_max_delay_seconds is smaller than reconnect_min_delay_seconds");
  }
  return server;
}

IrcSettings parse_irc(const Context& ctx, const Entry& entry) {
  const MapView map(ctx, entry.value, entry.key_node.Mark(), entry.path,
                    {"fixed_server", "allow_servers", "deny_servers", "max_connections_per_user",
                     "idle_timeout_seconds", "server_defaults", "servers"});
  IrcSettings irc;
  read_string(map, "fixed_server", irc.fixed_server);
  if (const Entry* fixed = map.find("fixed_server");
      fixed != nullptr && !irc.fixed_server.empty()) {
    if (const std::string problem = domain_problem(irc.fixed_server); !problem.empty()) {
      ctx.fail(fixed->mark(), fixed->path, quoted(irc.fixed_server) + ' ' + problem);
    }
  }
  if (const Entry* allow = map.find("allow_servers")) {
    irc.allow_servers = read_server_patterns(ctx, *allow);
  }
  if (const Entry* deny = map.find("deny_servers")) {
    irc.deny_servers = read_server_patterns(ctx, *deny);
  }
  read_number(map, "max_connections_per_user", irc.max_connections_per_user, Range{1, 1000});
  read_number(map, "idle_timeout_seconds", irc.idle_timeout_seconds, seconds_range);
  if (const Entry* defaults = map.find("server_defaults")) {
    irc.server_defaults = parse_irc_server(ctx, *defaults, IrcServerSettings{}, false);
  }
  if (const Entry* servers = map.find("servers"); servers != nullptr && !servers->value.IsNull()) {
    if (!servers->value.IsSequence()) {
      ctx.fail(servers->mark(), servers->path,
               "expected a list of servers, got " + std::string(kind_of(servers->value)));
    }
    for (std::size_t i = 0; i < servers->value.size(); ++i) {
      const Entry item{servers->key, join_index(servers->path, i), servers->key_node,
                       servers->value[i]};
      auto server = parse_irc_server(ctx, item, irc.server_defaults, true);
      for (const auto& earlier : irc.servers) {
        if (earlier.host == server.host) {
          ctx.fail(item.mark(), item.path, "server " + quoted(server.host) + " is listed twice");
        }
      }
      irc.servers.push_back(std::move(server));
    }
  }
  return irc;
}

ComponentConfig parse_component(const Context& ctx, const YAML::Node& node,
                                const YAML::Mark& fallback, const std::string& path) {
  if (!node.IsMap()) {
    ctx.fail(node.IsNull() ? fallback : node.Mark(), path,
             "expected a mapping (domain, secret, adapter, ...), got " +
                 std::string(kind_of(node)));
  }
  const MapView map(ctx, node, fallback, path,
                    {"domain", "secret", "adapter", "name", "irc", "smtp", "sms"});
  ComponentConfig component;

  const Entry& adapter = map.require("adapter", "one of irc, smtp, sms");
  component.adapter = read_text(ctx, adapter, "a string");
  const auto info =
      std::find_if(std::begin(adapters), std::end(adapters),
                   [&](const AdapterInfo& a) { return a.adapter == component.adapter; });
  if (info == std::end(adapters)) {
    ctx.fail(adapter.mark(), adapter.path,
             "unknown adapter " + quoted(component.adapter) + "; expected one of irc, smtp, sms");
  }

  const Entry& domain = map.require("domain", "the component's domain, e.g. irc.example.org");
  component.domain = read_text(ctx, domain, "a string");
  if (const std::string problem = domain_problem(component.domain); !problem.empty()) {
    ctx.fail(domain.mark(), domain.path,
             component.domain.empty() ? problem : quoted(component.domain) + ' ' + problem);
  }

  const Entry& secret = map.require("secret", "the shared secret set on the XMPP server");
  component.secret = read_text(ctx, secret, "a string");
  if (component.secret.empty()) {
    ctx.fail(secret.mark(), secret.path, "must not be empty");
  }

  read_string(map, "name", component.name);
  if (component.name.empty()) {
    component.name = std::string(info->default_name);
  }

  for (const std::string_view section : {"irc", "smtp", "sms"}) {
    check_section(map, section, component.adapter);
  }
  if (const Entry* irc = map.find("irc")) {
    component.irc = parse_irc(ctx, *irc);
  }
  if (const Entry* smtp = map.find("smtp")) {
    // No email settings exist yet; the section is checked so a typo is caught.
    (void)MapView(ctx, smtp->value, smtp->key_node.Mark(), smtp->path, {});
  }
  if (const Entry* sms = map.find("sms")) {
    const MapView sms_map(ctx, sms->value, sms->key_node.Mark(), sms->path, {"default_country"});
    read_string(sms_map, "default_country", component.sms.default_country);
    const std::string& country = component.sms.default_country;
    if (!country.empty() &&
        (country.size() > 3 || !std::all_of(country.begin(), country.end(),
                                            [](char c) { return c >= '0' && c <= '9'; }))) {
      const Entry& entry = *sms_map.find("default_country");
      ctx.fail(entry.mark(), entry.path,
               "expected a country calling code of 1 to 3 digits without '+' (e.g. '1', '44'), "
               "got " +
                   quoted(country));
    }
  }
  return component;
}

std::vector<ComponentConfig> parse_components(const Context& ctx, const Entry& entry) {
  if (!entry.value.IsSequence() || entry.value.size() == 0) {
    ctx.fail(entry.mark(), entry.path,
             "expected a non-empty list of components, got " +
                 std::string(entry.value.IsSequence() ? "an empty list" : kind_of(entry.value)));
  }
  std::vector<ComponentConfig> components;
  for (std::size_t i = 0; i < entry.value.size(); ++i) {
    const std::string path = join_index(entry.path, i);
    const YAML::Node item = entry.value[i];
    components.push_back(parse_component(ctx, item, entry.key_node.Mark(), path));
    const std::string domain = lowercase(components.back().domain);
    for (std::size_t j = 0; j + 1 < components.size(); ++j) {
      if (lowercase(components[j].domain) == domain) {
        const YAML::Node domain_node = item["domain"];
        ctx.fail(domain_node.Mark(), path + ".domain",
                 "duplicate domain " + quoted(components.back().domain) + " (also used by " +
                     join_index(entry.path, j) + ")");
      }
    }
  }
  return components;
}

AccessConfig parse_access(const Context& ctx, const MapView& root) {
  constexpr std::string_view hint = "list who may use the gateway: ['*'] allows everyone, [] only "
                                    "the admins, or give domains and bare JIDs";
  const Entry* entry = root.find("access");
  if (entry == nullptr) {
    ctx.fail(root.mark(), "access.allow", "required key is missing (" + std::string(hint) + ")");
  }
  const MapView map(ctx, entry->value, entry->key_node.Mark(), entry->path,
                    {"allow", "deny", "admins", "require_registration"});
  AccessConfig access;
  access.allow = read_access_list(ctx, map.require("allow", hint), AccessEntries::any, true);
  if (const Entry* deny = map.find("deny")) {
    access.deny = read_access_list(ctx, *deny, AccessEntries::any, false);
  }
  if (const Entry* admins = map.find("admins")) {
    access.admins = read_access_list(ctx, *admins, AccessEntries::jids_only, false);
  }
  read_bool(map, "require_registration", access.require_registration);
  return access;
}

HttpConfig parse_http(const Context& ctx, const Entry& entry) {
  const MapView map(
      ctx, entry.value, entry.key_node.Mark(), entry.path,
      {"enabled", "bind", "port", "max_body_bytes", "request_timeout_seconds", "max_connections"});
  HttpConfig http;
  read_bool(map, "enabled", http.enabled);
  read_required_text(map, "bind", http.bind, Spaces::refused);
  read_number(map, "port", http.port, Range{0, 65535});
  read_number(map, "max_body_bytes", http.max_body_bytes, bytes_range);
  read_number(map, "request_timeout_seconds", http.request_timeout_seconds, seconds_range);
  read_number(map, "max_connections", http.max_connections, count_range);
  return http;
}

Config parse_root(const Context& ctx, const YAML::Node& root) {
  if (!root.IsMap()) {
    ctx.fail(root.Mark(), "",
             "the configuration must be a mapping with keys xmpp, components, access, ...; got " +
                 std::string(kind_of(root)));
  }
  const MapView map(ctx, root, root.Mark(), "",
                    {"xmpp", "components", "storage", "http", "access", "logging"});
  Config config;
  config.xmpp = parse_xmpp(ctx, map.require("xmpp", "the XMPP server's component port; "
                                                    "'xmpp: {}' uses 127.0.0.1:5347"));
  config.components = parse_components(ctx, map.require("components"));
  if (const Entry* storage = map.find("storage")) {
    const MapView storage_map(ctx, storage->value, storage->key_node.Mark(), storage->path,
                              {"sqlite_path"});
    read_required_text(storage_map, "sqlite_path", config.storage.sqlite_path, Spaces::allowed);
  }
  if (const Entry* http = map.find("http")) {
    config.http = parse_http(ctx, *http);
  }
  config.access = parse_access(ctx, map);
  if (const Entry* logging = map.find("logging")) {
    const MapView logging_map(ctx, logging->value, logging->key_node.Mark(), logging->path,
                              {"level"});
    if (const Entry* level = logging_map.find("level")) {
      const std::string text = read_text(ctx, *level, "a string");
      const auto parsed = log_level_from_string(text);
      if (!parsed) {
        ctx.fail(level->mark(), level->path,
                 "unknown level " + quoted(text) + "; expected one of debug, info, warning, error");
      }
      config.logging.level = *parsed;
    }
  }
  return config;
}

/// Refuses flow nesting (`[`, `{`) deeper than `max_nesting` before
/// yaml-cpp's recursive parser sees it. Brackets inside quotes or comments count too: a false alarm
/// needs a configuration value with dozens of unbalanced brackets.
void check_nesting(const Context& ctx, std::string_view text) {
  std::size_t depth = 0;
  int line = 0;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
      line_start = i + 1;
    } else if (c == '[' || c == '{') {
      if (++depth > max_nesting) {
        YAML::Mark mark;
        mark.line = line;
        mark.column = static_cast<int>(i - line_start);
        ctx.fail(mark, "", "nesting deeper than " + std::to_string(max_nesting) + " levels");
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
}

/// Sees where documents start without building nodes, so the number of
/// documents can be checked with a bounded number of parser calls: some
/// malformed inputs make yaml-cpp 0.7 report empty documents without end,
/// which would hang `YAML::LoadAll`.
class DocumentStarts final : public YAML::EventHandler {
public:
  void OnDocumentStart(const YAML::Mark& mark) override { last_start_ = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  const YAML::Mark& last_start() const { return last_start_; }

private:
  YAML::Mark last_start_;
};

/// Fails unless `text` holds exactly one YAML document.
void check_single_document(const Context& ctx, const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStarts starts;
  if (!parser.HandleNextDocument(starts)) {
    ctx.fail(YAML::Mark::null_mark(), "", "the configuration is empty");
  }
  if (parser.HandleNextDocument(starts)) {
    ctx.fail(starts.last_start(), "", "only one YAML document is allowed");
  }
}

Config parse_text(const Context& ctx, std::string_view text) {
  if (text.size() > max_config_bytes) {
    ctx.fail(YAML::Mark::null_mark(), "",
             "the configuration is larger than " + std::to_string(max_config_bytes) + " bytes");
  }
  check_nesting(ctx, text);
  const std::string copy(text);
  check_single_document(ctx, copy);
  return parse_root(ctx, YAML::Load(copy));
}

} // namespace

Config load_config_text(std::string_view text, std::string_view source_name) {
  const Context ctx(source_name);
  // yaml-cpp reports syntax errors (and its own bugs) as exceptions; nothing
  // but ConfigError may leave this function.
  try {
    return parse_text(ctx, text);
  } catch (const ConfigError&) {
    throw;
  } catch (const YAML::Exception& e) {
    throw ConfigError(ctx.format(e.mark, "", "YAML syntax error: " + e.msg));
  } catch (const std::exception& e) {
    throw ConfigError(ctx.format(YAML::Mark::null_mark(), "",
                                 std::string("cannot load configuration: ") + e.what()));
  }
}

Config load_config_file(const std::string& path) {
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                             &std::fclose);
  if (!file) {
    throw ConfigError(path + ": cannot open configuration file: " + std::strerror(errno));
  }
  std::string text;
  char buffer[8192];
  while (text.size() <= max_config_bytes) {
    const std::size_t n = std::fread(buffer, 1, sizeof buffer, file.get());
    text.append(buffer, n);
    if (n < sizeof buffer) {
      break;
    }
  }
  if (std::ferror(file.get())) {
    throw ConfigError(path + ": cannot read configuration file: " + std::strerror(errno));
  }
  Config config = load_config_text(text, path);
  config.source_path = path;
  return config;
}

std::optional<LogLevel> log_level_from_string(std::string_view name) {
  if (name == "debug") {
    return LogLevel::debug;
  }
  if (name == "info") {
    return LogLevel::info;
  }
  if (name == "warning") {
    return LogLevel::warning;
  }
  if (name == "error") {
    return LogLevel::error;
  }
  return std::nullopt;
}

} // namespace trestle::gateway
