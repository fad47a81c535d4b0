#include "mime_compose.hpp"

#include "address_text.hpp"
#include "gmime_support.hpp"
#include "mime_charset.hpp"
#include "random_hex.hpp"

#include <algorithm>

namespace trestle::smtp {

namespace {

/// Caps on header values: long enough for any real name or subject; the
/// folding below keeps every header line within 78 characters except for a
/// long Message-ID, which cannot be folded.
constexpr std::size_t max_name_bytes = 200;
constexpr std::size_t max_subject_bytes = 900;
constexpr std::size_t max_address_bytes = 254;
constexpr std::size_t max_message_id_bytes = 250;
/// RFC 5322 section 2.1.1: lines SHOULD be at most 78 characters.
constexpr std::size_t max_line = 78;
/// Largest Unix time a Date header can carry (9999-12-31T23:59:59Z).
constexpr std::int64_t max_date = 253402300799;
/// `=?UTF-8?Q?` and `?=` around the text of an encoded word (RFC 2047).
constexpr std::string_view word_open = "=?UTF-8?Q?";
constexpr std::string_view word_close = "?=";
/// RFC 2047 section 2: an encoded word is at most 75 characters.
constexpr std::size_t max_word_text = 75 - word_open.size() - word_close.size();

/// RFC 5322 atext.
bool is_atext(char c) {
  return protocols::is_ascii_letter(c) || protocols::is_ascii_digit(c) ||
         std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

/// RFC 5322 dot-atom-text; `loose` lets leading, trailing and doubled dots
/// through (the left side of real Message-IDs has them; a dot cannot end
/// the header or the angle brackets).
bool is_dot_atom_text(std::string_view text, bool loose) {
  if (text.empty() ||
      !std::all_of(text.begin(), text.end(), [](char c) { return is_atext(c) || c == '.'; })) {
    return false;
  }
  return loose ||
         (text.front() != '.' && text.back() != '.' && text.find("..") == std::string_view::npos);
}

/// `address` reduced to the characters of a dot-atom addr-spec: what is left
/// cannot close the angle brackets, add a second address or end the header.
std::string address_chars(std::string_view address) {
  std::string out;
  for (const char c : address.substr(0, max_address_bytes)) {
    if (is_atext(c) || c == '.' || c == '@') {
      out += c;
    }
  }
  return out;
}

/// Header fields folded before a token that would pass column 78 (RFC 5322
/// section 2.2.3); a folded line starts with the space before its token.
class HeaderWriter {
public:
  void begin(std::string_view name) {
    out_ += name;
    out_ += ':';
    column_ = name.size() + 1;
  }
  void end() { out_ += "\r\n"; }

  /// What ` token` may take on the current line.
  std::size_t room() const { return column_ < max_line ? max_line - column_ : 0; }

  void fold() {
    out_ += "\r\n";
    column_ = 0;
  }

  /// ` token`, on a new line when it does not fit on this one.
  void token(std::string_view token) {
    if (column_ > 0 && 1 + token.size() > room()) {
      fold();
    }
    out_ += ' ';
    out_ += token;
    column_ += 1 + token.size();
  }

  std::string& text() { return out_; }

private:
  std::string out_;
  std::size_t column_ = 0;
};

/// Whether `text` (one clean line) can be written as it is: printable
/// ASCII, nothing that reads as an encoded word, and words short enough
/// to fold between.
bool is_plain(std::string_view text) {
  std::size_t word = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0x80 || (text[i] == '=' && i + 1 < text.size() && text[i + 1] == '?')) {
      return false;
    }
    word = text[i] == ' ' ? 0 : word + 1;
    if (word > max_line - 8) {
      return false;
    }
  }
  return true;
}

/// One UTF-8 character as Q text (RFC 2047 section 4.2), with only the
/// characters section 5 (3) allows in a phrase left as they are.
std::string q_encode(std::string_view character) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : character) {
    if (protocols::is_ascii_letter(c) || protocols::is_ascii_digit(c) ||
        std::string_view("!*+-/").find(c) != std::string_view::npos) {
      out += c;
    } else if (c == ' ') {
      out += '_';
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out += '=';
      out += hex[byte >> 4];
      out += hex[byte & 0xF];
    }
  }
  return out;
}

/// The length of the UTF-8 character at `text[at]` (`text` is clean UTF-8).
std::size_t character_length(std::string_view text, std::size_t at) {
  const auto lead = static_cast<unsigned char>(text[at]);
  const std::size_t length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
  return std::min(length, text.size() - at);
}

