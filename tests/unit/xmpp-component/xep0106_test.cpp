#include "jid.hpp"
#include "xep0106.hpp"

#include <boost/test/unit_test.hpp>
#include <string>
#include <string_view>

namespace xep0106 = trestle::xmpp::xep0106;
using trestle::xmpp::Jid;

namespace {

struct Vector {
  std::string_view unescaped;
  std::string_view escaped;
};

/// XEP-0106 section 5.1 "JID Examples", localparts only (the XEP's HTML
/// shows the spaces of rows 1-3 as &#160;; its escaped column, \20, is
/// U+0020). Rows 9-11 are below: the XEP's own table contradicts its
/// section 4.3 there.
constexpr Vector jid_examples[] = {
    {"space cadet", "space\\20cadet"},
    {"call me \"ishmael\"", "call\\20me\\20\\22ishmael\\22"},
    {"at&t guy", "at\\26t\\20guy"},
    {"d'artagnan", "d\\27artagnan"},
    {"/.fanboy", "\\2f.fanboy"},
    {"::foo::", "\\3a\\3afoo\\3a\\3a"},
    {"<foo>", "\\3cfoo\\3e"},
    {"user@host", "user\\40host"},
    {"c:\\5commas", "c\\3a\\5c5commas"},
};

/// Rows 9-11 of the same table escape a backslash that does not start an
/// escape code ("\n", "\\", "\c"), which section 4.3 ("foo\bar is not
/// modified") and the escaping rule of section 4.1 forbid. Both forms
/// unescape to the user's input; escape() produces the section 4.3 form.
struct ContestedVector {
  std::string_view unescaped;
  std::string_view xep_table;
  std::string_view escaped;
};

constexpr ContestedVector contested_examples[] = {
    {"c:\\net", "c\\3a\\5cnet", "c\\3a\\net"},
    {"c:\\\\net", "c\\3a\\5c\\5cnet", "c\\3a\\\\net"},
    {"c:\\cool stuff", "c\\3a\\5ccool\\20stuff", "c\\3a\\cool\\20stuff"},
};

/// The worked examples of sections 5.2-5.7 (localparts, after the URI
/// decoding those sections describe).
constexpr Vector address_examples[] = {
    // 5.2-5.4 email, sip:, im: and pres:.
    {"here's_a_wild_&_/cr%zy/_address", "here\\27s_a_wild_\\26_\\2fcr%zy\\2f_address"},
    // 5.5 IMPS.
    {"here's_a_wild_&_/cr%zy/_address_for:<wv>(\"IMPS\")",
     "here\\27s_a_wild_\\26_\\2fcr%zy\\2f_address_for\\3a\\3cwv\\3e(\\22IMPS\\22)"},
    {"\\3and\\2is\\5cool", "\\5c3and\\2is\\5c5cool"},
    // 5.6 LDAP (the backslash before ',' is removed by decoding the DN; the
    // one in \E9 is not a JID escape and stays).
    {"CN=D'Artagnan Saint-Andr\\E9,O=Example & Company, Inc.,DC=example,DC=com",
     "CN=D\\27Artagnan\\20Saint-Andr\\E9,O=Example\\20\\26\\20Company,\\20Inc.,DC=example,DC=com"},
    // 5.7 IRC.
    {"somenick!user\"&'/:<>\\3address", "somenick!user\\22\\26\\27\\2f\\3a\\3c\\3e\\5c3address"},
    // 3.2 / 3.3 prose examples.
    {"d'artagnan", "d\\27artagnan"},
    {"treville@musketeers.lit", "treville\\40musketeers.lit"},
};

/// Section 4.3: partial and unknown sequences are not modified either way.
constexpr std::string_view untouched[] = {
    "\\2plus\\2is\\4", "foo\\bar", "foob\\41r", "\\", "a\\", "a\\2", "\\2F", "\\3A", "\\5C",
};

} // namespace

BOOST_AUTO_TEST_SUITE(xep0106_escaping)

