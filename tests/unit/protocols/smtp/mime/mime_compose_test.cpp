#include "base64.hpp"
#include "mime_compose.hpp"
#include "mime_text.hpp"

#include <boost/test/unit_test.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

using trestle::smtp::compose_mail;
using trestle::smtp::is_valid_message_id;
using trestle::smtp::make_message_id;
using trestle::smtp::OutgoingMail;
using trestle::smtp::parse_mail;

namespace {

OutgoingMail sample() {
  OutgoingMail mail;
  mail.from_name = "Alice";
  mail.from_address = "alice@gw.example.org";
  mail.to_address = "bob@example.com";
  mail.subject = "Lunch";
  mail.body = "Noon?\n";
  mail.message_id = "0123456789abcdef@gw.example.org";
  mail.date = 1700000000;
  return mail;
}

/// The header section (up to the blank line) and the body.
std::pair<std::string, std::string> split(const std::string& mail) {
  const auto blank = mail.find("\r\n\r\n");
  BOOST_REQUIRE(blank != std::string::npos);
  return {mail.substr(0, blank + 2), mail.substr(blank + 4)};
}

/// The header fields, unfolded (CR LF before a blank removed), in order.
std::vector<std::pair<std::string, std::string>> fields(const std::string& mail) {
  std::string head = split(mail).first;
  std::string unfolded;
  for (std::size_t i = 0; i < head.size(); ++i) {
    if (head.compare(i, 3, "\r\n ") == 0 || head.compare(i, 3, "\r\n\t") == 0) {
      ++i;
      continue;
    }
    unfolded += head[i];
  }
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t start = 0;
  while (start < unfolded.size()) {
    const auto end = unfolded.find("\r\n", start);
    const auto line = unfolded.substr(start, end - start);
    const auto colon = line.find(':');
    BOOST_REQUIRE_MESSAGE(colon != std::string::npos, "header line without a colon: " << line);
    const auto value_start = line.find_first_not_of(' ', colon + 1);
    out.emplace_back(line.substr(0, colon),
                     value_start == std::string::npos ? "" : line.substr(value_start));
    start = end + 2;
  }
  return out;
}

std::vector<std::string> field_names(const std::string& mail) {
  std::vector<std::string> names;
  for (const auto& field : fields(mail)) {
    names.push_back(field.first);
  }
  return names;
}

/// The value of the one field called `name`; fails when there is none or more.
std::string field(const std::string& mail, std::string_view name) {
  std::string value;
  int count = 0;
  for (const auto& [field_name, field_value] : fields(mail)) {
    if (field_name == name) {
      value = field_value;
      ++count;
    }
  }
  BOOST_TEST(count == 1, name << " appears " << count << " times");
  return value;
}

bool has_field(const std::string& mail, std::string_view name) {
  for (const auto& field : fields(mail)) {
    if (field.first == name) {
      return true;
    }
  }
  return false;
}

/// CR LF line ends only, every line within 78 characters, ASCII only.
void check_form(const std::string& mail) {
  std::size_t start = 0;
  while (start < mail.size()) {
    const auto end = mail.find("\r\n", start);
    BOOST_REQUIRE_MESSAGE(end != std::string::npos, "the mail does not end in CR LF");
    const auto line = mail.substr(start, end - start);
    BOOST_TEST(line.size() <= 78u, "line over 78 characters: " << line);
    BOOST_TEST(line.find('\r') == std::string::npos, "bare CR in: " << line);
    BOOST_TEST(line.find('\n') == std::string::npos, "bare LF in: " << line);
    for (const char c : line) {
      BOOST_TEST((c == '\t' || (c >= 0x20 && c < 0x7f)), "not printable ASCII: " << line);
    }
    start = end + 2;
  }
}

const std::set<std::string> written_fields = {
    "Date",        "From",       "To",           "Subject",      "Message-ID",
    "In-Reply-To", "References", "MIME-Version", "Content-Type", "Content-Transfer-Encoding"};

void check_only_own_fields(const std::string& mail) {
  for (const auto& name : field_names(mail)) {
    BOOST_TEST(written_fields.count(name) == 1u, "unexpected header " << name);
  }
}

} // namespace

BOOST_AUTO_TEST_SUITE(mime_compose)