/// `text` as RFC 2047 Q words in UTF-8, each holding whole characters and
/// sized to the room left on its line. Decoders drop the white space
/// between encoded words, so the text's own spaces travel inside them as
/// `_`. Q rather than B: a run of B words with padding inside is misread
/// by some decoders (GMime before 3.2.14, issue #133).
void encoded_words(HeaderWriter& header, std::string_view text) {
  const std::size_t overhead = 1 + word_open.size() + word_close.size();
  while (!text.empty()) {
    const std::size_t room =
        header.room() > overhead ? std::min(header.room() - overhead, max_word_text) : 0;
    std::string word(word_open);
    std::size_t used = 0;
    while (used < text.size()) {
      const std::size_t length = character_length(text, used);
      const std::string encoded = q_encode(text.substr(used, length));
      if (word.size() - word_open.size() + encoded.size() > room) {
        break;
      }
      word += encoded;
      used += length;
    }
    if (used == 0) {
      // A fresh line has room for any character (12 characters at most).
      header.fold();
      continue;
    }
    header.token(word + std::string(word_close));
    text.remove_prefix(used);
  }
}

/// Unstructured text (Subject): words as they are when plain, else encoded.
void unstructured(HeaderWriter& header, std::string_view text) {
  if (!is_plain(text)) {
    encoded_words(header, text);
    return;
  }
  std::size_t start = 0;
  while (start < text.size()) {
    const auto space = text.find(' ', start);
    header.token(text.substr(start, space - start));
    start = space == std::string_view::npos ? text.size() : space + 1;
  }
}

/// A display name (a phrase): a quoted string when plain, else encoded
/// words; either way `"`, `,`, `<` and `@` in it are only text.
void display_name(HeaderWriter& header, std::string_view name) {
  std::string quoted = "\"";
  for (const char c : name) {
    if (c == '"' || c == '\\') {
      quoted += '\\';
    }
    quoted += c;
  }
  quoted += '"';
  if (!is_plain(quoted)) {
    encoded_words(header, name);
    return;
  }
  unstructured(header, quoted);
}

void write_date(HeaderWriter& header, std::int64_t unix_seconds) {
  struct DateUnref {
    void operator()(GDateTime* date) const { g_date_time_unref(date); }
  };
  const std::unique_ptr<GDateTime, DateUnref> date(
      g_date_time_new_from_unix_utc(std::clamp<std::int64_t>(unix_seconds, 0, max_date)));
  if (!date) {
    return;
  }
  header.begin("Date");
  // GMime writes English day and month names whatever the locale.
  header.token(gmime::take_string(g_mime_utils_header_format_date(date.get())));
  header.end();
}

void write_thread(HeaderWriter& header, const std::vector<std::string>& references) {
  std::vector<std::string> ids;
  for (const auto& id : references) {
    if (is_valid_message_id(id)) {
      ids.push_back('<' + id + '>');
    }
  }
  if (ids.empty()) {
    return;
  }
  header.begin("In-Reply-To");
  header.token(ids.back());
  header.end();
  header.begin("References");
  for (const auto& id : ids) {
    header.token(id);
  }
  header.end();
}

/// 7bit for short lines of ASCII; otherwise quoted-printable for mostly
/// ASCII text (Latin scripts) and base64 once a third of the bytes are
/// 8-bit (Cyrillic, Greek, CJK, where QP would triple most of the text).
GMimeContentEncoding body_encoding(std::string_view text) {
  std::size_t eight_bit = 0;
  std::size_t line = 0;
  std::size_t longest = 0;
  for (const char c : text) {
    if (c == '\n') {
      longest = std::max(longest, line);
      line = 0;
      continue;
    }
    ++line;
    eight_bit += static_cast<unsigned char>(c) >= 0x80 ? 1 : 0;
  }
  longest = std::max(longest, line);
  if (eight_bit == 0 && longest <= max_line) {
    return GMIME_CONTENT_ENCODING_7BIT;
  }
  return eight_bit * 3 > text.size() ? GMIME_CONTENT_ENCODING_BASE64
                                     : GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;
}