BOOST_AUTO_TEST_CASE(jid_example_table_both_directions) {
  for (const auto& [unescaped, escaped] : jid_examples) {
    BOOST_TEST(xep0106::escape(unescaped) == escaped);
    BOOST_TEST(xep0106::unescape(escaped) == unescaped);
  }
}

BOOST_AUTO_TEST_CASE(jid_example_rows_9_to_11) {
  for (const auto& [unescaped, xep_table, escaped] : contested_examples) {
    BOOST_TEST(xep0106::unescape(xep_table) == unescaped);
    BOOST_TEST(xep0106::escape(unescaped) == escaped);
    BOOST_TEST(xep0106::unescape(escaped) == unescaped);
  }
}

BOOST_AUTO_TEST_CASE(address_examples_both_directions) {
  for (const auto& [unescaped, escaped] : address_examples) {
    BOOST_TEST(xep0106::escape(unescaped) == escaped);
    BOOST_TEST(xep0106::unescape(escaped) == unescaped);
  }
}

BOOST_AUTO_TEST_CASE(partial_and_unknown_sequences_are_left_alone) {
  for (const auto text : untouched) {
    BOOST_TEST(xep0106::escape(text) == text);
    BOOST_TEST(xep0106::unescape(text) == text);
  }
}

BOOST_AUTO_TEST_CASE(every_code_both_ways) {
  constexpr Vector codes[] = {
      {" x ", "x"}, // outer spaces are dropped, see below
      {"x x", "x\\20x"}, {"\"", "\\22"}, {"&", "\\26"}, {"'", "\\27"}, {"/", "\\2f"},
      {":", "\\3a"},     {"<", "\\3c"},  {">", "\\3e"}, {"@", "\\40"}, {"\\5c", "\\5c5c"},
  };
  for (const auto& [unescaped, escaped] : codes) {
    BOOST_TEST(xep0106::escape(unescaped) == escaped);
  }
  BOOST_TEST(xep0106::unescape("\\20\\22\\26\\27\\2f\\3a\\3c\\3e\\40\\5c") == " \"&'/:<>@\\");
}

BOOST_AUTO_TEST_CASE(outer_spaces_are_not_escaped) {
  // Section 4.1 rule 6: \20 must not start or end an escaped localpart.
  BOOST_TEST(xep0106::escape("  bob  ") == "bob");
  BOOST_TEST(xep0106::escape(" bob smith") == "bob\\20smith");
  BOOST_TEST(xep0106::escape("   ").empty());
  BOOST_TEST(xep0106::escape("").empty());
  // Unescaping is lenient: a wire JID breaking the rule still reads back.
  BOOST_TEST(xep0106::unescape("\\20bob\\20") == " bob ");
}

BOOST_AUTO_TEST_CASE(escaped_forms_are_valid_localparts) {
  for (const auto& [unescaped, escaped] : jid_examples) {
    std::string error;
    const auto jid = Jid::from_parts(xep0106::escape(unescaped), "example.com", {}, &error);
    BOOST_TEST(jid.has_value(), unescaped << ": " << error);
  }
  const auto email = Jid::parse(xep0106::escape("bob@example.com") + "@mail.example.org");
  BOOST_TEST_REQUIRE(email.has_value());
  BOOST_TEST(email->local() == "bob\\40example.com");
  BOOST_TEST(xep0106::unescape(email->local()) == "bob@example.com");
  // The unescaped form itself is not a valid localpart.
  BOOST_TEST(!Jid::from_parts("d'artagnan", "example.com"));
}

BOOST_AUTO_TEST_CASE(non_ascii_passes_through) {
  BOOST_TEST(xep0106::escape("tr\xC3\xA9ville@musketeers.lit") ==
             "tr\xC3\xA9ville\\40musketeers.lit");
  BOOST_TEST(xep0106::unescape("tr\xC3\xA9ville\\40musketeers.lit") ==
             "tr\xC3\xA9ville@musketeers.lit");
}

BOOST_AUTO_TEST_SUITE_END()
