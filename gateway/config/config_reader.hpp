#pragma once

// The building blocks of the configuration reader, shared by the files that
// read its sections: every error names its place as
// `source:line:column: key.path: message`.

#include "config.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>
#include <yaml-cpp/yaml.h>

namespace trestle::gateway::config_detail {

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
std::string quoted(std::string_view value);
/// True for keys whose values must never appear in a message.
bool is_confidential(std::string_view key);
/// The value as it may be shown for `key`.
std::string shown(std::string_view key, std::string_view value);
/// "a mapping", "a list", "a scalar" or "nothing".
std::string_view kind_of(const YAML::Node& node);
/// `parent.key`, or `key` at the top.
std::string join_keys(std::string_view parent, std::string_view key);
/// `parent[index]`.
std::string join_index(std::string_view parent, std::size_t index);
/// Levenshtein distance, for "did you mean" hints.
std::size_t edit_distance(std::string_view a, std::string_view b);

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
      : MapView(ctx, node, fallback, std::move(path), std::vector<std::string_view>(allowed)) {}

  MapView(const Context& ctx, const YAML::Node& node, const YAML::Mark& fallback, std::string path,
          const std::vector<std::string_view>& allowed)
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
                                         const std::vector<std::string_view>& allowed) {
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
                           const YAML::Mark& mark);
/// The entry as a string, `${...}` substituted; an empty value reads as "".
std::string read_text(const Context& ctx, const Entry& entry, std::string_view expected);
/// The entry as an integer within `range`.
std::uint64_t read_unsigned(const Context& ctx, const Entry& entry, Range range);
/// Reads `key` as true or false when given, leaving the default otherwise.
void read_bool(const MapView& map, std::string_view key, bool& out);
/// Reads `key` as a string when given, leaving the default otherwise.
void read_string(const MapView& map, std::string_view key, std::string& out);

/// Reads `key` into `out` when given, leaving the default otherwise.
template <typename T> void read_number(const MapView& map, std::string_view key, T& out, Range r) {
  static_assert(std::is_unsigned_v<T>);
  if (const Entry* entry = map.find(key)) {
    out = static_cast<T>(read_unsigned(map.ctx(), *entry, r));
  }
}

/// Up to 30 days, for the age limit of queued messages.
constexpr Range retry_age_range{60, 30 * 86400};

/// Reads the outbox keys that networks with a queue share
/// (`retry_max_age_seconds`, `retry_min_delay_seconds`,
/// `retry_max_delay_seconds`, `max_queued`, `max_queued_per_user`) into
/// `settings`' fields of those names.
template <typename QueueSettings>
void read_queue_settings(const MapView& map, QueueSettings& settings) {
  read_number(map, "retry_max_age_seconds", settings.retry_max_age_seconds, retry_age_range);
  read_number(map, "retry_min_delay_seconds", settings.retry_min_delay_seconds, seconds_range);
  read_number(map, "retry_max_delay_seconds", settings.retry_max_delay_seconds, seconds_range);
  if (settings.retry_max_delay_seconds < settings.retry_min_delay_seconds) {
    map.ctx().fail(map.mark(), map.path(),
                   "retry_max_delay_seconds is smaller than retry_min_delay_seconds");
  }
  read_number(map, "max_queued", settings.max_queued, count_range);
  read_number(map, "max_queued_per_user", settings.max_queued_per_user, count_range);
}

/// Which characters a required string may hold besides printable ones.
enum class Spaces { refused, allowed };

/// Reads a string that must not be empty nor hold control characters (host
/// names, addresses, paths); spaces only where `spaces` allows them.
void read_required_text(const MapView& map, std::string_view key, std::string& out, Spaces spaces);
/// Why `domain` is not a plausible domain name, or empty when it is.
std::string domain_problem(std::string_view domain);
/// True for `local@domain` with a plausible domain and no resource.
bool is_bare_jid(std::string_view jid);
/// ASCII letters lowercased.
std::string lowercase(std::string_view text);

/// A network's NetworkConfigReader: `parse` reads its section into T (the
/// defaults when a component has none); `needs_http`, when given, tells
/// from them whether it takes webhooks.
template <typename T>
NetworkConfigReader section_reader(std::string adapter, std::string default_name,
                                   T (*parse)(const Context&, const Entry&),
                                   bool (*needs_http)(const T&) = nullptr) {
  return {std::move(adapter), std::move(default_name),
          [parse, needs_http](const Context& ctx, const Entry* entry) {
            T settings = entry != nullptr ? parse(ctx, *entry) : T{};
            NetworkSection section;
            section.needs_http = needs_http != nullptr && needs_http(settings);
            section.settings = std::make_shared<SettingsOf<T>>(std::move(settings));
            return section;
          }};
}

} // namespace trestle::gateway::config_detail
