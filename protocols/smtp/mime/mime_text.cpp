#include "mime_text.hpp"

#include "address_text.hpp"
#include "gmime_support.hpp"
#include "gmime_workarounds.hpp"
#include "html_text.hpp"
#include "mime_charset.hpp"
#include "mime_dsn.hpp"
#include "mime_headers.hpp"
#include "smtp_text.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>

namespace trestle::smtp {

namespace {

/// `type/subtype`, lowercase, printable ASCII.
std::string mime_type(GMimeObject* object) {
  GMimeContentType* type = g_mime_object_get_content_type(object);
  if (type == nullptr) {
    return "application/octet-stream";
  }
  std::string out = printable(gmime::take_string(g_mime_content_type_get_mime_type(type)), 100);
  std::transform(out.begin(), out.end(), out.begin(), protocols::ascii_lower);
  return out;
}

std::string lowercase_parameter(GMimeObject* object, const char* name) {
  std::string value = gmime::to_string(g_mime_object_get_content_type_parameter(object, name));
  std::transform(value.begin(), value.end(), value.begin(), protocols::ascii_lower);
  return value;
}

/// `12.3 KiB`: a size as people read it.
std::string human_size(std::size_t bytes) {
  char buffer[32];
  if (bytes < 1024) {
    std::snprintf(buffer, sizeof buffer, "%zu B", bytes);
  } else if (bytes < 1024 * 1024) {
    std::snprintf(buffer, sizeof buffer, "%.1f KiB", static_cast<double>(bytes) / 1024);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.1f MiB", static_cast<double>(bytes) / (1024 * 1024));
  }
  return buffer;
}

/// Whether `encoded` is well-formed base64: alphabet characters in groups
/// of four, padding only at the end, white space anywhere.
bool is_clean_base64(std::string_view encoded) {
  std::size_t symbols = 0;
  std::size_t padding = 0;
  for (const char c : encoded) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      continue;
    }
    if (c == '=') {
      ++padding;
      continue;
    }
    const bool symbol =
        protocols::is_ascii_letter(c) || protocols::is_ascii_digit(c) || c == '+' || c == '/';
    if (!symbol || padding > 0) {
      return false;
    }
    ++symbols;
  }
  return padding <= 2 && (symbols + padding) % 4 == 0;
}

/// Undoes format=flowed (RFC 3676 section 4): a line ending in a space
/// continues on the next one at the same quote depth. Space-stuffing is
/// removed and quoted lines keep their marks as `> `.
std::string unflow(std::string_view text, bool delete_space) {
  std::string out;
  bool open = false;
  std::size_t open_depth = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::string_view line = protocols::next_line(text, start);
    std::size_t depth = 0;
    while (depth < line.size() && line[depth] == '>') {
      ++depth;
    }
    line.remove_prefix(depth);
    if (!line.empty() && line.front() == ' ') {
      line.remove_prefix(1);
    }
    const bool flowed = !line.empty() && line.back() == ' ' && line != "-- ";
    if (flowed && delete_space) {
      line.remove_suffix(1);
    }
    if (open && depth != open_depth) {
      out += '\n';
      open = false;
    }
    if (!open && depth > 0) {
      out.append(depth, '>');
      out += ' ';
    }
    out += line;
    open = flowed;
    open_depth = depth;
    if (!flowed) {
      out += '\n';
    }
  }
  return out;
}

/// `text` without blank lines and blanks at its end.
void trim_end(std::string& text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\t')) {
    text.pop_back();
  }
}

bool is_signature(std::string_view type) {
  return type == "application/pgp-signature" || type == "application/pkcs7-signature" ||
         type == "application/x-pkcs7-signature";
}

/// Walks the MIME tree in document order and collects the text pieces,
/// the attachment lines and the report of a bounce.
class Walker {
public:
  Walker(const MimeLimits& limits, GMimeParserOptions* options, ParsedMail& mail)
      : limits_(limits), options_(options), mail_(mail) {}

  void walk(GMimeObject* object, std::size_t depth);

  /// The text pieces, then the attachment lines after a blank line.
  std::string text() const {
    std::string out;
    for (const auto& piece : texts_) {
      out += out.empty() ? "" : "\n\n";
      out += piece;
    }
    for (std::size_t i = 0; i < listing_.size(); ++i) {
      out += out.empty() ? "" : (i == 0 ? "\n\n" : "\n");
      out += listing_[i];
    }
    return out;
  }

private:
  void multipart(GMimeMultipart* multipart, std::size_t depth);
  void alternative(GMimeMultipart* multipart, std::size_t depth);
  void report(GMimeMultipart* multipart, std::size_t depth);
  void leaf(GMimePart* part);
  void attachment(GMimePart* part, const std::string& type);
  std::string part_text(GMimePart* part, const std::string& type);

