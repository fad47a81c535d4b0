#pragma once

// The header fields of a received mail as ParsedMail needs them, read
// through GMime. Private to smtp_lib.

#include "gmime_support.hpp"
#include "mime_text.hpp"

#include <string>

namespace trestle::smtp {

/// Fills the From address and name, the subject, the Message-ID,
/// In-Reply-To and References, and the loop-safety flags of `mail`.
void read_mail_headers(GMimeMessage* message, GMimeParserOptions* options, ParsedMail& mail);

/// The Subject of `object` (a message) decoded, on one line, or empty.
std::string decoded_subject(GMimeObject* object, GMimeParserOptions* options);

/// An attachment's file name: the Content-Disposition filename, else the
/// Content-Type name (RFC 2231 and RFC 2047 forms decoded), on one line.
std::string part_filename(GMimeObject* part, GMimeParserOptions* options);

} // namespace trestle::smtp
