#include "isupport.hpp"

#include "address_text.hpp"

namespace trestle::irc {

namespace {

using protocols::hex_value;
using protocols::is_ascii_digit;

/// NICKLEN and CHANNELLEN beyond this are nonsense; ignore them.
constexpr std::size_t max_length_value = 65535;

/// Undoes the `\xHH` escapes of an ISUPPORT value; other backslashes stay.
/// A control character (NUL, CR, LF, ...) has no business in a network name
/// or a list of prefixes, so it is dropped.
std::string unescape_value(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '\\' && i + 3 < raw.size() && raw[i + 1] == 'x' && hex_value(raw[i + 2]) >= 0 &&
        hex_value(raw[i + 3]) >= 0) {
      c = static_cast<char>(hex_value(raw[i + 2]) * 16 + hex_value(raw[i + 3]));
      i += 3;
    }
    if (static_cast<unsigned char>(c) >= 0x20 && c != '\x7f') {
      out += c;
    }
  }
  return out;
}

std::optional<std::size_t> parse_length(std::string_view value) {
  if (value.empty() || value.size() > 5) {
    return std::nullopt;
  }
  std::size_t number = 0;
  for (const char c : value) {
    if (!is_ascii_digit(c)) {
      return std::nullopt;
    }
    number = number * 10 + static_cast<std::size_t>(c - '0');
  }
  if (number == 0 || number > max_length_value) {
    return std::nullopt;
  }
  return number;
}

CaseMapping parse_case_mapping(std::string_view value) {
  if (value == "rfc1459") {
    return CaseMapping::rfc1459;
  }
  if (value == "strict-rfc1459") {
    return CaseMapping::strict_rfc1459;
  }
  if (value == "rfc7613") {
    return CaseMapping::rfc7613;
  }
  return CaseMapping::ascii;
}

} // namespace

ISupport::ISupport() : chantypes_(default_chantypes) {
  set_prefix(default_prefix);
}

void ISupport::feed(const std::vector<std::string>& params) {
  for (std::size_t i = 1; i + 1 < params.size(); ++i) {
    apply(params[i]);
  }
}

void ISupport::apply(std::string_view token) {
  if (token.empty() || token.find(' ') != std::string_view::npos) {
    return; // Not a token: a server that left out the trailing text.
  }
  const bool removal = token.front() == '-';
  if (removal) {
    token.remove_prefix(1);
  }
  const auto equals = token.find('=');
  const std::string key(token.substr(0, equals));
  if (key.empty()) {
    return;
  }
  const std::string value =
      equals == std::string_view::npos ? std::string() : unescape_value(token.substr(equals + 1));
  if (removal) {
    tokens_.erase(key);
  } else if (const auto found = tokens_.find(key); found != tokens_.end()) {
    found->second = value;
  } else if (tokens_.size() < max_tokens) {
    tokens_.emplace(key, value);
  }

  if (key == "CASEMAPPING") {
    case_mapping_ = removal ? default_case_mapping : parse_case_mapping(value);
  } else if (key == "CHANTYPES") {
    chantypes_ = removal ? std::string(default_chantypes) : value;
  } else if (key == "PREFIX") {
    set_prefix(removal ? default_prefix : std::string_view(value));
  } else if (key == "NICKLEN") {
    set_length(nick_length_, removal, value);
  } else if (key == "CHANNELLEN") {
    set_length(channel_length_, removal, value);
  } else if (key == "NETWORK") {
    network_ = removal ? std::string() : value;
  }
}

void ISupport::set_length(std::optional<std::size_t>& length, bool removal,
                          std::string_view value) {
  if (removal || value.empty()) {
    length.reset(); // Removed, or announced without a limit.
  } else if (const auto parsed = parse_length(value)) {
    length = parsed;
  }
}

void ISupport::set_prefix(std::string_view value) {
  if (value.empty()) {
    // "PREFIX=" announces that there are no membership prefixes.
    prefix_modes_.clear();
    prefix_symbols_.clear();
    return;
  }
  const auto close = value.find(')');
  if (value.front() != '(' || close == std::string_view::npos) {
    return;
  }
  const auto modes = value.substr(1, close - 1);
  const auto symbols = value.substr(close + 1);
  if (modes.size() != symbols.size()) {
    return;
  }
  prefix_modes_ = modes;
  prefix_symbols_ = symbols;
}

std::optional<std::string> ISupport::value(std::string_view key) const {
  if (const auto found = tokens_.find(key); found != tokens_.end()) {
    return found->second;
  }
  return std::nullopt;
}

char ISupport::fold_char(char c) const {
  if (c >= 'A' && c <= 'Z') {
    return static_cast<char>(c - 'A' + 'a');
  }
  if (case_mapping_ != CaseMapping::rfc1459 && case_mapping_ != CaseMapping::strict_rfc1459) {
    return c;
  }
  switch (c) {
  case '[':
    return '{';
  case ']':
    return '}';
  case '\\':
    return '|';
  case '~':
    return case_mapping_ == CaseMapping::rfc1459 ? '^' : c;
  default:
    return c;
  }
}

std::string ISupport::fold(std::string_view name) const {
  std::string out(name);
  for (char& c : out) {
    c = fold_char(c);
  }
  return out;
}

bool ISupport::equal(std::string_view a, std::string_view b) const {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (fold_char(a[i]) != fold_char(b[i])) {
      return false;
    }
  }
  return true;
}

bool ISupport::is_channel(std::string_view name) const {
  return !name.empty() && chantypes_.find(name.front()) != std::string::npos;
}

std::optional<std::pair<char, char>> ISupport::membership_by_mode(char mode) const {
  const auto at = prefix_modes_.find(mode);
  if (at == std::string::npos) {
    return std::nullopt;
  }
  return std::pair{prefix_modes_[at], prefix_symbols_[at]};
}

std::optional<std::pair<char, char>> ISupport::membership_by_prefix(char prefix) const {
  const auto at = prefix_symbols_.find(prefix);
  if (at == std::string::npos) {
    return std::nullopt;
  }
  return std::pair{prefix_modes_[at], prefix_symbols_[at]};
}

std::string_view ISupport::strip_prefixes(std::string_view nick_with_prefixes,
                                          std::string* prefixes_out) const {
  std::size_t count = 0;
  while (count < nick_with_prefixes.size() &&
         prefix_symbols_.find(nick_with_prefixes[count]) != std::string::npos) {
    ++count;
  }
  if (prefixes_out != nullptr) {
    prefixes_out->assign(nick_with_prefixes.substr(0, count));
  }
  return nick_with_prefixes.substr(count);
}

} // namespace trestle::irc