BOOST_AUTO_TEST_CASE(plain_ascii_mail_byte_for_byte) {
  const std::string mail = compose_mail(sample());
  BOOST_TEST(mail == "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
                     "From: \"Alice\" <alice@gw.example.org>\r\n"
                     "To: bob@example.com\r\n"
                     "Subject: Lunch\r\n"
                     "Message-ID: <0123456789abcdef@gw.example.org>\r\n"
                     "MIME-Version: 1.0\r\n"
                     "Content-Type: text/plain; charset=utf-8\r\n"
                     "Content-Transfer-Encoding: 7bit\r\n"
                     "\r\n"
                     "Noon?\r\n");
}

BOOST_AUTO_TEST_CASE(mostly_ascii_utf8_body_is_quoted_printable_and_reads_back) {
  auto mail = sample();
  mail.body = "Grüße aus Köln,\nbis bald.\n";
  const std::string out = compose_mail(mail);
  check_form(out);
  BOOST_TEST(field(out, "Content-Type") == "text/plain; charset=utf-8");
  BOOST_TEST(field(out, "Content-Transfer-Encoding") == "quoted-printable");
  BOOST_TEST(split(out).second == "Gr=C3=BC=C3=9Fe aus K=C3=B6ln,\r\nbis bald.\r\n");
  BOOST_TEST(parse_mail(out).text == "Grüße aus Köln,\nbis bald.");
}

BOOST_AUTO_TEST_CASE(mostly_non_ascii_body_is_base64_of_crlf_text) {
  auto mail = sample();
  mail.body = "Привет\nмир";
  const std::string out = compose_mail(mail);
  check_form(out);
  BOOST_TEST(field(out, "Content-Transfer-Encoding") == "base64");
  // The canonical form of text is encoded: CR LF line ends, a final one added.
  BOOST_TEST(split(out).second == trestle::protocols::base64_encode("Привет\r\nмир\r\n") + "\r\n");
  BOOST_TEST(parse_mail(out).text == "Привет\nмир");
}

BOOST_AUTO_TEST_CASE(long_ascii_lines_are_quoted_printable_within_78) {
  auto mail = sample();
  const std::string line(200, 'x');
  mail.body = line + "\nshort\n" + std::string(79, 'y');
  const std::string out = compose_mail(mail);
  check_form(out);
  BOOST_TEST(field(out, "Content-Transfer-Encoding") == "quoted-printable");
  BOOST_TEST(parse_mail(out).text == line + "\nshort\n" + std::string(79, 'y'));
}

BOOST_AUTO_TEST_CASE(ascii_line_of_78_stays_7bit) {
  auto mail = sample();
  mail.body = std::string(78, 'z');
  const std::string out = compose_mail(mail);
  check_form(out);
  BOOST_TEST(field(out, "Content-Transfer-Encoding") == "7bit");
}

BOOST_AUTO_TEST_CASE(body_line_ends_become_crlf_and_controls_go) {
  auto mail = sample();
  mail.body = "a\rb\r\nc\nd\x01\x7f\te";
  const std::string out = compose_mail(mail);
  check_form(out);
  BOOST_TEST(split(out).second == "a\r\nb\r\nc\r\nd\te\r\n");
}

BOOST_AUTO_TEST_CASE(body_that_looks_like_mime_reads_back_verbatim) {
  auto mail = sample();
  mail.body = "--boundary\nContent-Type: text/html; name*=x-foo''a\n\n=?x-foo?q?a?= <b>\n";
  const std::string out = compose_mail(mail);
  check_form(out);
  const auto back = parse_mail(out);
  BOOST_TEST(back.text ==
             "--boundary\nContent-Type: text/html; name*=x-foo''a\n\n=?x-foo?q?a?= <b>");
  BOOST_TEST(back.attachments.empty());
}

BOOST_AUTO_TEST_CASE(invalid_utf8_in_body_is_replaced) {
  auto mail = sample();
  mail.body = "bad \xff byte";
  const std::string out = compose_mail(mail);
  check_form(out);
  BOOST_TEST(parse_mail(out).text == "bad \xEF\xBF\xBD byte");
}

BOOST_AUTO_TEST_CASE(utf8_subject_and_name_are_encoded_words_and_read_back) {
  auto mail = sample();
  mail.from_name = "Jörg Müller";
  mail.subject = "Grüße — ein ziemlich langer Betreff, der gefaltet werden muss, 日本語も少し";
  const std::string out = compose_mail(mail);
  check_form(out);
  BOOST_TEST(field(out, "From").starts_with("=?UTF-8?Q?J=C3=B6rg_M=C3=BCller?= <"));
  BOOST_TEST(field(out, "Subject").starts_with("=?UTF-8?Q?Gr=C3=BC=C3=9Fe"));
  const auto back = parse_mail(out);
  BOOST_TEST(back.from_name == mail.from_name);
  BOOST_TEST(back.from_address == "alice@gw.example.org");
  BOOST_TEST(back.subject == mail.subject);
}

