#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

/// The IRC line codec (sans-io): one line of the client protocol, with IRCv3
/// message tags, to and from its parts.
///
/// Grammar: RFC 1459 section 2.3.1 as the ircdocs "modern" document reads it
/// (one or more spaces between parts), plus IRCv3 message-tags
/// (https://ircv3.net/specs/extensions/message-tags).
namespace trestle::irc {

/// Bytes the tag part of a received line may take, '@' and the space after
/// it included. IRCv3 message-tags now caps it at 4607; earlier drafts said
/// 8191, and accepting that much more costs nothing but a bounded buffer.
inline constexpr std::size_t max_tags_bytes = 8191;
/// Bytes serialize() writes at most for the tag part, '@' and space included
/// (IRCv3 message-tags: clients send at most 4094 bytes of tag data).
inline constexpr std::size_t max_sent_tags_bytes = 4096;
/// Bytes the rest of a received line may take. RFC 1459 allows 510 plus
/// CRLF; a line handed to parse_line() has no CRLF, and two bytes of slack
/// spare us servers that count differently.
inline constexpr std::size_t max_received_bytes = 512;
/// Bytes serialize() writes at most after the tags, before CRLF (RFC 1459).
inline constexpr std::size_t max_sent_bytes = 510;
/// Parameters a message carries at most (RFC 1459 section 2.3.1).
inline constexpr std::size_t max_params = 15;

/// One IRC message.
struct IrcMessage {
  /// IRCv3 tags in line order, values unescaped; a tag without a value has
  /// an empty one. Keys keep a leading '+' (client-only tags).
  std::vector<std::pair<std::string, std::string>> tags;
  /// The prefix without its ':' (`nick!user@host` or a server name); empty when absent.
  std::string source;
  /// The command in upper case, or a numeric reply as its three digits.
  std::string command;
  /// The parameters, the trailing one included, without its ':'.
  std::vector<std::string> params;

  friend bool operator==(const IrcMessage&, const IrcMessage&) = default;
};

/// Parses one line received from a server (without its CR LF). Runs of
/// spaces count as one separator; after 14 parameters the rest of the line is
/// the 15th, as RFC 1459 reads it. Tags with a malformed key are dropped; a
/// repeated tag keeps its last value (IRCv3). On failure returns nullopt and,
/// if `error` is given, the reason in English.
std::optional<IrcMessage> parse_line(std::string_view line, std::string* error = nullptr);

/// Writes `message` as one line without CR LF. Refuses, with the reason in
/// `error`, anything that would let one field spill into another or into a
/// second line: CR, LF or NUL in the source, command or a parameter, NUL in
/// a tag value (CR and LF there are escaped), a space or a leading ':' in a
/// non-final parameter, an empty non-final parameter, more than 15
/// parameters, a malformed command or tag key, a repeated tag, more than
/// max_sent_tags_bytes of tags, or more than 510 bytes after them. The
/// command is upper-cased.
std::optional<std::string> serialize(const IrcMessage& message, std::string* error = nullptr);

/// True for a numeric reply: exactly three ASCII digits.
bool is_numeric(std::string_view command);
/// True when `key` names a client-only tag (IRCv3: a leading '+').
bool is_client_only_tag(std::string_view key);
/// True when `key` is a well-formed tag key: `[+][vendor/]name`, where name is
/// letters, digits and '-', and vendor a hostname.
bool is_valid_tag_key(std::string_view key);
/// The nickname part of a source: `nick!user@host` gives `nick`; a source
/// without '!' or '@' (a server name, or a bare nick) comes back whole.
std::string_view source_nick(std::string_view source);

/// Escapes a tag value for the wire (IRCv3: `;` `\s` `\\` `\r` `\n`).
std::string escape_tag_value(std::string_view value);
/// Undoes escape_tag_value(); a '\' before any other character is dropped,
/// and a trailing '\' too (IRCv3 message-tags, "Escaping values").
std::string unescape_tag_value(std::string_view raw);

} // namespace trestle::irc
