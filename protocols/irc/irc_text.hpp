#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

/// Message text between IRC and XMPP (sans-io): encodings, mIRC formatting,
/// CTCP ACTION (`/me`) and splitting a body into lines that fit.
namespace trestle::irc {

/// The smallest `max_bytes` split_for_irc() takes: room for any one UTF-8 character.
inline constexpr std::size_t min_split_bytes = 4;

/// IRC bytes as UTF-8: text that is valid UTF-8 passes through unchanged,
/// anything else is read as latin-1 (ISO 8859-1), which every byte sequence
/// is. The whole text is decoded one way, never mixed.
std::string to_utf8(std::string_view bytes);

/// `text` without mIRC formatting codes: bold, italics, underline,
/// strikethrough, monospace, reverse, reset, `\x03` colours with their
/// `fg[,bg]` digits and `\x04` hex colours with `RRGGBB[,RRGGBB]`. Never longer than `text`.
std::string strip_formatting(std::string_view text);

/// The text of a CTCP ACTION (`\x01ACTION text\x01`, the closing `\x01`
/// optional as many clients omit it), or nullopt for any other text.
std::optional<std::string> ctcp_action_text(std::string_view privmsg_text);
/// Bytes make_ctcp_action() adds around the text.
inline constexpr std::size_t ctcp_action_overhead = 9;
/// The PRIVMSG text for `/me text`. `\x01` in `text` would end the CTCP
/// early, so it is dropped.
std::string make_ctcp_action(std::string_view text);

/// Splits a message body into IRC payloads: one per line (CR LF, LF and CR
/// each end a line; empty lines are dropped), and a line longer than
/// `max_bytes` into pieces of at most `max_bytes`, cut at the last space
/// within the limit (the space itself is not sent) or else at the last UTF-8
/// character boundary. Pieces are valid UTF-8 when `text` is; other control
/// characters, NUL included, stay for serialize() to refuse. Throws
/// std::invalid_argument when `max_bytes` is below min_split_bytes: the
/// caller must check privmsg_budget() first.
std::vector<std::string> split_for_irc(std::string_view text, std::size_t max_bytes);

/// `user` assumed when it is not known yet: USERLEN is 10 on most servers,
/// plus the '~' they put before an unverified ident.
inline constexpr std::size_t unknown_user_bytes = 11;
/// `host` assumed when it is not known yet: HOSTLEN is 63 on most servers
/// and 64 on InspIRCd, and servers cut the host they show (real or
/// cloaked) to it.
inline constexpr std::size_t unknown_host_bytes = 64;

/// Payload bytes left for the text of `PRIVMSG target :text` so that the line
/// the server relays, `:nick!user@host PRIVMSG target :text` plus CR LF,
/// stays within 512 bytes (RFC 1459 section 2.3). An empty `user` or `host`
/// counts as unknown_user_bytes or unknown_host_bytes. NOTICE is shorter
/// than PRIVMSG, so the budget holds for it too; a CTCP ACTION takes
/// ctcp_action_overhead of it. Returns 0 when nothing fits.
std::size_t privmsg_budget(std::string_view nick, std::string_view user, std::string_view host,
                           std::string_view target);

} // namespace trestle::irc
