#pragma once

// Mail text to UTF-8: charset conversion, UTF-8 repair, and the cleaning
// that makes text safe for an XMPP body or a mail header.

#include "text_excerpt.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace trestle::smtp {

/// `text` as text an XML document can carry: valid UTF-8 (a byte that does
/// not start a well-formed sequence becomes U+FFFD), CR LF and lone CR
/// turned into LF, other C0 controls and DEL dropped (TAB and LF kept),
/// U+FFFE and U+FFFF replaced by U+FFFD.
std::string clean_text(std::string_view text);

/// Header texts (subjects, names, file names, DSN fields) go through the
/// cleaner every network shares; see text_excerpt.hpp.
using xmpp::one_line;

/// The largest length of at most `limit` bytes that does not cut a UTF-8
/// sequence of `text` in two.
std::size_t utf8_cut(std::string_view text, std::size_t limit);

/// Converts `bytes` from `charset` (a MIME charset name, any case) to UTF-8
/// and cleans the result (see clean_text()). An empty charset means
/// undeclared: UTF-8 when the bytes are valid UTF-8, else windows-1252.
/// ISO-8859-1 and US-ASCII are read as windows-1252 (as WHATWG does) unless
/// the bytes are valid UTF-8 and the label says US-ASCII. An unknown charset
/// is read like an undeclared one. What could not be read cleanly is added
/// to `problems` as a short note.
std::string charset_to_utf8(std::string_view bytes, std::string_view charset,
                            std::vector<std::string>& problems);

/// Adds the note `text` to `problems` unless it is there already or the
/// list is full (16 notes: one per kind of trouble says enough).
void add_problem(std::vector<std::string>& problems, std::string text);

} // namespace trestle::smtp