  const MimeLimits& limits_;
  GMimeParserOptions* options_;
  ParsedMail& mail_;
  std::vector<std::string> texts_;
  std::vector<std::string> listing_;
  std::size_t parts_ = 0;
};

void Walker::walk(GMimeObject* object, std::size_t depth) {
  if (object == nullptr) {
    return;
  }
  if (++parts_ > limits_.max_parts) {
    add_problem(mail_.problems, "more than " + std::to_string(limits_.max_parts) +
                                    " MIME parts; the rest is not read");
    return;
  }
  if (GMIME_IS_MULTIPART(object)) {
    if (depth >= limits_.max_depth) {
      listing_.push_back("[not opened: " + mime_type(object) + ", nested too deep]");
      add_problem(mail_.problems, "MIME parts nested deeper than " +
                                      std::to_string(limits_.max_depth) + " levels not opened");
      return;
    }
    multipart(GMIME_MULTIPART(object), depth);
  } else if (GMIME_IS_MESSAGE_PART(object)) {
    // A forwarded or returned message is named, not shown.
    GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(object));
    const std::string subject =
        inner != nullptr ? decoded_subject(GMIME_OBJECT(inner), options_) : "";
    listing_.push_back("[forwarded message: " + (subject.empty() ? "(no subject)" : subject) + "]");
  } else if (GMIME_IS_PART(object)) {
    leaf(GMIME_PART(object));
  }
}

void Walker::multipart(GMimeMultipart* multipart, std::size_t depth) {
  GMimeObject* object = GMIME_OBJECT(multipart);
  const std::string type = mime_type(object);
  if (type == "multipart/alternative") {
    alternative(multipart, depth);
    return;
  }
  if (type == "multipart/report" && !mail_.is_delivery_report &&
      lowercase_parameter(object, "report-type") == "delivery-status") {
    report(multipart, depth);
    return;
  }
  const int count = g_mime_multipart_get_count(multipart);
  for (int i = 0; i < count; ++i) {
    walk(g_mime_multipart_get_part(multipart, i), depth + 1);
  }
}

/// Shows one alternative: text/plain first, then a multipart (which may
/// hold one), then HTML, then anything else.
void Walker::alternative(GMimeMultipart* multipart, std::size_t depth) {
  GMimeObject* best = nullptr;
  int best_rank = 0;
  const int count = g_mime_multipart_get_count(multipart);
  for (int i = 0; i < count; ++i) {
    GMimeObject* part = g_mime_multipart_get_part(multipart, i);
    const std::string type = mime_type(part);
    const int rank = type == "text/plain"       ? 4
                     : GMIME_IS_MULTIPART(part) ? 3
                     : type == "text/html"      ? 2
                                                : 1;
    if (rank > best_rank) {
      best = part;
      best_rank = rank;
    }
  }
  walk(best, depth + 1);
}

/// A bounce (RFC 3464 section 2): the human-readable first part is the
/// text; the delivery-status part and the returned message or headers
/// fill the report and are not listed.
void Walker::report(GMimeMultipart* multipart, std::size_t depth) {
  mail_.is_delivery_report = true;
  const int count = g_mime_multipart_get_count(multipart);
  for (int i = 0; i < count; ++i) {
    GMimeObject* part = g_mime_multipart_get_part(multipart, i);
    const std::string type = mime_type(part);
    if (i == 0) {
      walk(part, depth + 1);
    } else if (++parts_ > limits_.max_parts) {
      break;
    } else if (GMIME_IS_PART(part) &&
               (type == "message/delivery-status" || type == "message/global-delivery-status")) {
      read_delivery_status(gmime::decoded_content(GMIME_PART(part)), mail_.report);
    } else if (GMIME_IS_PART(part) &&
               (type == "text/rfc822-headers" || type == "message/rfc822-headers" ||
                type == "message/global-headers")) {
      mail_.report.original_message_id =
          message_id_in_headers(gmime::decoded_content(GMIME_PART(part)));
    } else if (GMIME_IS_MESSAGE_PART(part)) {
      GMimeMessage* returned = g_mime_message_part_get_message(GMIME_MESSAGE_PART(part));
      const auto raw = returned != nullptr ? gmime::raw_header(GMIME_OBJECT(returned), "Message-ID")
                                           : std::nullopt;
      const auto ids = raw ? message_ids_in(*raw) : std::vector<std::string>();
      mail_.report.original_message_id = ids.empty() ? "" : ids.front();
    } else {
      walk(part, depth + 1);
    }
  }
}

