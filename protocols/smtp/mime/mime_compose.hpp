#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace trestle::smtp {

/// One email to write (UTF-8 throughout). Nothing here may carry header
/// syntax into the message: compose_mail() encodes and cleans every value.
struct OutgoingMail {
  /// Display name of the sender (`Alice`), may be empty.
  std::string from_name;
  /// The sender's address (`alice@mail.example.org`).
  std::string from_address;
  /// The recipient's address (`bob@example.com`).
  std::string to_address;
  /// The subject; empty leaves the header out.
  std::string subject;
  /// The text (UTF-8, any line ends).
  std::string body;
  /// This message's Message-ID, without angle brackets.
  std::string message_id;
  /// Message-IDs of the thread, oldest first, without angle brackets; the
  /// last one becomes In-Reply-To. Empty for a new thread.
  std::vector<std::string> references;
  /// Unix seconds for the Date header.
  std::int64_t date = 0;
};

/// Writes `mail` as an RFC 5322 message with CR LF line ends: From (with the
/// display name), To, Subject, Date, Message-ID, In-Reply-To and References
/// (when continuing a thread), MIME-Version, and a text/plain; charset=utf-8
/// body in 7bit, quoted-printable or base64, whichever fits (every body line
/// within 78 characters). Header values are put on one line (CR, LF, TAB
/// and runs of blanks become one space, other control characters go) and
/// written as UTF-8 RFC 2047 Q words when not plain ASCII or when they hold
/// `=?`; a display name is otherwise a quoted string. Addresses keep only
/// addr-spec characters; ids that are not valid msg-ids are left out. Header
/// lines fold within 78 characters, save a Message-ID longer than that.
std::string compose_mail(const OutgoingMail& mail);

/// True when `id` (without angle brackets) is a msg-id that compose_mail()
/// writes: `left@right` with exactly one '@', both sides dot-atom text
/// (RFC 5322 section 3.6.4; dots anywhere on the left), the right side
/// possibly a `[...]` literal instead; no space, CR, LF, angle bracket or
/// `=?` (which readers may take for an RFC 2047 word); at most 250 bytes.
bool is_valid_message_id(std::string_view id);

/// A new Message-ID (`random@domain`, 128 random bits), without angle brackets.
std::string make_message_id(std::string_view domain);

} // namespace trestle::smtp
