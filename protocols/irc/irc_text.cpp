#include "irc_text.hpp"

#include "address_text.hpp"
#include "utf8.hpp"

#include <stdexcept>

namespace trestle::irc {

namespace {

using protocols::ascii_lower;
using protocols::is_ascii_digit;

constexpr char ctcp_delimiter = '\x01';
constexpr std::string_view ctcp_action = "ACTION";

bool is_hex_digit(char c) {
  return is_ascii_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/// Counts the digits at `text[at]`, at most `limit`.
std::size_t count_digits(std::string_view text, std::size_t at, std::size_t limit) {
  std::size_t count = 0;
  while (count < limit && at + count < text.size() && is_ascii_digit(text[at + count])) {
    ++count;
  }
  return count;
}

bool is_hex_colour_at(std::string_view text, std::size_t at) {
  if (text.size() < at + 6) {
    return false;
  }
  for (std::size_t k = 0; k < 6; ++k) {
    if (!is_hex_digit(text[at + k])) {
      return false;
    }
  }
  return true;
}

/// The index after the `fg[,bg]` digits that follow `\x03` at `at - 1`. A
/// comma without a foreground, or without a digit after it, is text
/// (ircdocs "Formatting", Colors).
std::size_t skip_colour(std::string_view text, std::size_t at) {
  const std::size_t fg = count_digits(text, at, 2);
  if (fg == 0) {
    return at;
  }
  at += fg;
  if (at < text.size() && text[at] == ',') {
    if (const std::size_t bg = count_digits(text, at + 1, 2); bg > 0) {
      at += 1 + bg;
    }
  }
  return at;
}

/// The index after the `RRGGBB[,RRGGBB]` that follows `\x04` at `at - 1`.
std::size_t skip_hex_colour(std::string_view text, std::size_t at) {
  if (!is_hex_colour_at(text, at)) {
    return at;
  }
  at += 6;
  if (at < text.size() && text[at] == ',' && is_hex_colour_at(text, at + 1)) {
    at += 7;
  }
  return at;
}

bool is_continuation_byte(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

/// Cuts one line into pieces of at most `max_bytes` (see split_for_irc()).
void split_line(std::string_view line, std::size_t max_bytes, std::vector<std::string>& pieces) {
  while (line.size() > max_bytes) {
    // A space right after the limit is as good a cut as one inside it.
    const auto space = line.substr(0, max_bytes + 1).rfind(' ');
    if (space != std::string_view::npos && space > 0) {
      pieces.emplace_back(line.substr(0, space));
      line.remove_prefix(space + 1);
      continue;
    }
    std::size_t cut = max_bytes;
    while (cut > 0 && is_continuation_byte(line[cut])) {
      --cut;
    }
    if (cut == 0) {
      cut = max_bytes; // Not UTF-8 here: any cut will do, as long as we advance.
    }
    pieces.emplace_back(line.substr(0, cut));
    line.remove_prefix(cut);
  }
  if (!line.empty()) {
    pieces.emplace_back(line);
  }
}

} // namespace

std::string to_utf8(std::string_view bytes) {
  if (xmpp::is_valid_utf8(bytes)) {
    return std::string(bytes);
  }
  return protocols::latin1_to_utf8(bytes);
}

std::string strip_formatting(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i++];
    switch (c) {
    case '\x02': // bold
    case '\x1d': // italics
    case '\x1f': // underline
    case '\x1e': // strikethrough
    case '\x11': // monospace
    case '\x16': // reverse
    case '\x0f': // reset
      break;
    case '\x03':
      i = skip_colour(text, i);
      break;
    case '\x04':
      i = skip_hex_colour(text, i);
      break;
    default:
      out += c;
    }
  }
  return out;
}

std::optional<std::string> ctcp_action_text(std::string_view privmsg_text) {
  if (privmsg_text.size() < 1 + ctcp_action.size() || privmsg_text.front() != ctcp_delimiter) {
    return std::nullopt;
  }
  for (std::size_t k = 0; k < ctcp_action.size(); ++k) {
    // CTCP commands are upper case by custom; some clients send lower case.
    if (ascii_lower(privmsg_text[1 + k]) != ascii_lower(ctcp_action[k])) {
      return std::nullopt;
    }
  }
  std::string_view rest = privmsg_text.substr(1 + ctcp_action.size());
  if (!rest.empty() && rest.back() == ctcp_delimiter) {
    rest.remove_suffix(1);
  }
  if (rest.empty()) {
    return std::string();
  }
  if (rest.front() != ' ') {
    return std::nullopt; // "ACTIONS", or another command that starts alike.
  }
  return std::string(rest.substr(1));
}

std::string make_ctcp_action(std::string_view text) {
  std::string out;
  out.reserve(text.size() + ctcp_action_overhead);
  out += ctcp_delimiter;
  out += ctcp_action;
  out += ' ';
  for (const char c : text) {
    if (c != ctcp_delimiter) {
      out += c;
    }
  }
  out += ctcp_delimiter;
  return out;
}

std::vector<std::string> split_for_irc(std::string_view text, std::size_t max_bytes) {
  if (max_bytes < min_split_bytes) {
    throw std::invalid_argument("split_for_irc: max_bytes below one UTF-8 character");
  }
  std::vector<std::string> pieces;
  while (!text.empty()) {
    const auto end = text.find_first_of("\r\n");
    split_line(text.substr(0, end), max_bytes, pieces);
    // CR LF leaves an empty line between CR and LF, dropped like any other.
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
  }
  return pieces;
}

std::size_t privmsg_budget(std::string_view nick, std::string_view user, std::string_view host,
                           std::string_view target) {
  constexpr std::size_t line_bytes = 512;
  constexpr std::string_view command = " PRIVMSG ";
  const std::size_t user_bytes = user.empty() ? unknown_user_bytes : user.size();
  const std::size_t host_bytes = host.empty() ? unknown_host_bytes : host.size();
  // ":" nick "!" user "@" host " PRIVMSG " target " :" ... CR LF
  const std::size_t overhead =
      1 + nick.size() + 1 + user_bytes + 1 + host_bytes + command.size() + target.size() + 2 + 2;
  return overhead >= line_bytes ? 0 : line_bytes - overhead;
}

} // namespace trestle::irc