BOOST_AUTO_TEST_CASE(long_ascii_subject_folds_between_words) {
  auto mail = sample();
  mail.subject = "This subject is long enough that it has to be folded once or even twice "
                 "before it ends, which is fine";
  const std::string out = compose_mail(mail);
  check_form(out);
  BOOST_TEST(out.find("Subject: This subject") != std::string::npos);
  BOOST_TEST(field(out, "Subject") == mail.subject);
  BOOST_TEST(parse_mail(out).subject == mail.subject);
}

BOOST_AUTO_TEST_CASE(text_that_looks_like_an_encoded_word_stays_literal) {
  auto mail = sample();
  mail.from_name = "=?utf-8?q?Boss?=";
  mail.subject = "=?utf-8?b?SGk=?= literally";
  const std::string out = compose_mail(mail);
  check_form(out);
  const auto back = parse_mail(out);
  BOOST_TEST(back.from_name == mail.from_name);
  BOOST_TEST(back.subject == mail.subject);
}

BOOST_AUTO_TEST_CASE(subject_cannot_add_a_header) {
  auto mail = sample();
  mail.subject = "Hi\r\nBcc: evil@example.net";
  const std::string out = compose_mail(mail);
  check_form(out);
  check_only_own_fields(out);
  BOOST_TEST(field(out, "Subject") == "Hi Bcc: evil@example.net");
  BOOST_TEST(parse_mail(out).subject == "Hi Bcc: evil@example.net");
  mail.subject = "Hi\nBcc: evil@example.net\n\nbody";
  check_only_own_fields(compose_mail(mail));
  mail.subject = "Hi\rBcc: evil@example.net";
  check_only_own_fields(compose_mail(mail));
}

BOOST_AUTO_TEST_CASE(display_name_cannot_add_an_address_or_header) {
  auto mail = sample();
  for (const std::string name :
       {"Evil\", <x@evil.example>, Bob", "Eve <eve@evil.example>", "a\\\" <b@c>", "x,y;z:@w",
        "Alice\r\nBcc: evil@example.net", "(comment) \"quoted\" <angle>"}) {
    mail.from_name = name;
    const std::string out = compose_mail(mail);
    check_form(out);
    check_only_own_fields(out);
    const auto back = parse_mail(out);
    BOOST_TEST(back.from_address == "alice@gw.example.org", "for name " << name);
    BOOST_TEST(
        back.from_name ==
        (name.find('\r') != std::string::npos ? std::string("Alice Bcc: evil@example.net") : name));
  }
  mail.from_name = "Evil\", <x@evil.example>, Bob";
  BOOST_TEST(field(compose_mail(mail), "From") ==
             "\"Evil\\\", <x@evil.example>, Bob\" <alice@gw.example.org>");
}

BOOST_AUTO_TEST_CASE(addresses_keep_only_addr_spec_characters) {
  auto mail = sample();
  mail.from_address = "alice@gw.example.org>, <evil@example.net";
  mail.to_address = "bob@example.com\r\nBcc: evil@example.net";
  const std::string out = compose_mail(mail);
  check_form(out);
  check_only_own_fields(out);
  BOOST_TEST(field(out, "From").find(',') == std::string::npos);
  BOOST_TEST(field(out, "To") == "bob@example.comBccevil@example.net");
}

BOOST_AUTO_TEST_CASE(empty_name_and_subject_are_left_out) {
  auto mail = sample();
  mail.from_name.clear();
  mail.subject = " \r\n ";
  const std::string out = compose_mail(mail);
  BOOST_TEST(field(out, "From") == "alice@gw.example.org");
  BOOST_TEST(!has_field(out, "Subject"));
  BOOST_TEST(!has_field(out, "In-Reply-To"));
  BOOST_TEST(!has_field(out, "References"));
}

BOOST_AUTO_TEST_CASE(thread_headers_from_references) {
  auto mail = sample();
  mail.references = {"root@example.com", "parent.1@example.com"};
  const std::string out = compose_mail(mail);
  check_form(out);
  BOOST_TEST(field(out, "In-Reply-To") == "<parent.1@example.com>");
  BOOST_TEST(field(out, "References") == "<root@example.com> <parent.1@example.com>");
  const auto back = parse_mail(out);
  BOOST_TEST(back.message_id == mail.message_id);
  BOOST_TEST(back.in_reply_to == "parent.1@example.com");
  BOOST_TEST(back.references == mail.references);
}

