#include "mime_text.hpp"
#include "utf8.hpp"

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

using trestle::smtp::MimeLimits;
using trestle::smtp::parse_mail;
using trestle::smtp::ParsedMail;

namespace {

/// `text` with every LF written as CR LF, as mail arrives over SMTP.
std::string crlf(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '\n') {
      out += '\r';
    }
    out += c;
  }
  return out;
}

bool has_problem(const ParsedMail& mail, std::string_view part) {
  for (const auto& problem : mail.problems) {
    if (problem.find(part) != std::string::npos) {
      return true;
    }
  }
  return false;
}

/// A one-part mail with the given Subject and body.
std::string with_subject(std::string_view subject) {
  return "From: bob@example.com\nSubject: " + std::string(subject) + "\n\nbody\n";
}

const std::string alternative = R"(From: "Bob Example" <bob@example.com>
To: alice@gw.example.org
Subject: Lunch tomorrow?
Message-ID: <CAF7x1@mail.example.com>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="000000000000a1b2c3"

--000000000000a1b2c3
Content-Type: text/plain; charset="UTF-8"

Hi Alice,

Lunch at noon?

Bob

--000000000000a1b2c3
Content-Type: text/html; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

<div dir=3D"ltr">Hi Alice,<div><br></div><div>Lunch at noon? HTML</div></div>

--000000000000a1b2c3--
)";

const std::string nested = R"(From: Carol <carol@example.net>
To: alice@gw.example.org
Subject: Report attached
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="mixed"

This is a multi-part message in MIME format.

--mixed
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=us-ascii

Here is the report.
--alt
Content-Type: text/html; charset=us-ascii

<p>Here is the report, in HTML.</p>
--alt--

--mixed
Content-Type: application/pdf; name="report.pdf"
Content-Disposition: attachment; filename="report.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQKc29tZSBwZGY=
--mixed
Content-Type: image/png
Content-Disposition: inline; filename*=UTF-8''d%C3%A9j%C3%A0.png
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--mixed
Content-Type: text/plain; charset=utf-8
Content-Disposition: attachment; filename="notes.txt"

plain text attached, not shown
--mixed
Content-Type: application/octet-stream

)" + std::string(2000, 'x') +
                           R"(
--mixed
Content-Type: text/plain; charset=utf-8

Second text part.
--mixed--
)";

const std::string postfix_bounce = R"(Return-Path: <>
From: MAILER-DAEMON@mail.example.org (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: alice@gw.example.org
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="3F1C2C0123.1700000000/mail.example.org"
Message-Id: <20231114221320.3F1C2C0123@mail.example.org>

This is a MIME-encapsulated message.

--3F1C2C0123.1700000000/mail.example.org
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mail.example.org.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<nobody@example.com>: host mx.example.com[192.0.2.1] said: 550 5.1.1
    <nobody@example.com>: Recipient address rejected: User unknown

--3F1C2C0123.1700000000/mail.example.org
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.example.org
X-Postfix-Queue-ID: 3F1C2C0123
Arrival-Date: Tue, 14 Nov 2023 22:13:19 +0000 (UTC)

Final-Recipient: rfc822; nobody@example.com
Original-Recipient: rfc822;nobody@example.com
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.com
Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.com>: Recipient address
    rejected: User unknown

--3F1C2C0123.1700000000/mail.example.org
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

Return-Path: <alice@gw.example.org>
From: Alice <alice@gw.example.org>
To: nobody@example.com
Subject: Hello
Message-ID:
 <a1b2c3@gw.example.org>

--3F1C2C0123.1700000000/mail.example.org--
)";

