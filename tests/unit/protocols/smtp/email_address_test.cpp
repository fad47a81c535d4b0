#include "email_address.hpp"

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

using trestle::smtp::canonical_local_part;
using trestle::smtp::EmailAddress;
using trestle::smtp::is_valid_local_part;
using trestle::smtp::normalize_domain;
using trestle::smtp::parse_email_address;
using trestle::smtp::parse_localpart;
using trestle::smtp::to_localpart;

namespace {

/// The reason parse_email_address() gives for `typed`; fails the test when it parses.
std::string typed_error(std::string_view typed) {
  std::string error;
  const auto address = parse_email_address(typed, &error);
  BOOST_TEST(!address.has_value(), "'" << typed << "' parsed");
  return error;
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

/// A valid domain of exactly `size` bytes made of labels of at most 63.
std::string domain_of_size(std::size_t size) {
  std::string domain;
  while (domain.size() < size) {
    if (!domain.empty()) {
      domain += '.';
    }
    domain += std::string(std::min<std::size_t>(63, size - domain.size()), 'a');
  }
  return domain;
}

} // namespace

BOOST_AUTO_TEST_SUITE(email_address)

BOOST_AUTO_TEST_CASE(plain_address) {
  const auto address = parse_email_address("bob@example.com");
  BOOST_REQUIRE(address);
  BOOST_TEST(address->local == "bob");
  BOOST_TEST(address->domain == "example.com");
  BOOST_TEST(address->to_string() == "bob@example.com");
  BOOST_TEST(to_localpart(*address) == "bob\\40example.com");
}

BOOST_AUTO_TEST_CASE(local_case_is_kept_domain_is_lowercased) {
  const auto address = parse_email_address("  Bob.Smith@Example.COM\t");
  BOOST_REQUIRE(address);
  BOOST_TEST(address->local == "Bob.Smith");
  BOOST_TEST(address->domain == "example.com");
  BOOST_TEST(address->comparison_key() == "bob.smith@example.com");
  const auto other = parse_email_address("bob.smith@example.com");
  BOOST_REQUIRE(other);
  BOOST_TEST(!(*other == *address));
  BOOST_TEST(other->comparison_key() == address->comparison_key());
  BOOST_TEST(canonical_local_part("Bob.Smith+X") == "bob.smith+x");
}

BOOST_AUTO_TEST_CASE(percent_form_uses_the_last_percent) {
  const auto address = parse_email_address("bob%example.com");
  BOOST_REQUIRE(address);
  BOOST_TEST((*address == EmailAddress{"bob", "example.com"}));
  const auto two = parse_email_address("a%b%example.com");
  BOOST_REQUIRE(two);
  BOOST_TEST((*two == EmailAddress{"a%b", "example.com"}));
  const auto with_at = parse_email_address("a%b@example.com");
  BOOST_REQUIRE(with_at);
  BOOST_TEST((*with_at == EmailAddress{"a%b", "example.com"}));
  const auto localpart = parse_localpart("bob%example.com");
  BOOST_REQUIRE(localpart);
  BOOST_TEST((*localpart == EmailAddress{"bob", "example.com"}));
}

BOOST_AUTO_TEST_CASE(localpart_is_xep0106_escaped) {
  const auto address = parse_email_address("o'neil&co/x@example.org");
  BOOST_REQUIRE(address);
  const std::string localpart = to_localpart(*address);
  BOOST_TEST(localpart == "o\\27neil\\26co\\2fx\\40example.org");
  const auto back = parse_localpart(localpart);
  BOOST_REQUIRE(back);
  BOOST_TEST((*back == *address));
}

BOOST_AUTO_TEST_CASE(every_atext_character_is_accepted) {
  const std::string local = "a!#$%&'*+-/=?^_`{|}~z.0";
  const auto address = parse_email_address(local + "@example.org");
  BOOST_REQUIRE(address);
  BOOST_TEST(address->local == local);
  const auto back = parse_localpart(to_localpart(*address));
  BOOST_REQUIRE(back);
  BOOST_TEST((*back == *address));
}

BOOST_AUTO_TEST_CASE(form_errors) {
  BOOST_TEST(contains(typed_error(""), "empty"));
  BOOST_TEST(contains(typed_error("  "), "empty"));
  BOOST_TEST(contains(typed_error("bob"), "no '@'"));
  BOOST_TEST(contains(typed_error("@example.com"), "local part (before '@') is empty"));
  BOOST_TEST(contains(typed_error("%example.com"), "local part (before '@') is empty"));
  BOOST_TEST(contains(typed_error("bob@"), "domain (after '@') is empty"));
  BOOST_TEST(contains(typed_error("b@c@example.com"), "more than one '@'"));
}

BOOST_AUTO_TEST_CASE(local_part_errors) {
  std::string error;
  BOOST_TEST(!is_valid_local_part("a b", &error));
  BOOST_TEST(contains(error, "space"));
  BOOST_TEST(!is_valid_local_part("<bob>", &error));
  BOOST_TEST(contains(error, "'<'"));
  BOOST_TEST(contains(error, "quoted local parts are not supported"));
  BOOST_TEST(!is_valid_local_part("bob>", &error));
  BOOST_TEST(contains(error, "'>'"));
  BOOST_TEST(!is_valid_local_part("\"bob\"", &error));
  BOOST_TEST(contains(error, "'\"'"));
  for (const auto& bad :
       {std::string("a\rb"), std::string("a\nb"), std::string("a\0b", 3), std::string("a\x7f")}) {
    BOOST_TEST(!is_valid_local_part(bad, &error));
    BOOST_TEST(contains(error, "control character"));
  }
  BOOST_TEST(!is_valid_local_part("b\xc3\xb6", &error));
  BOOST_TEST(contains(error, "non-ASCII"));
  BOOST_TEST(!is_valid_local_part(".bob", &error));
  BOOST_TEST(contains(error, "starts or ends with a dot"));
  BOOST_TEST(!is_valid_local_part("bob.", &error));
  BOOST_TEST(contains(error, "starts or ends with a dot"));
  BOOST_TEST(!is_valid_local_part("b..ob", &error));
  BOOST_TEST(contains(error, "two dots"));
  BOOST_TEST(!is_valid_local_part(std::string(65, 'a'), &error));
  BOOST_TEST(contains(error, "64"));
  BOOST_TEST(is_valid_local_part(std::string(64, 'a')));
}

BOOST_AUTO_TEST_CASE(domain_errors) {
  std::string error;
  BOOST_TEST(!normalize_domain("[192.0.2.1]", &error));
  BOOST_TEST(contains(error, "address literals"));
  BOOST_TEST(!normalize_domain("1.2.3.4", &error));
  BOOST_TEST(contains(error, "all digits"));
  BOOST_TEST(!normalize_domain("exa_mple.com", &error));
  BOOST_TEST(contains(error, "only letters, digits"));
  BOOST_TEST(!normalize_domain("m\xc3\xbcnchen.de", &error));
  BOOST_TEST(contains(error, "xn--"));
  BOOST_TEST(!normalize_domain("-x.com", &error));
  BOOST_TEST(contains(error, "'-'"));
  BOOST_TEST(!normalize_domain("x..com", &error));
  BOOST_TEST(contains(error, "empty label"));
  BOOST_TEST(!normalize_domain("example.com.", &error));
  BOOST_TEST(contains(error, "empty label"));
  BOOST_TEST(!normalize_domain(std::string(64, 'a') + ".com", &error));
  BOOST_TEST(contains(error, "63"));
  BOOST_TEST(!normalize_domain(domain_of_size(256), &error));
  BOOST_TEST(contains(error, "255"));
  BOOST_TEST(normalize_domain(domain_of_size(255)).has_value());
  BOOST_TEST(*normalize_domain("localhost") == "localhost");
  BOOST_TEST(*normalize_domain("xn--mnchen-3ya.DE") == "xn--mnchen-3ya.de");
}

BOOST_AUTO_TEST_CASE(round_trips) {
  const std::vector<EmailAddress> addresses{
      {"bob", "example.com"},   {"Bob.Smith", "example.com"}, {"a%b", "mail.example.org"},
      {"x/y=z", "example.org"}, {"o'neil", "example.org"},
  };
  for (const auto& address : addresses) {
    const auto typed = parse_email_address(address.to_string());
    BOOST_TEST((typed && *typed == address), address.to_string());
    const auto localpart = parse_localpart(to_localpart(address));
    BOOST_TEST((localpart && *localpart == address), address.to_string());
  }
}

BOOST_AUTO_TEST_SUITE_END()