BOOST_AUTO_TEST_CASE(long_references_fold_between_ids) {
  auto mail = sample();
  for (int i = 0; i < 12; ++i) {
    mail.references.push_back("reference-" + std::to_string(i) + "@mail.example.com");
  }
  const std::string out = compose_mail(mail);
  check_form(out);
  BOOST_TEST(out.find("\r\n <reference-") != std::string::npos);
  BOOST_TEST(parse_mail(out).references == mail.references);
}

BOOST_AUTO_TEST_CASE(invalid_ids_are_dropped) {
  auto mail = sample();
  mail.message_id = "has space@example.com";
  mail.references = {"ok@example.com",
                     "bad\r\nBcc: evil@example.net",
                     "<bracketed@example.com>",
                     "two@@example.com",
                     "no-at-sign",
                     "trailing@dot.",
                     "=?utf-8?q?x?=@example.com",
                     "last@example.com"};
  const std::string out = compose_mail(mail);
  check_form(out);
  check_only_own_fields(out);
  BOOST_TEST(!has_field(out, "Message-ID"));
  BOOST_TEST(field(out, "References") == "<ok@example.com> <last@example.com>");
  BOOST_TEST(field(out, "In-Reply-To") == "<last@example.com>");
  mail.references = {"last is bad"};
  BOOST_TEST(!has_field(compose_mail(mail), "In-Reply-To"));
}

BOOST_AUTO_TEST_CASE(message_id_syntax) {
  BOOST_TEST(is_valid_message_id("abc@example.com"));
  BOOST_TEST(is_valid_message_id("CAF=x+y/z.1@mail.gmail.com"));
  BOOST_TEST(is_valid_message_id("a..b.@example.com"));
  BOOST_TEST(is_valid_message_id("abc@[192.0.2.1]"));
  BOOST_TEST(!is_valid_message_id(""));
  BOOST_TEST(!is_valid_message_id("abc"));
  BOOST_TEST(!is_valid_message_id("a@b@c"));
  BOOST_TEST(!is_valid_message_id("@example.com"));
  BOOST_TEST(!is_valid_message_id("abc@"));
  BOOST_TEST(!is_valid_message_id("a b@example.com"));
  BOOST_TEST(!is_valid_message_id("<a@example.com>"));
  BOOST_TEST(!is_valid_message_id("a@example.com\r\n"));
  BOOST_TEST(!is_valid_message_id("a@example..com"));
  BOOST_TEST(!is_valid_message_id("a\"b@example.com"));
  BOOST_TEST(!is_valid_message_id("a@[x y]"));
  BOOST_TEST(!is_valid_message_id(std::string(250, 'a') + "@x"));
}

BOOST_AUTO_TEST_CASE(date_is_rfc5322_in_utc) {
  auto mail = sample();
  BOOST_TEST(field(compose_mail(mail), "Date") == "Tue, 14 Nov 2023 22:13:20 +0000");
  mail.date = 0;
  BOOST_TEST(field(compose_mail(mail), "Date") == "Thu, 01 Jan 1970 00:00:00 +0000");
  mail.date = 951782400; // a leap day
  BOOST_TEST(field(compose_mail(mail), "Date") == "Tue, 29 Feb 2000 00:00:00 +0000");
  mail.date = INT64_MAX;
  BOOST_TEST(field(compose_mail(mail), "Date") == "Fri, 31 Dec 9999 23:59:59 +0000");
}

BOOST_AUTO_TEST_CASE(message_ids_are_random_and_valid) {
  const std::string a = make_message_id("gw.example.org");
  const std::string b = make_message_id("gw.example.org");
  BOOST_TEST(a != b);
  BOOST_TEST(is_valid_message_id(a));
  BOOST_TEST(a.size() == 32 + 1 + std::string("gw.example.org").size());
  BOOST_TEST(a.ends_with("@gw.example.org"));
  BOOST_TEST(a.substr(0, 32).find_first_not_of("0123456789abcdef") == std::string::npos);
  const std::string odd = make_message_id("Bad Domain>\r\n");
  BOOST_TEST(is_valid_message_id(odd));
  BOOST_TEST(odd.ends_with("@baddomain"));
  BOOST_TEST(make_message_id("").ends_with("@localhost"));
}

BOOST_AUTO_TEST_SUITE_END()