/// `levels` nested multipart/mixed parts around one text part.
std::string nested_levels(int levels) {
  std::string mail = "From: z@example.com\nSubject: deep\n"
                     "Content-Type: multipart/mixed; boundary=b0\n\n";
  for (int i = 0; i < levels; ++i) {
    mail += "--b" + std::to_string(i) + "\nContent-Type: multipart/mixed; boundary=b" +
            std::to_string(i + 1) + "\n\n";
  }
  mail += "--b" + std::to_string(levels) + "\nContent-Type: text/plain\n\ndeep text\n";
  for (int i = levels; i >= 0; --i) {
    mail += "--b" + std::to_string(i) + "--\n";
  }
  return mail;
}

} // namespace

BOOST_AUTO_TEST_SUITE(mime_text)

BOOST_AUTO_TEST_CASE(alternative_prefers_plain_text) {
  const auto mail = parse_mail(crlf(alternative));
  BOOST_TEST(mail.text == "Hi Alice,\n\nLunch at noon?\n\nBob");
  BOOST_TEST(mail.from_address == "bob@example.com");
  BOOST_TEST(mail.from_name == "Bob Example");
  BOOST_TEST(mail.subject == "Lunch tomorrow?");
  BOOST_TEST(mail.message_id == "CAF7x1@mail.example.com");
  BOOST_TEST(mail.attachments.empty());
  BOOST_TEST(mail.problems.empty());
  BOOST_TEST(!mail.auto_submitted);
  BOOST_TEST(!mail.list_mail);
  BOOST_TEST(!mail.is_delivery_report);
}

BOOST_AUTO_TEST_CASE(bare_lf_reads_like_crlf) {
  for (const std::string& mail : {alternative, nested, postfix_bounce}) {
    const auto lf = parse_mail(mail);
    const auto crlf_mail = parse_mail(crlf(mail));
    BOOST_TEST(lf.text == crlf_mail.text);
    BOOST_TEST(lf.subject == crlf_mail.subject);
    BOOST_TEST(lf.attachments.size() == crlf_mail.attachments.size());
  }
}

BOOST_AUTO_TEST_CASE(html_only_becomes_readable_text) {
  const auto mail = parse_mail(R"(From: News <news@shop.example>
Subject: Offers
Content-Type: text/html; charset=windows-1252

<html><head><title>Offers</title><style>p {color: red}</style></head>
<body><h1>Offers &amp; news</h1><p>Save 20&nbsp;% on <a href="https://shop.example/sale">everything</a>.</p>
<ul><li>Shoes</li><li>Hats</li></ul><script>track()</script>
<p>)" + std::string("\x93Quoted\x94 \x80 5") +
                               R"(</p></body></html>
)");
  BOOST_TEST(mail.text == "Offers & news\n\n"
                          "Save 20 % on everything (https://shop.example/sale).\n\n"
                          "- Shoes\n- Hats\n\n"
                          "\u201CQuoted\u201D \u20AC 5");
  BOOST_TEST(mail.problems.empty());
}

BOOST_AUTO_TEST_CASE(iso_8859_1_quoted_printable) {
  const auto mail = parse_mail(R"(From: =?iso-8859-1?q?J=F6rg_M=FCller?= <joerg@example.de>
Subject: =?iso-8859-1?q?Gr=FC=DFe_aus_K=F6ln?=
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Hallo Alice,

sch=F6ne Gr=FC=DFe aus K=F6ln. Diese Zeile ist lang und wird deshal=
b umgebrochen.

J=F6rg


)");
  BOOST_TEST(mail.text == "Hallo Alice,\n\nschöne Grüße aus Köln. Diese Zeile ist lang und wird "
                          "deshalb umgebrochen.\n\nJörg");
  BOOST_TEST(mail.from_name == "Jörg Müller");
  BOOST_TEST(mail.subject == "Grüße aus Köln");
}

