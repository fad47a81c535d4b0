#include "jid.hpp"

#include <boost/test/unit_test.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <stringprep.h>
#include <unordered_set>
#include <vector>

namespace trestle::xmpp {
// Lets Boost.Test print JIDs in failure messages.
std::ostream& boost_test_print_type(std::ostream& out, const Jid& jid) {
  return out << jid.to_string();
}
} // namespace trestle::xmpp

using trestle::xmpp::BareJidEqual;
using trestle::xmpp::BareJidHash;
using trestle::xmpp::Jid;
using trestle::xmpp::JidHash;

namespace {

/// Parses `text`, failing the test (with the reason) if it is invalid.
Jid must_parse(std::string_view text) {
  std::string error;
  const auto jid = Jid::parse(text, &error);
  BOOST_TEST_REQUIRE(jid.has_value(), "'" << text << "' rejected: " << error);
  return *jid;
}

/// The reason `text` is rejected; fails the test if it is accepted.
std::string rejection(std::string_view text) {
  std::string error;
  const auto jid = Jid::parse(text, &error);
  BOOST_TEST(!jid.has_value(), "'" << text << "' accepted as " << (jid ? jid->to_string() : ""));
  BOOST_TEST(!error.empty());
  return error;
}

/// A domain of exactly `size` bytes (size >= 1): one-letter labels, the
/// first one widened to make up an even size.
std::string domain_of(std::size_t size) {
  std::string domain(size % 2 == 0 ? 2 : 1, 'b');
  while (domain.size() + 2 <= size) {
    domain += ".a";
  }
  return domain;
}

std::string repeat(std::string_view unit, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) {
    out += unit;
  }
  return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(jid)

BOOST_AUTO_TEST_CASE(parses_the_three_forms) {
  const Jid full = must_parse("user@example.com/desk");
  BOOST_TEST(full.local() == "user");
  BOOST_TEST(full.domain() == "example.com");
  BOOST_TEST(full.resource() == "desk");
  BOOST_TEST(!full.is_bare());

  const Jid bare = must_parse("user@example.com");
  BOOST_TEST(bare.local() == "user");
  BOOST_TEST(bare.resource().empty());
  BOOST_TEST(bare.is_bare());

  const Jid domain_only = must_parse("example.com");
  BOOST_TEST(domain_only.local().empty());
  BOOST_TEST(domain_only.domain() == "example.com");

  const Jid domain_resource = must_parse("example.com/res");
  BOOST_TEST(domain_resource.local().empty());
  BOOST_TEST(domain_resource.resource() == "res");
}

BOOST_AUTO_TEST_CASE(splits_at_first_slash_then_first_at) {
  // RFC 7622 3.1: the resource may hold '/' and '@'.
  const Jid jid = must_parse("user@example.com/a/b@c");
  BOOST_TEST(jid.local() == "user");
  BOOST_TEST(jid.domain() == "example.com");
  BOOST_TEST(jid.resource() == "a/b@c");

  const Jid no_local = must_parse("example.com/user@host");
  BOOST_TEST(no_local.local().empty());
  BOOST_TEST(no_local.resource() == "user@host");

  // The first '@' ends the localpart, so a second one lands in the domain,
  // where it is not allowed.
  BOOST_TEST(rejection("a@b@example.com") ==
             "domainpart contains a character not allowed in a domain name");
}

BOOST_AUTO_TEST_CASE(rejects_empty_parts) {
  BOOST_TEST(rejection("") == "empty JID");
  BOOST_TEST(rejection("@example.com") == "localpart is empty");
  BOOST_TEST(rejection("user@example.com/") == "resourcepart is empty");
  BOOST_TEST(rejection("user@") == "domainpart is empty");
  BOOST_TEST(rejection("user@/res") == "domainpart is empty");
  BOOST_TEST(rejection("/res") == "domainpart is empty");
  BOOST_TEST(rejection("@") == "localpart is empty");
  BOOST_TEST(rejection(".") == "domainpart is empty");
}

BOOST_AUTO_TEST_CASE(localpart_length_limit) {
  const std::string ok = std::string(1023, 'a') + "@example.com";
  BOOST_TEST(must_parse(ok).local().size() == 1023u);
  BOOST_TEST(rejection(std::string(1024, 'a') + "@example.com") ==
             "localpart is longer than 1023 bytes");
}

BOOST_AUTO_TEST_CASE(domainpart_length_limit) {
  BOOST_TEST(domain_of(1023).size() == 1023u);
  BOOST_TEST(must_parse("user@" + domain_of(1023)).domain().size() == 1023u);
  BOOST_TEST(rejection("user@" + domain_of(1024)) == "domainpart is longer than 1023 bytes");
  // The stripped trailing dot does not count.
  BOOST_TEST(must_parse(domain_of(1023) + ".").domain() == domain_of(1023));
}

BOOST_AUTO_TEST_CASE(resourcepart_length_limit) {
  BOOST_TEST(must_parse("example.com/" + std::string(1023, 'r')).resource().size() == 1023u);
  BOOST_TEST(rejection("example.com/" + std::string(1024, 'r')) ==
             "resourcepart is longer than 1023 bytes");
}

BOOST_AUTO_TEST_CASE(length_counts_after_preparation) {
  // U+00AD SOFT HYPHEN is mapped to nothing: 1023 letters plus one of them
  // is 1025 bytes of input but 1023 after nodeprep.
  const Jid shrunk = must_parse(std::string(1023, 'a') + "\xC2\xAD@example.com");
  BOOST_TEST(shrunk.local() == std::string(1023, 'a'));

  // U+0130 (2 bytes) case-folds to "i" + U+0307 (3 bytes): 341 of them give
  // 1023 bytes, 342 give 1026.
  BOOST_TEST(must_parse(repeat("\xC4\xB0", 341) + "@example.com").local().size() == 1023u);
  BOOST_TEST(rejection(repeat("\xC4\xB0", 342) + "@example.com") ==
             "localpart is longer than 1023 bytes");

  // Mapped to nothing entirely.
  BOOST_TEST(rejection("\xC2\xAD@example.com") == "localpart is empty after preparation");
}

BOOST_AUTO_TEST_CASE(preparation_may_grow_the_input) {
  // U+FDFA (3 bytes) becomes 33 bytes under NFKC: the buffer has to grow.
  const Jid jid = must_parse("example.com/\xEF\xB7\xBA");
  BOOST_TEST(jid.resource().size() == 33u);
  BOOST_TEST(jid.resource() == "\xD8\xB5\xD9\x84\xD9\x89 \xD8\xA7\xD9\x84\xD9\x84\xD9\x87 "
                               "\xD8\xB9\xD9\x84\xD9\x8A\xD9\x87 \xD9\x88\xD8\xB3\xD9\x84\xD9\x85");
}

BOOST_AUTO_TEST_CASE(folds_case_of_local_and_domain_but_not_resource) {
  const Jid jid = must_parse("JuLiEt@CaPuLeT.Example/Balcony");
  BOOST_TEST(jid.local() == "juliet");
  BOOST_TEST(jid.domain() == "capulet.example");
  BOOST_TEST(jid.resource() == "Balcony");
  BOOST_TEST(jid == must_parse("juliet@capulet.example/Balcony"));
  BOOST_TEST(!(jid == must_parse("juliet@capulet.example/balcony")));

  // Non-ASCII letters fold too.
  const Jid accented = must_parse("\xC3\x84rger@\xC3\x89XAMPLE.com/\xC3\x84");
  BOOST_TEST(accented.local() == "\xC3\xA4rger");
  BOOST_TEST(accented.domain() == "\xC3\xA9xample.com");
  BOOST_TEST(accented.resource() == "\xC3\x84");
}

BOOST_AUTO_TEST_CASE(rejects_prohibited_localpart_characters) {
  for (const std::string_view bad : {"a b", "a\"b", "a&b", "a'b", "a:b", "a<b", "a>b"}) {
    BOOST_TEST(rejection(std::string(bad) + "@example.com") ==
               "localpart contains a prohibited character");
  }
  // '@' and '/' cannot reach the localpart through parse(), but can through
  // from_parts().
  std::string error;
  BOOST_TEST(!Jid::from_parts("a@b", "example.com", {}, &error));
  BOOST_TEST(error == "localpart contains a prohibited character");
  BOOST_TEST(!Jid::from_parts("a/b", "example.com", {}, &error));
  BOOST_TEST(error == "localpart contains a prohibited character");
  // U+FF20 FULLWIDTH COMMERCIAL AT normalizes to '@' and is caught after NFKC.
  BOOST_TEST(rejection("a\xEF\xBC\xA0"
                       "b@example.com") == "localpart contains a prohibited character");
}

BOOST_AUTO_TEST_CASE(rejects_control_characters) {
  BOOST_TEST(rejection("a\x01@example.com") == "localpart contains a prohibited character");
  BOOST_TEST(rejection("example.com/a\x7F") == "resourcepart contains a prohibited character");
  BOOST_TEST(rejection("exa\x01mple.com") ==
             "domainpart contains a character not allowed in a domain name");
  BOOST_TEST(rejection(std::string("a\0b@example.com", 15)) == "localpart contains a NUL byte");
  BOOST_TEST(rejection(std::string("example.com/\0", 13)) == "resourcepart contains a NUL byte");
}

BOOST_AUTO_TEST_CASE(allows_spaces_and_punctuation_in_the_resource) {
  const Jid jid = must_parse("room@muc.example/Mr. O'Brien & \"co\" <x>");
  BOOST_TEST(jid.resource() == "Mr. O'Brien & \"co\" <x>");
}

BOOST_AUTO_TEST_CASE(rejects_invalid_utf8) {
  BOOST_TEST(rejection("\xFF@example.com") == "localpart is not valid UTF-8");
  BOOST_TEST(rejection("user@ex\xC3.com") == "domainpart is not valid UTF-8");
  BOOST_TEST(rejection("user@example.com/\xC3") == "resourcepart is not valid UTF-8");
  // Overlong '/', a UTF-16 surrogate, a code point above U+10FFFF.
  BOOST_TEST(rejection("example.com/\xC0\xAF") == "resourcepart is not valid UTF-8");
  BOOST_TEST(rejection("example.com/\xED\xA0\x80") == "resourcepart is not valid UTF-8");
  BOOST_TEST(rejection("example.com/\xF4\x90\x80\x80") == "resourcepart is not valid UTF-8");
  BOOST_TEST(rejection("example.com/a\x80") == "resourcepart is not valid UTF-8");
}

BOOST_AUTO_TEST_CASE(rejects_bidi_violations) {
  // Hebrew alef followed by a Latin letter mixes RandALCat and LCat.
  BOOST_TEST(rejection("example.com/\xD7\x90"
                       "a") == "resourcepart violates the bidirectional text rules");
  BOOST_TEST(must_parse("example.com/\xD7\x90\xD7\x91").resource() == "\xD7\x90\xD7\x91");
}

BOOST_AUTO_TEST_CASE(strips_one_trailing_dot) {
  BOOST_TEST(must_parse("user@example.com.") == must_parse("user@example.com"));
  BOOST_TEST(must_parse("user@example.com./r").domain() == "example.com");
  BOOST_TEST(rejection("user@example.com..") == "domainpart has an empty label");
  BOOST_TEST(rejection("user@.example.com") == "domainpart has an empty label");
  BOOST_TEST(rejection("user@example..com") == "domainpart has an empty label");
}

BOOST_AUTO_TEST_CASE(checks_domain_characters) {
  BOOST_TEST(must_parse("irc_gw.example.org").domain() == "irc_gw.example.org");
  BOOST_TEST(must_parse("my-host.example").domain() == "my-host.example");
  for (const std::string_view bad : {"exa mple.com", "exa:mple.com", "exa,mple.com", "[::1]x"}) {
    std::string error;
    BOOST_TEST(!Jid::parse(bad, &error), bad);
  }
}

BOOST_AUTO_TEST_CASE(accepts_ip_literals) {
  BOOST_TEST(must_parse("user@127.0.0.1/r").domain() == "127.0.0.1");
  BOOST_TEST(must_parse("user@[::1]/r").domain() == "[::1]");
  BOOST_TEST(must_parse("[0:0:0:0:0:0:0:1]") == must_parse("[::1]"));
  BOOST_TEST(must_parse("[2001:DB8::A]").domain() == "[2001:db8::a]");
  BOOST_TEST(rejection("user@[::1") == "domainpart is not a valid IPv6 literal");
  BOOST_TEST(rejection("user@[]") == "domainpart is not a valid IPv6 literal");
  BOOST_TEST(rejection("user@[zz::1]") == "domainpart is not a valid IPv6 literal");
  BOOST_TEST(rejection("user@[::1%eth0]") == "domainpart is not a valid IPv6 literal");
}

BOOST_AUTO_TEST_CASE(to_string_round_trips) {
  for (const std::string_view text :
       {"user@example.com/desk", "example.com", "example.com/r", "user@example.com", "u@[::1]/x/y",
        "\xC3\xA4@\xC3\xA9xample.com/\xC3\x84"}) {
    const Jid jid = must_parse(text);
    BOOST_TEST(jid.to_string() == text);
    BOOST_TEST(must_parse(jid.to_string()) == jid);
  }
  const Jid jid = must_parse("user@example.com/desk");
  BOOST_TEST(jid.bare_string() == "user@example.com");
  BOOST_TEST(must_parse("example.com/desk").bare_string() == "example.com");
}

BOOST_AUTO_TEST_CASE(from_parts_prepares_like_parse) {
  const auto jid = Jid::from_parts("User", "Example.COM.", "Desk");
  BOOST_TEST_REQUIRE(jid.has_value());
  BOOST_TEST(*jid == must_parse("user@example.com/Desk"));

  const auto domain_only = Jid::from_parts({}, "example.com");
  BOOST_TEST_REQUIRE(domain_only.has_value());
  BOOST_TEST(domain_only->to_string() == "example.com");

  std::string error;
  BOOST_TEST(!Jid::from_parts("user", "", {}, &error));
  BOOST_TEST(error == "domainpart is empty");
  BOOST_TEST(!Jid::from_parts("user", "example.com", std::string(1024, 'r'), &error));
  BOOST_TEST(error == "resourcepart is longer than 1023 bytes");
  // Errors without an error string are fine too.
  BOOST_TEST(!Jid::from_parts("a b", "example.com"));
  BOOST_TEST(!Jid::parse(""));
}

BOOST_AUTO_TEST_CASE(bare_and_full_equality) {
  const Jid desk = must_parse("user@example.com/desk");
  const Jid phone = must_parse("USER@example.com/phone");
  BOOST_TEST(!(desk == phone));
  BOOST_TEST(desk.bare_equals(phone));
  BOOST_TEST(desk.bare() == phone.bare());
  BOOST_TEST(desk.bare().is_bare());
  BOOST_TEST(desk.bare().to_string() == "user@example.com");
  BOOST_TEST(!desk.bare_equals(must_parse("other@example.com/desk")));
  BOOST_TEST(!desk.bare_equals(must_parse("user@example.org/desk")));
  // A domain JID is not equal to a user JID at that domain.
  BOOST_TEST(!must_parse("example.com").bare_equals(must_parse("user@example.com")));
}

BOOST_AUTO_TEST_CASE(with_resource_prepares_the_resource) {
  const Jid bare = must_parse("room@muc.example");
  const auto occupant = bare.with_resource("Nick");
  BOOST_TEST_REQUIRE(occupant.has_value());
  BOOST_TEST(occupant->to_string() == "room@muc.example/Nick");
  const auto replaced = must_parse("room@muc.example/Old").with_resource("New");
  BOOST_TEST_REQUIRE(replaced.has_value());
  BOOST_TEST(replaced->resource() == "New");
  BOOST_TEST(!bare.with_resource(""));
  BOOST_TEST(!bare.with_resource("a\x01"));
  BOOST_TEST(!bare.with_resource("\xFF"));
  BOOST_TEST(!bare.with_resource(std::string(1024, 'n')));
}

BOOST_AUTO_TEST_CASE(hashes_agree_with_equality) {
  const Jid a = must_parse("User@Example.com/Desk");
  const Jid b = must_parse("user@example.com./Desk");
  BOOST_TEST_REQUIRE(a == b);
  BOOST_TEST(JidHash{}(a) == JidHash{}(b));
  BOOST_TEST(std::hash<Jid>{}(a) == JidHash{}(b));

  const Jid phone = must_parse("user@example.com/phone");
  BOOST_TEST(BareJidHash{}(a) == BareJidHash{}(phone));
  BOOST_TEST(BareJidHash{}(a) == BareJidHash{}(a.bare()));

  std::unordered_set<Jid> full{a, b, phone};
  BOOST_TEST(full.size() == 2u);
  BOOST_TEST(full.count(must_parse("USER@EXAMPLE.COM/phone")) == 1u);

  std::unordered_set<Jid, BareJidHash, BareJidEqual> bare{a, b, phone};
  BOOST_TEST(bare.size() == 1u);
  bare.insert(must_parse("other@example.com"));
  BOOST_TEST(bare.size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

/// The libidn profile applied directly: the reference the ASCII shortcut in
/// jid.cpp must agree with. nullopt when the profile refuses the text.
std::optional<std::string> libidn_prepare(const std::string& raw,
                                          const Stringprep_profile* profile) {
  std::vector<char> buffer(raw.size() * 2 + 16, '\0');
  std::copy(raw.begin(), raw.end(), buffer.begin());
  if (stringprep(buffer.data(), buffer.size(), Stringprep_profile_flags{}, profile) !=
      STRINGPREP_OK) {
    return std::nullopt;
  }
  return std::string(buffer.data());
}

/// Every printable ASCII character alone, and between letters of both cases.
std::vector<std::string> ascii_samples() {
  std::vector<std::string> samples;
  for (char c = 0x20; c < 0x7f; ++c) {
    samples.emplace_back(1, c);
    samples.push_back(std::string("aB") + c + "Zz");
  }
  samples.emplace_back("MiXeD.Case-name_09");
  return samples;
}

} // namespace

BOOST_AUTO_TEST_CASE(printable_ascii_parts_are_prepared_exactly_as_libidn_does) {
  for (const auto& sample : ascii_samples()) {
    // Resourcepart: everything after the first '/'.
    const auto with_resource = Jid::parse("u@example.org/" + sample);
    const auto resource = libidn_prepare(sample, stringprep_xmpp_resourceprep);
    BOOST_TEST(with_resource.has_value() == resource.has_value(), "resource '" << sample << "'");
    if (with_resource && resource) {
      BOOST_TEST(with_resource->resource() == *resource);
    }
    if (sample.find_first_of("@/") != std::string::npos) {
      continue; // these split the JID instead of being part of local or domain
    }
    const auto with_local = Jid::parse(sample + "@example.org");
    const auto local = libidn_prepare(sample, stringprep_xmpp_nodeprep);
    BOOST_TEST(with_local.has_value() == local.has_value(), "localpart '" << sample << "'");
    if (with_local && local) {
      BOOST_TEST(with_local->local() == *local);
    }
    // A domain must also pass the host-name rules after nameprep.
    const auto domain = Jid::parse(sample);
    const auto named = libidn_prepare(sample, stringprep_nameprep);
    if (domain) {
      BOOST_TEST_REQUIRE(named.has_value(), "domain '" << sample << "'");
      std::string trimmed = *named;
      if (!trimmed.empty() && trimmed.back() == '.') {
        trimmed.pop_back();
      }
      BOOST_TEST(domain->domain() == trimmed);
    }
  }
}

BOOST_AUTO_TEST_CASE(with_resource_agrees_with_parse_on_ascii_and_beyond) {
  const auto room = must_parse("#chan%irc.example.org@irc.localhost");
  for (const std::string nick : {"Nick", "a b", "[away]", "x\x7f", "caf\xc3\xa9", "\xe2\x80\x8b"}) {
    const auto built = room.with_resource(nick);
    const auto parsed = Jid::parse(room.to_string() + "/" + nick);
    BOOST_TEST(built.has_value() == parsed.has_value(), "nick '" << nick << "'");
    if (built && parsed) {
      BOOST_TEST(built->resource() == parsed->resource());
    }
  }
}
