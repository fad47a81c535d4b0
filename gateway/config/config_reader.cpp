#include "config_reader.hpp"

#include <limits>

namespace trestle::gateway::config_detail {

namespace {

bool is_name_start(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

bool is_name_char(char c) {
  return is_name_start(c) || (c >= '0' && c <= '9');
}

} // namespace

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

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  });
  return out;
}

} // namespace trestle::gateway::config_detail