BOOST_AUTO_TEST_CASE(base64_utf8) {
  const auto mail = parse_mail(crlf(R"(From: =?UTF-8?B?0JjQstCw0L0=?= <ivan@example.ru>
Subject: =?UTF-8?B?0J/RgNC40LLQtdGC?=
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

0J/RgNC40LLQtdGCLCDQkNC70LjRgdCwIQ0K0JrQsNC6INC00LXQu9CwPw0K
)"));
  BOOST_TEST(mail.text == "Привет, Алиса!\nКак дела?");
  BOOST_TEST(mail.from_name == "Иван");
  BOOST_TEST(mail.subject == "Привет");
  BOOST_TEST(mail.problems.empty());
}

BOOST_AUTO_TEST_CASE(nested_multipart_lists_attachments) {
  const auto mail = parse_mail(crlf(nested));
  BOOST_TEST(mail.text == "Here is the report.\n\n"
                          "Second text part.\n\n"
                          "[attachment: report.pdf, application/pdf, 17 B]\n"
                          "[attachment: déjà.png, image/png, 8 B]\n"
                          "[attachment: notes.txt, text/plain, 30 B]\n"
                          "[attachment: application/octet-stream, 2.0 KiB]");
  BOOST_REQUIRE(mail.attachments.size() == 4u);
  BOOST_TEST(mail.attachments[0].filename == "report.pdf");
  BOOST_TEST(mail.attachments[0].content_type == "application/pdf");
  BOOST_TEST(mail.attachments[0].content == "%PDF-1.4\nsome pdf");
  BOOST_TEST(mail.attachments[1].filename == "déjà.png");
  BOOST_TEST(mail.attachments[1].content == "\x89PNG\r\n\x1a\n");
  BOOST_TEST(mail.attachments[2].content == "plain text attached, not shown");
  BOOST_TEST(mail.attachments[3].filename.empty());
  BOOST_TEST(mail.attachments[3].content.size() == 2000u);
  BOOST_TEST(mail.problems.empty());
}

BOOST_AUTO_TEST_CASE(forwarded_message_is_named_not_shown) {
  const auto mail = parse_mail(R"(From: a@example.com
Subject: Fwd
Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/plain

See below.
--b
Content-Type: message/rfc822

From: Dave <dave@example.org>
Subject: =?utf-8?q?The_orig=C3=AFnal?=

Original text.
--b
Content-Type: message/rfc822

From: Eve <eve@example.org>

No subject here.
--b--
)");
  BOOST_TEST(mail.text == "See below.\n\n[forwarded message: The origïnal]\n"
                          "[forwarded message: (no subject)]");
  BOOST_TEST(mail.attachments.empty());
}

BOOST_AUTO_TEST_CASE(rfc2047_subjects) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"=?iso-8859-1?q?caf=E9?=", "café"},
      {"=?UTF-8?B?Y2Fmw6k=?=", "café"},
      {"=?UTF-8?Q?a?= =?UTF-8?Q?b?=", "ab"},
      {"=?ISO-8859-1?Q?a?=\n =?ISO-8859-2?Q?_b?=", "a b"},
      {"=?UTF-8?B?w6k=?= =?iso-8859-1?Q?=E9?= =?koi8-r?B?8A==?=", "ééП"},
      {"=?UTF-8?B?SGVsbG8=?= =?UTF-8?B?IHdvcmxk?=", "Hello world"},
      {"=?UTF-8?B?U3NzxZsgTGHFgmFsYQ==?=\n\t=?UTF-8?B?bGFsYQ==?=", "Sssś Lałalalala"},
      {"=?UTF-8?Q?=E6=97=A5?= =?UTF-8?Q?=E6=9C=AC?=", "日本"},
      {"Re: =?UTF-8?Q?caf=C3=A9?= and more", "Re: café and more"},
      {"a long subject\n  folded over\n\ttwo lines", "a long subject folded over two lines"},
      {"plain \xC3\xA9 utf-8", "plain é utf-8"},
      {"plain \xE9 latin-1", "plain é latin-1"},
      {"=?utf-8?q?bell=07_rings?=", "bell rings"},
      {"=?x-made-up?q?caf=C3=A9?=", "café"},
      {"=?utf-8*en?q?caf=C3=A9?=", "café"},
      {"not *=x-foo'a parameter", "not *=x-foo'a parameter"},
  };
  for (const auto& [raw, expected] : cases) {
    const auto mail = parse_mail(with_subject(raw));
    BOOST_TEST(mail.subject == expected, "for " << raw);
  }
}