void Walker::leaf(GMimePart* part) {
  const std::string type = mime_type(GMIME_OBJECT(part));
  if (is_signature(type)) {
    return;
  }
  GMimeContentDisposition* disposition = g_mime_object_get_content_disposition(GMIME_OBJECT(part));
  const bool attached =
      disposition != nullptr && g_mime_content_disposition_is_attachment(disposition);
  if (attached || (type != "text/plain" && type != "text/html")) {
    attachment(part, type);
    return;
  }
  std::string text = part_text(part, type);
  trim_end(text);
  if (!text.empty()) {
    texts_.push_back(std::move(text));
  }
}

void Walker::attachment(GMimePart* part, const std::string& type) {
  MailAttachment attachment;
  attachment.filename = part_filename(GMIME_OBJECT(part), options_);
  attachment.content_type = type;
  attachment.content = gmime::decoded_content(part);
  listing_.push_back(
      "[attachment: " + (attachment.filename.empty() ? "" : attachment.filename + ", ") + type +
      ", " + human_size(attachment.content.size()) + "]");
  mail_.attachments.push_back(std::move(attachment));
}

/// A text/plain or text/html part as UTF-8 plain text.
std::string Walker::part_text(GMimePart* part, const std::string& type) {
  GMimeObject* object = GMIME_OBJECT(part);
  if (g_mime_part_get_content_encoding(part) == GMIME_CONTENT_ENCODING_BASE64 &&
      !is_clean_base64(gmime::encoded_content(part))) {
    add_problem(mail_.problems, "broken base64 in a text part; decoded what could be read");
  }
  const std::string charset =
      gmime::to_string(g_mime_object_get_content_type_parameter(object, "charset"));
  std::string text = charset_to_utf8(gmime::decoded_content(part), charset, mail_.problems);
  if (type == "text/html") {
    return html_to_text(text);
  }
  if (lowercase_parameter(object, "format") == "flowed") {
    return unflow(text, lowercase_parameter(object, "delsp") == "yes");
  }
  return text;
}

/// Notes for what the GMime parser reports as broken. Called from C: must
/// not throw.
void on_parser_warning(gint64, GMimeParserWarning warning, const gchar*, gpointer data) noexcept {
  auto& problems = *static_cast<std::vector<std::string>*>(data);
  try {
    switch (warning) {
    case GMIME_WARN_TRUNCATED_MESSAGE:
      add_problem(problems, "the message is truncated");
      break;
    case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY:
      add_problem(problems, "a multipart without a boundary");
      break;
    case GMIME_CRIT_NESTING_OVERFLOW:
      add_problem(problems, "MIME nesting too deep to parse");
      break;
    default:
      break;
    }
  } catch (...) {
    // Out of memory for a note: the note is lost, the parse goes on.
  }
}

void limit_text(std::string& text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) {
    return;
  }
  const std::size_t cut = utf8_cut(text, max_bytes);
  const std::size_t omitted = text.size() - cut;
  text.resize(cut);
  trim_end(text);
  text += (text.empty() ? "" : "\n");
  text += "[\xE2\x80\xA6 " + std::to_string(omitted) + " more bytes not shown]";
}

} // namespace

ParsedMail parse_mail(std::string_view message, const MimeLimits& limits) {
  ParsedMail mail;
  try {
    gmime::ensure_initialized();
    const gmime::ParserOptions options = gmime::lenient_parser_options();
    g_mime_parser_options_set_warning_callback(options.get(), on_parser_warning, &mail.problems);
    const auto bounded = gmime::bound_charset_labels(message);
    const auto stream = gmime::memory_stream(bounded ? std::string_view(*bounded) : message);
    const gmime::Ref<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
    g_mime_parser_set_format(parser.get(), GMIME_FORMAT_MESSAGE);
    const gmime::Ref<GMimeMessage> parsed(
        g_mime_parser_construct_message(parser.get(), options.get()));
    if (!parsed) {
      add_problem(mail.problems, "no message could be read");
      return mail;
    }
    read_mail_headers(parsed.get(), options.get(), mail);
    Walker walker(limits, options.get(), mail);
    walker.walk(g_mime_message_get_mime_part(parsed.get()), 0);
    mail.text = walker.text();
    limit_text(mail.text, limits.max_text_bytes);
  } catch (const std::exception&) {
    // Only allocation can fail here: what was read so far is the answer.
    try {
      add_problem(mail.problems, "the message is too large to read");
    } catch (const std::exception&) {
      // Not even room for the note.
    }
  }
  return mail;
}

} // namespace trestle::smtp
