// Fuzzes the MIME reader with what a hostile sender can mail, and the MIME
// writer with what a hostile XMPP user can type. The input is:
// - parsed as a whole mail, with limits taken from its length, and:
//   - the text, subject, names and ids are valid UTF-8 without control
//     characters (the text keeps TAB and LF), ids are valid msg-ids;
//   - the text fits max_text_bytes plus the note that says what was cut;
//   - the attachments' decoded content is no larger than the input;
// - turned into an HTML document's text (valid UTF-8, no controls);
// - split into a display name, a subject, thread ids and a body, composed
//   into a mail, and:
//   - the mail has CR LF line ends only, body lines of at most 78 and
//     header lines of at most 998 characters, and only the headers
//     compose_mail() writes, each once;
//   - read back, it gives the same name, subject, ids and text.
#include "html_text.hpp"
#include "mime_charset.hpp"
#include "mime_compose.hpp"
#include "mime_text.hpp"
#include "utf8.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace smtp = trestle::smtp;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_mime_text: %s\n", what);
    std::abort();
  }
}

/// Valid UTF-8 with no C0 control or DEL, except TAB and LF when `multiline`.
bool is_clean(std::string_view text, bool multiline) {
  if (!trestle::xmpp::is_valid_utf8(text)) {
    return false;
  }
  return std::none_of(text.begin(), text.end(), [multiline](char c) {
    const auto byte = static_cast<unsigned char>(c);
    if (multiline && (c == '\t' || c == '\n')) {
      return false;
    }
    return byte < 0x20 || byte == 0x7F;
  });
}

void check_parsed(const smtp::ParsedMail& mail, std::string_view input,
                  const smtp::MimeLimits& limits) {
  check(is_clean(mail.text, true), "text is not clean UTF-8");
  // The note is "\n[… N more bytes not shown]": under 64 bytes.
  check(mail.text.size() <= limits.max_text_bytes + 64, "text over max_text_bytes");
  for (const auto* line : {&mail.subject, &mail.from_name, &mail.from_address}) {
    check(is_clean(*line, false), "a header value is not one clean line");
  }
  for (const auto& id : mail.references) {
    check(smtp::is_valid_message_id(id), "a reference is not a valid msg-id");
  }
  for (const auto* id : {&mail.message_id, &mail.in_reply_to, &mail.report.original_message_id}) {
    check(id->empty() || smtp::is_valid_message_id(*id), "an id is not a valid msg-id");
  }
  std::size_t total = 0;
  for (const auto& attachment : mail.attachments) {
    total += attachment.content.size();
    check(is_clean(attachment.filename, false), "a file name is not one clean line");
  }
  check(total <= input.size(), "attachments larger than the input");
  check(mail.problems.size() <= 16, "too many problem notes");
  check(mail.is_delivery_report || mail.report.failed_recipients.empty(),
        "failed recipients outside a bounce");
}

/// The next line of `rest` (without its LF), removed from `rest`.
std::string_view take_line(std::string_view& rest) {
  const auto lf = rest.find('\n');
  const std::string_view line = rest.substr(0, lf);
  rest = lf == std::string_view::npos ? std::string_view() : rest.substr(lf + 1);
  return line;
}

/// The header names in `head` (the part before the blank line), lowercase.
std::vector<std::string> header_names(std::string_view head) {
  std::vector<std::string> names;
  std::size_t start = 0;
  while (start < head.size()) {
    const auto end = head.find("\r\n", start);
    const auto line = head.substr(start, end - start);
    check(line.size() <= 998, "header line over 998 characters");
    if (!line.empty() && line.front() != ' ' && line.front() != '\t') {
      const auto colon = line.find(':');
      check(colon != std::string_view::npos, "header line without a colon");
      std::string name(line.substr(0, colon));
      std::transform(name.begin(), name.end(), name.begin(),
                     [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; });
      names.push_back(std::move(name));
    }
    start = end == std::string_view::npos ? head.size() : end + 2;
  }
  return names;
}

void check_composed(std::string_view input) {
  std::string_view rest = input;
  smtp::OutgoingMail mail;
  mail.from_name = take_line(rest);
  mail.subject = take_line(rest);
  std::string_view ids = take_line(rest);
  while (!ids.empty()) {
    const auto space = ids.find(' ');
    mail.references.emplace_back(ids.substr(0, space));
    ids = space == std::string_view::npos ? std::string_view() : ids.substr(space + 1);
  }
  mail.body = rest;
  mail.from_address = "alice@gw.example.org";
  mail.to_address = "bob@example.com";
  mail.message_id = smtp::make_message_id("gw.example.org");
  mail.date = static_cast<std::int64_t>(input.size()) * 1000003;
  const std::string out = smtp::compose_mail(mail);

  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i] == '\n') {
      check(i > 0 && out[i - 1] == '\r', "composed mail has a bare LF");
    } else if (out[i] == '\r') {
      check(i + 1 < out.size() && out[i + 1] == '\n', "composed mail has a bare CR");
    }
  }
  const auto blank = out.find("\r\n\r\n");
  check(blank != std::string::npos, "composed mail has no blank line after the headers");
  const auto names = header_names(std::string_view(out).substr(0, blank + 2));
  static constexpr std::array<std::string_view, 10> allowed = {
      "date",        "from",       "to",           "subject",      "message-id",
      "in-reply-to", "references", "mime-version", "content-type", "content-transfer-encoding"};
  for (const auto& name : names) {
    check(std::find(allowed.begin(), allowed.end(), name) != allowed.end(),
          "composed mail has a header compose_mail() does not write");
    check(std::count(names.begin(), names.end(), name) == 1, "a header is written twice");
  }
  std::size_t start = blank + 4;
  while (start < out.size()) {
    const auto end = out.find("\r\n", start);
    check((end == std::string::npos ? out.size() : end) - start <= 78, "body line over 78");
    start = end == std::string::npos ? out.size() : end + 2;
  }

  const auto back = smtp::parse_mail(out);
  check(back.from_name == smtp::one_line(mail.from_name, 200), "display name does not read back");
  check(back.from_address == mail.from_address, "address does not read back");
  check(back.subject == smtp::one_line(mail.subject, 900), "subject does not read back");
  check(back.message_id == mail.message_id, "Message-ID does not read back");
  std::vector<std::string> valid;
  std::copy_if(mail.references.begin(), mail.references.end(), std::back_inserter(valid),
               smtp::is_valid_message_id);
  check(back.references == valid, "References do not read back");
  check(back.in_reply_to == (valid.empty() ? "" : valid.back()), "In-Reply-To does not read back");
  std::string text = smtp::clean_text(mail.body);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\t')) {
    text.pop_back();
  }
  check(back.text == text, "body does not read back");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  // Limits that bite on small inputs as well as the defaults.
  smtp::MimeLimits limits;
  if (size % 3 == 0) {
    limits.max_text_bytes = size / 4;
    limits.max_depth = size % 7;
    limits.max_parts = 1 + size % 11;
  }
  check_parsed(smtp::parse_mail(input, limits), input, limits);

  check(is_clean(smtp::html_to_text(input), true), "HTML text is not clean UTF-8");

  check_composed(input);
  return 0;
}