BOOST_AUTO_TEST_CASE(attachment_names_in_every_form) {
  const auto mail = parse_mail(R"(From: a@example.com
Content-Type: multipart/mixed; boundary=b

--b
Content-Type: application/pdf
Content-Disposition: attachment; filename*="iso-8859-1''caf%E9.pdf"

x
--b
Content-Type: application/pdf; name*=x-made-up''d%C3%A9j%C3%A0.pdf

x
--b
Content-Type: application/pdf; name="=?UTF-8?B?w6k=?= =?UTF-8?B?w6k=?=.pdf"

x
--b
Content-Type: application/pdf
Content-Disposition: attachment;
 filename*0*=UTF-8''long%20;
 filename*1*=name.pdf

x
--b
Content-Type: message/rfc822

Subject: =?x-made-up?q?caf=C3=A9?=

inner
--b--
)");
  std::vector<std::string> names;
  for (const auto& attachment : mail.attachments) {
    names.push_back(attachment.filename);
  }
  BOOST_TEST(names ==
             (std::vector<std::string>{"café.pdf", "déjà.pdf", "éé.pdf", "long name.pdf"}));
  BOOST_TEST(mail.text.ends_with("[forwarded message: café]"));
}

BOOST_AUTO_TEST_CASE(from_names_and_groups) {
  auto mail = parse_mail("From: =?UTF-8?B?U3NzxZsgTGHFgmFsYQ==?= =?UTF-8?B?bGFsYQ==?= "
                         "<s@example.pl>\n\nx\n");
  BOOST_TEST(mail.from_name == "Sssś Lałalalala");
  BOOST_TEST(mail.from_address == "s@example.pl");
  mail = parse_mail("From: \"Doe, John\" <john@example.com>\n\nx\n");
  BOOST_TEST(mail.from_name == "Doe, John");
  mail = parse_mail("From: john@example.com (John Doe)\n\nx\n");
  BOOST_TEST(mail.from_address == "john@example.com");
  mail = parse_mail("From: Team: ann@example.com, ben@example.com;\n\nx\n");
  BOOST_TEST(mail.from_address == "ann@example.com");
  mail = parse_mail("Subject: no sender\n\nx\n");
  BOOST_TEST(mail.from_address.empty());
  BOOST_TEST(mail.text == "x");
}

BOOST_AUTO_TEST_CASE(broken_base64_is_read_as_far_as_it_goes) {
  const auto mail = parse_mail(R"(From: x@example.com
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

SGVsbG8gd29y!!bGQh
)");
  BOOST_TEST(mail.text == "Hello world!");
  BOOST_TEST(has_problem(mail, "broken base64"));
}

BOOST_AUTO_TEST_CASE(unknown_charset_is_noted_and_guessed) {
  auto mail = parse_mail("From: y@example.com\nContent-Type: text/plain; charset=x-foo\n\n"
                         "caf\xE9 cr\xE8me\n");
  BOOST_TEST(mail.text == "café crème");
  BOOST_TEST(mail.problems == std::vector<std::string>{"unknown charset 'x-foo'"});
  mail = parse_mail("From: y@example.com\nContent-Type: text/plain; charset=x-foo\n\n"
                    "caf\xC3\xA9\n");
  BOOST_TEST(mail.text == "café");
}

