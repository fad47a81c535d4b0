#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace trestle::smtp {

/// A non-text part of a received mail (attachment, inline image, ...),
/// decoded, kept for a later upload step.
struct MailAttachment {
  /// The file name (decoded, UTF-8), or empty when the part has none.
  std::string filename;
  /// `type/subtype`, lowercase.
  std::string content_type;
  /// The decoded content.
  std::string content;
};

/// The delivery-status part of a bounce (RFC 3464), when the mail is one.
struct DeliveryReport {
  /// The Message-ID of the mail that bounced (from the returned message or
  /// its headers, without angle brackets); empty when it was not included.
  std::string original_message_id;
  /// Recipients whose Action is `failed`, without `rfc822;`.
  std::vector<std::string> failed_recipients;
  /// The first failed recipient's Status (`5.1.1`) and Diagnostic-Code text.
  std::string status;
  std::string diagnostic;
};

/// Limits on what parse_mail() produces.
struct MimeLimits {
  /// Text kept for the XMPP body, in bytes; more is cut at a UTF-8 boundary
  /// with a note saying how much was left out.
  std::size_t max_text_bytes = 256 * 1024;
  /// MIME nesting followed; deeper parts are listed, not opened.
  std::size_t max_depth = 20;
  /// Parts looked at in one mail.
  std::size_t max_parts = 500;
};

/// What a received mail says, in the form the XMPP side needs.
struct ParsedMail {
  /// The From address (`bob@example.com`), and its display name decoded to UTF-8.
  std::string from_address;
  std::string from_name;
  /// The subject, RFC 2047 words decoded, in UTF-8, on one line.
  std::string subject;
  /// Message-ID, In-Reply-To and References, without angle brackets.
  std::string message_id;
  std::string in_reply_to;
  std::vector<std::string> references;
  /// The text for the XMPP body: valid UTF-8 with LF line ends and no
  /// control characters but TAB and LF. In multipart/alternative the
  /// text/plain part is preferred, HTML is turned into readable text, and
  /// format=flowed lines are joined; inline text parts follow each other,
  /// a blank line apart. Each attachment is then listed on a line of its own
  /// (`[attachment: report.pdf, application/pdf, 12.3 KiB]`), and each
  /// forwarded message (message/rfc822) is named by its subject
  /// (`[forwarded message: Subject]`), its own text not shown. Trailing
  /// blank lines are dropped; past max_text_bytes the text is cut with a note.
  std::string text;
  /// Attachments in the order listed, decoded: every part other than
  /// text/plain and text/html, and those too when their Content-Disposition
  /// is `attachment`. Signatures (application/pgp-signature, ...) are left out.
  std::vector<MailAttachment> attachments;
  /// `Auto-Submitted` is present and not `no` (RFC 3834).
  bool auto_submitted = false;
  /// Mailing-list or bulk mail: List-Id, List-Unsubscribe, List-Post, or
  /// `Precedence: bulk|list|junk`.
  bool list_mail = false;
  /// A bounce: multipart/report with report-type=delivery-status. Its text
  /// is the human-readable first part; the other parts fill `report`.
  bool is_delivery_report = false;
  DeliveryReport report;
  /// What could not be read cleanly (unknown charset, broken base64, ...),
  /// one short English note each; the text is still the best reading.
  std::vector<std::string> problems;
};

/// Parses a whole received message (headers and body, CR LF or LF line
/// ends). Never throws and never fails: broken input gives the best text
/// that can be read from it, with `problems` saying what was wrong.
ParsedMail parse_mail(std::string_view message, const MimeLimits& limits = {});

} // namespace trestle::smtp