/// The text/plain part. Its content is kept with LF line ends, which GMime
/// writes as CR LF; base64 encodes the bytes as they are, so there the
/// content carries CR LF itself (RFC 2045 section 6.8, canonical form).
gmime::Ref<GMimeObject> body_part(std::string_view body) {
  std::string text = clean_text(body);
  if (!text.empty() && text.back() != '\n') {
    text += '\n';
  }
  const GMimeContentEncoding encoding = body_encoding(text);
  if (encoding == GMIME_CONTENT_ENCODING_BASE64) {
    std::string crlf;
    crlf.reserve(text.size() + text.size() / 32);
    for (const char c : text) {
      crlf += c == '\n' ? "\r\n" : std::string_view(&c, 1);
    }
    text = std::move(crlf);
  }
  gmime::Ref<GMimePart> part(g_mime_part_new_with_type("text", "plain"));
  g_mime_object_set_content_type_parameter(GMIME_OBJECT(part.get()), "charset", "utf-8");
  const auto stream = gmime::memory_stream(text);
  const gmime::Ref<GMimeDataWrapper> content(
      g_mime_data_wrapper_new_with_stream(stream.get(), GMIME_CONTENT_ENCODING_DEFAULT));
  g_mime_part_set_content(part.get(), content.get());
  g_mime_part_set_content_encoding(part.get(), encoding);
  return gmime::Ref<GMimeObject>(GMIME_OBJECT(part.release()));
}

} // namespace

bool is_valid_message_id(std::string_view id) {
  // "=?" may start an encoded word, which GMime decodes even inside an id.
  if (id.empty() || id.size() > max_message_id_bytes || id.find("=?") != std::string_view::npos) {
    return false;
  }
  const auto at = id.find('@');
  if (at == std::string_view::npos || id.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  const std::string_view left = id.substr(0, at);
  const std::string_view right = id.substr(at + 1);
  if (right.size() > 2 && right.front() == '[' && right.back() == ']') {
    const std::string_view inner = right.substr(1, right.size() - 2);
    return is_dot_atom_text(left, true) && std::all_of(inner.begin(), inner.end(), [](char c) {
             return c > 0x20 && c < 0x7f && c != '[' && c != ']' && c != '\\' && c != '<' &&
                    c != '>';
           });
  }
  // The right side is a domain: GMime, for one, drops a trailing dot there.
  return is_dot_atom_text(left, true) && is_dot_atom_text(right, false);
}

std::string compose_mail(const OutgoingMail& mail) {
  gmime::ensure_initialized();
  HeaderWriter header;
  write_date(header, mail.date);
  if (const std::string address = address_chars(mail.from_address); !address.empty()) {
    header.begin("From");
    const std::string name = one_line(mail.from_name, max_name_bytes);
    if (name.empty()) {
      header.token(address);
    } else {
      display_name(header, name);
      header.token('<' + address + '>');
    }
    header.end();
  }
  if (const std::string address = address_chars(mail.to_address); !address.empty()) {
    header.begin("To");
    header.token(address);
    header.end();
  }
  if (const std::string subject = one_line(mail.subject, max_subject_bytes); !subject.empty()) {
    header.begin("Subject");
    unstructured(header, subject);
    header.end();
  }
  if (is_valid_message_id(mail.message_id)) {
    header.begin("Message-ID");
    header.token('<' + mail.message_id + '>');
    header.end();
  }
  write_thread(header, mail.references);
  header.begin("MIME-Version");
  header.token("1.0");
  header.end();

  // GMime writes the body part: its Content-Type and
  // Content-Transfer-Encoding fields, the blank line and the encoded text.
  struct FormatFree {
    void operator()(GMimeFormatOptions* options) const { g_mime_format_options_free(options); }
  };
  const std::unique_ptr<GMimeFormatOptions, FormatFree> format(g_mime_format_options_new());
  g_mime_format_options_set_newline_format(format.get(), GMIME_NEWLINE_FORMAT_DOS);
  const auto part = body_part(mail.body);
  header.text() += gmime::take_string(g_mime_object_to_string(part.get(), format.get()));
  return std::move(header.text());
}

std::string make_message_id(std::string_view domain) {
  std::string id = gateway::random_hex(16);
  // Hostname characters only, in labels separated by single dots.
  std::string right;
  for (const char c : domain.substr(0, 200)) {
    if (protocols::is_ascii_letter(c) || protocols::is_ascii_digit(c) || c == '-') {
      right += protocols::ascii_lower(c);
    } else if (c == '.' && !right.empty() && right.back() != '.') {
      right += c;
    }
  }
  if (!right.empty() && right.back() == '.') {
    right.pop_back();
  }
  return id + '@' + (right.empty() ? "localhost" : right);
}

} // namespace trestle::smtp