BOOST_AUTO_TEST_CASE(eight_bit_without_charset) {
  auto mail = parse_mail("From: y@example.com\n\nUTF-8 \xC3\xA9t\xC3\xA9\n");
  BOOST_TEST(mail.text == "UTF-8 été");
  BOOST_TEST(mail.problems.empty());
  mail = parse_mail("From: y@example.com\n\nlatin-1 \xE9t\xE9 \x80\n");
  BOOST_TEST(mail.text == "latin-1 été €");
  BOOST_TEST(has_problem(mail, "without a charset"));
  mail = parse_mail("From: y@example.com\nContent-Type: text/plain; charset=us-ascii\n\n"
                    "mislabelled \xC3\xA9\n");
  BOOST_TEST(mail.text == "mislabelled é");
}

BOOST_AUTO_TEST_CASE(other_charsets_through_iconv) {
  auto mail = parse_mail("From: y@example.com\nContent-Type: text/plain; charset=koi8-r\n\n"
                         "\xF0\xD2\xC9\xD7\xC5\xD4\n");
  BOOST_TEST(mail.text == "Привет");
  mail = parse_mail("From: y@example.com\nContent-Type: text/plain; charset=ISO-2022-JP\n\n"
                    "\x1B$BF|K\\\x1B(B\n");
  BOOST_TEST(mail.text == "日本");
  mail = parse_mail("From: y@example.com\nContent-Type: text/plain; charset=shift_jis\n\n"
                    "ok \xFF\xFF end\n");
  BOOST_TEST(trestle::xmpp::is_valid_utf8(mail.text));
  BOOST_TEST(mail.text.starts_with("ok "));
  BOOST_TEST(has_problem(mail, "not valid in charset 'shift_jis'"));
}

BOOST_AUTO_TEST_CASE(invalid_utf8_is_replaced) {
  const auto mail = parse_mail("From: y@example.com\nContent-Type: text/plain; charset=utf-8\n\n"
                               "bad \xFF\xC3 end\n");
  BOOST_TEST(mail.text == "bad \uFFFD\uFFFD end");
  BOOST_TEST(has_problem(mail, "invalid UTF-8"));
}

BOOST_AUTO_TEST_CASE(controls_are_dropped_and_line_ends_normalised) {
  const auto mail = parse_mail("From: y@example.com\n\na\x01\x1B[31mb\x7F\r\nc\rd\te\n\n \n\n");
  BOOST_TEST(mail.text == "a[31mb\nc\nd\te");
}

BOOST_AUTO_TEST_CASE(postfix_bounce_is_a_delivery_report) {
  const auto mail = parse_mail(crlf(postfix_bounce));
  BOOST_TEST(mail.is_delivery_report);
  BOOST_TEST(mail.auto_submitted);
  BOOST_TEST(mail.report.original_message_id == "a1b2c3@gw.example.org");
  BOOST_TEST(mail.report.failed_recipients == std::vector<std::string>{"nobody@example.com"});
  BOOST_TEST(mail.report.status == "5.1.1");
  BOOST_TEST(mail.report.diagnostic ==
             "550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown");
  BOOST_TEST(mail.text == "This is the mail system at host mail.example.org.\n\n"
                          "I'm sorry to have to inform you that your message could not\n"
                          "be delivered to one or more recipients.\n\n"
                          "<nobody@example.com>: host mx.example.com[192.0.2.1] said: 550 5.1.1\n"
                          "    <nobody@example.com>: Recipient address rejected: User unknown");
  BOOST_TEST(mail.attachments.empty());
}

BOOST_AUTO_TEST_CASE(bounce_with_returned_message) {
  const auto mail = parse_mail(R"(From: postmaster@example.net
Subject: Delivery Status Notification (Failure)
Content-Type: multipart/report; report-type="Delivery-Status"; boundary=r

--r
Content-Type: multipart/alternative; boundary=a

--a
Content-Type: text/plain

Delivery failed for two recipients.
--a
Content-Type: text/html

<p>Delivery failed</p>
--a--
--r
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; <one@example.net>
Action: failed
Status: 5.2.2
Diagnostic-Code: smtp; 552 mailbox full

Final-Recipient: rfc822; ok@example.net
Action: delivered
Status: 2.0.0

Final-Recipient: rfc822; two@example.net
Action: Failed
Status: 5.1.1
--r
Content-Type: message/rfc822

From: alice@gw.example.org
Message-ID: <sent.42@gw.example.org>
Subject: Hi

Hello.
--r--
)");
  BOOST_TEST(mail.is_delivery_report);
  BOOST_TEST(mail.text == "Delivery failed for two recipients.");
  BOOST_TEST(mail.report.original_message_id == "sent.42@gw.example.org");
  BOOST_TEST(mail.report.failed_recipients ==
             (std::vector<std::string>{"one@example.net", "two@example.net"}));
  BOOST_TEST(mail.report.status == "5.2.2");
  BOOST_TEST(mail.report.diagnostic == "552 mailbox full");
}

BOOST_AUTO_TEST_CASE(other_reports_are_not_bounces) {
  const auto mail = parse_mail(R"(From: a@example.net
Content-Type: multipart/report; report-type=disposition-notification; boundary=r

--r
Content-Type: text/plain

Your message was read.
--r--
)");
  BOOST_TEST(!mail.is_delivery_report);
  BOOST_TEST(mail.text == "Your message was read.");
}

BOOST_AUTO_TEST_CASE(auto_submitted_flag) {
  const std::vector<std::pair<std::string, bool>> cases = {
      {"Auto-Submitted: auto-replied\n", true},
      {"Auto-Submitted: auto-generated; owner-email=\"x@y\"\n", true},
      {"Auto-Submitted: no\n", false},
      {"Auto-Submitted: No (a person wrote this)\n", false},
      {"", false},
  };
  for (const auto& [header, expected] : cases) {
    const auto mail = parse_mail("From: a@example.com\n" + header + "\nx\n");
    BOOST_TEST(mail.auto_submitted == expected, "for " << header);
  }
}

BOOST_AUTO_TEST_CASE(list_mail_flag) {
  const std::vector<std::pair<std::string, bool>> cases = {
      {"List-Id: Talk <talk.lists.example.org>\n", true},
      {"List-Unsubscribe: <mailto:leave@lists.example.org>\n", true},
      {"List-Post: <mailto:talk@lists.example.org>\n", true},
      {"Precedence: bulk\n", true},
      {"Precedence: List\n", true},
      {"Precedence: junk\n", true},
      {"Precedence: first-class\n", false},
      {"", false},
  };
  for (const auto& [header, expected] : cases) {
    const auto mail = parse_mail("From: a@example.com\n" + header + "\nx\n");
    BOOST_TEST(mail.list_mail == expected, "for " << header);
  }
}

BOOST_AUTO_TEST_CASE(thread_ids_lose_their_brackets) {
  const auto mail = parse_mail(R"(From: a@example.com
Message-ID: <this.1@example.com>
In-Reply-To: <parent@example.com> <other@example.com>
References: <root@example.com>
 <bad id@example.com> <parent@example.com>

x
)");
  BOOST_TEST(mail.message_id == "this.1@example.com");
  BOOST_TEST(mail.in_reply_to == "parent@example.com");
  BOOST_TEST(mail.references ==
             (std::vector<std::string>{"root@example.com", "parent@example.com"}));
}

BOOST_AUTO_TEST_CASE(format_flowed_lines_are_joined) {
  auto mail = parse_mail("From: a@example.com\n"
                         "Content-Type: text/plain; charset=utf-8; format=flowed\n\n"
                         "This is a long \nparagraph that flows.\n"
                         "Hard break.\n"
                         ">> Quoted and \n>> flowed.\n"
                         "> Less \n"
                         "quoted.\n"
                         " From stuffed\n"
                         "-- \n"
                         "Sig\n");
  BOOST_TEST(mail.text == "This is a long paragraph that flows.\n"
                          "Hard break.\n"
                          ">> Quoted and flowed.\n"
                          "> Less \n"
                          "quoted.\n"
                          "From stuffed\n"
                          "-- \n"
                          "Sig");
  mail = parse_mail("From: a@example.com\n"
                    "Content-Type: text/plain; format=flowed; delsp=yes\n\n"
                    "日本語の \n文章\n");
  BOOST_TEST(mail.text == "日本語の文章");
}

BOOST_AUTO_TEST_CASE(signatures_of_signed_mail_are_not_listed) {
  const auto mail = parse_mail(R"(From: a@example.com
Content-Type: multipart/signed; protocol="application/pgp-signature"; micalg=pgp-sha256; boundary=s

--s
Content-Type: text/plain

Signed text.
--s
Content-Type: application/pgp-signature; name="signature.asc"

-----BEGIN PGP SIGNATURE-----
xyz
-----END PGP SIGNATURE-----
--s--
)");
  BOOST_TEST(mail.text == "Signed text.");
  BOOST_TEST(mail.attachments.empty());
}

BOOST_AUTO_TEST_CASE(max_text_bytes_cuts_at_a_character) {
  MimeLimits limits;
  limits.max_text_bytes = 5;
  const auto mail = parse_mail("From: a@example.com\nContent-Type: text/plain; charset=utf-8\n\n"
                               "ééééé\n",
                               limits);
  BOOST_TEST(mail.text == "éé\n[\u2026 6 more bytes not shown]");
  limits.max_text_bytes = 10;
  BOOST_TEST(parse_mail("From: a@example.com\n\nééééé\n", limits).text == "ééééé");
}

BOOST_AUTO_TEST_CASE(deep_nesting_is_listed_not_opened) {
  auto mail = parse_mail(nested_levels(30));
  BOOST_TEST(mail.text == "[not opened: multipart/mixed, nested too deep]");
  BOOST_TEST(has_problem(mail, "nested deeper than 20 levels"));
  MimeLimits limits;
  limits.max_depth = 40;
  mail = parse_mail(nested_levels(30), limits);
  BOOST_TEST(mail.text == "deep text");
  BOOST_TEST(mail.problems.empty());
  // Far deeper than GMime's own limit: no crash, some text.
  mail = parse_mail(nested_levels(3000));
  BOOST_TEST(trestle::xmpp::is_valid_utf8(mail.text));
}

BOOST_AUTO_TEST_CASE(max_parts_stops_the_walk) {
  std::string raw = "From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\n";
  for (int i = 0; i < 5; ++i) {
    raw += "--b\nContent-Type: text/plain\n\npart " + std::to_string(i) + "\n";
  }
  raw += "--b--\n";
  MimeLimits limits;
  limits.max_parts = 3;
  const auto mail = parse_mail(raw, limits);
  BOOST_TEST(mail.text == "part 0\n\npart 1");
  BOOST_TEST(has_problem(mail, "more than 3 MIME parts"));
}

BOOST_AUTO_TEST_CASE(garbage_never_throws_and_gives_valid_utf8) {
  const std::vector<std::string> inputs = {
      "",
      "\n\n",
      std::string("\0\0\0", 3),
      "no headers at all, just text \xFF",
      "Content-Type: multipart/mixed\n\nno boundary\n",
      "Content-Type: multipart/mixed; boundary=x\n\n--x\n--x\n--x--\n",
      "Content-Type: text/plain; charset=\"\n\n\xFF\xFE\x00\x01\n",
      "Subject: =?utf-8?b?broken\nFrom: <>\n\nx",
      "Content-Transfer-Encoding: base64\n\n====\n",
      "Content-Type: message/rfc822\n\n",
      std::string(100000, 'A') + ": " + std::string(100000, '=') + "?\n\nx",
  };
  for (const auto& input : inputs) {
    const auto mail = parse_mail(input);
    BOOST_TEST(trestle::xmpp::is_valid_utf8(mail.text));
    BOOST_TEST(trestle::xmpp::is_valid_utf8(mail.subject));
  }
}

BOOST_AUTO_TEST_SUITE_END()
