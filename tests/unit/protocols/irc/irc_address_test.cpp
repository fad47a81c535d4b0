#include "irc_address.hpp"

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

using trestle::irc::AddressKind;
using trestle::irc::AddressRules;
using trestle::irc::IrcAddress;
using trestle::irc::is_valid_channel_name;
using trestle::irc::is_valid_nickname;
using trestle::irc::normalize_server_name;
using trestle::irc::parse_localpart;
using trestle::irc::parse_typed_address;
using trestle::irc::to_localpart;
using trestle::irc::to_typed;

namespace {

const AddressRules multi{};

AddressRules fixed(std::string server = "irc.example.net") {
  AddressRules rules;
  rules.fixed_server = std::move(server);
  return rules;
}

/// The reason parse_typed_address() gives for `typed`; fails the test when it parses.
std::string typed_error(std::string_view typed, const AddressRules& rules = multi) {
  std::string error;
  const auto address = parse_typed_address(typed, rules, &error);
  BOOST_TEST(!address.has_value(), "'" << typed << "' parsed");
  return error;
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

} // namespace

BOOST_AUTO_TEST_SUITE(irc_address)

BOOST_AUTO_TEST_CASE(channel_on_a_server) {
  const auto address = parse_typed_address("#chan%irc.libera.chat", multi);
  BOOST_REQUIRE(address);
  BOOST_TEST((address->kind == AddressKind::channel));
  BOOST_TEST(address->name == "#chan");
  BOOST_TEST(address->server == "irc.libera.chat");
  BOOST_TEST(to_localpart(*address, multi) == "#chan%irc.libera.chat");
  BOOST_TEST(to_typed(*address, multi) == "#chan%irc.libera.chat");
}

BOOST_AUTO_TEST_CASE(user_on_a_server_keeps_the_nick_case) {
  const auto address = parse_typed_address("Alice%IRC.Libera.Chat", multi);
  BOOST_REQUIRE(address);
  BOOST_TEST((address->kind == AddressKind::user));
  BOOST_TEST(address->name == "Alice");
  BOOST_TEST(address->server == "irc.libera.chat");
  BOOST_TEST(to_localpart(*address, multi) == "Alice%irc.libera.chat");
}

BOOST_AUTO_TEST_CASE(server_alone) {
  const auto address = parse_localpart("irc.libera.chat", multi);
  BOOST_REQUIRE(address);
  BOOST_TEST((address->kind == AddressKind::server));
  BOOST_TEST(address->name.empty());
  BOOST_TEST(address->server == "irc.libera.chat");
  BOOST_TEST(to_localpart(*address, multi) == "irc.libera.chat");
  BOOST_TEST(to_typed(*address, multi) == "irc.libera.chat");
}

BOOST_AUTO_TEST_CASE(server_trailing_dot_and_ipv4) {
  BOOST_TEST(parse_typed_address("irc.libera.chat.", multi)->server == "irc.libera.chat");
  const auto address = parse_typed_address("#c%192.0.2.1", multi);
  BOOST_REQUIRE(address);
  BOOST_TEST(address->server == "192.0.2.1");
  BOOST_TEST(parse_typed_address("localhost", multi)->server == "localhost");
}

BOOST_AUTO_TEST_CASE(typed_input_ignores_surrounding_blanks) {
  const auto address = parse_typed_address("  \t#chan%irc.libera.chat ", multi);
  BOOST_REQUIRE(address);
  BOOST_TEST(address->name == "#chan");
}

BOOST_AUTO_TEST_CASE(the_last_percent_separates_the_server) {
  const auto address = parse_typed_address("#a%b%irc.example.net", multi);
  BOOST_REQUIRE(address);
  BOOST_TEST(address->name == "#a%b");
  BOOST_TEST(address->server == "irc.example.net");
}

BOOST_AUTO_TEST_CASE(characters_a_jid_cannot_carry_are_escaped) {
  const auto address = parse_typed_address("&local%irc.example.net", multi);
  BOOST_REQUIRE(address);
  BOOST_TEST((address->kind == AddressKind::channel));
  BOOST_TEST(to_localpart(*address, multi) == "\\26local%irc.example.net");

  const auto odd = parse_typed_address("#a/b:c@d'e\"f<g>%irc.example.net", multi);
  BOOST_REQUIRE(odd);
  const std::string localpart = to_localpart(*odd, multi);
  BOOST_TEST(localpart == "#a\\2fb\\3ac\\40d\\27e\\22f\\3cg\\3e%irc.example.net");
  const auto back = parse_localpart(localpart, multi);
  BOOST_REQUIRE(back);
  BOOST_TEST((*back == *odd));
}

BOOST_AUTO_TEST_CASE(escaped_localparts_parse) {
  const auto address = parse_localpart("\\26chan%irc.example.net", multi);
  BOOST_REQUIRE(address);
  BOOST_TEST((address->kind == AddressKind::channel));
  BOOST_TEST(address->name == "&chan");
}

BOOST_AUTO_TEST_CASE(a_backslash_in_a_nick_survives_the_round_trip) {
  const auto address = parse_typed_address("a\\20b%irc.example.net", multi);
  BOOST_REQUIRE(address);
  BOOST_TEST(address->name == "a\\20b");
  const auto back = parse_localpart(to_localpart(*address, multi), multi);
  BOOST_REQUIRE(back);
  BOOST_TEST(back->name == "a\\20b");
}

BOOST_AUTO_TEST_CASE(channel_prefixes_are_a_parameter) {
  AddressRules hash_only;
  hash_only.channel_prefixes = "#";
  const auto plus = parse_typed_address("+foo%irc.example.net", hash_only);
  BOOST_REQUIRE(plus);
  BOOST_TEST((plus->kind == AddressKind::user));
  const auto by_default = parse_typed_address("+foo%irc.example.net", multi);
  BOOST_REQUIRE(by_default);
  BOOST_TEST((by_default->kind == AddressKind::channel));
  BOOST_TEST(!is_valid_channel_name("&foo", "#"));
  BOOST_TEST(is_valid_channel_name("&foo", "#&"));
}

BOOST_AUTO_TEST_CASE(multi_server_errors) {
  BOOST_TEST(contains(typed_error(""), "empty"));
  BOOST_TEST(contains(typed_error("   "), "empty"));
  BOOST_TEST(contains(typed_error("#chan"), "needs its server"));
  BOOST_TEST(contains(typed_error("%irc.example.net"), "nothing comes before '%'"));
  BOOST_TEST(contains(typed_error("#chan%"), "not a valid IRC server name: it is empty"));
  BOOST_TEST(contains(typed_error("#chan%irc_x.net"), "only letters, digits"));
  BOOST_TEST(contains(typed_error("#chan%[::1]"), "IPv6"));
  BOOST_TEST(contains(typed_error("bad host"), "not a valid IRC server name"));
}

BOOST_AUTO_TEST_CASE(server_name_errors) {
  std::string error;
  BOOST_TEST(!normalize_server_name("", &error));
  BOOST_TEST(error == "it is empty");
  BOOST_TEST(!normalize_server_name("a..b", &error));
  BOOST_TEST(contains(error, "empty label"));
  BOOST_TEST(!normalize_server_name(".a", &error));
  BOOST_TEST(contains(error, "empty label"));
  BOOST_TEST(!normalize_server_name("-a.net", &error));
  BOOST_TEST(contains(error, "'-'"));
  BOOST_TEST(!normalize_server_name("a-.net", &error));
  BOOST_TEST(contains(error, "'-'"));
  BOOST_TEST(!normalize_server_name(std::string(64, 'a') + ".net", &error));
  BOOST_TEST(contains(error, "63"));
  BOOST_TEST(normalize_server_name(std::string(63, 'a') + ".net").has_value());
  std::string long_name;
  while (long_name.size() < 254) {
    long_name += "abcdefghi.";
  }
  long_name = long_name.substr(0, 254);
  BOOST_TEST(!normalize_server_name(long_name, &error));
  BOOST_TEST(contains(error, "253"));
  BOOST_TEST(normalize_server_name(long_name.substr(0, 253)).has_value());
  BOOST_TEST(!normalize_server_name("::1", &error));
  BOOST_TEST(contains(error, "IPv6"));
  for (const std::string bad : {"1.2.3.256", "1.2.3", "01.2.3.4", "1.2.3.4.5", "a.123"}) {
    BOOST_TEST(!normalize_server_name(bad, &error), bad);
    BOOST_TEST(contains(error, "neither a hostname nor an IPv4 address"), bad);
  }
  BOOST_TEST(*normalize_server_name("0.0.0.0") == "0.0.0.0");
  BOOST_TEST(*normalize_server_name("255.255.255.255") == "255.255.255.255");
  BOOST_TEST(*normalize_server_name("1a.Example.NET") == "1a.example.net");
}

BOOST_AUTO_TEST_CASE(channel_name_errors) {
  const std::string prefixes = "#&+!";
  std::string error;
  BOOST_TEST(!is_valid_channel_name("", prefixes, &error));
  BOOST_TEST(contains(error, "starts with one of #&+!"));
  BOOST_TEST(!is_valid_channel_name("chan", prefixes, &error));
  BOOST_TEST(contains(error, "starts with one of"));
  BOOST_TEST(!is_valid_channel_name("#a b", prefixes, &error));
  BOOST_TEST(contains(error, "space"));
  BOOST_TEST(!is_valid_channel_name("#a,b", prefixes, &error));
  BOOST_TEST(contains(error, "comma"));
  for (const auto& bad : {std::string("#a\x07"), std::string("#a\rb"), std::string("#a\nb"),
                          std::string("#a\0b", 4)}) {
    BOOST_TEST(!is_valid_channel_name(bad, prefixes, &error));
    BOOST_TEST(contains(error, "control character"));
  }
  BOOST_TEST(!is_valid_channel_name("#\xff", prefixes, &error));
  BOOST_TEST(contains(error, "UTF-8"));
  BOOST_TEST(!is_valid_channel_name("#\xc0\x80", prefixes, &error));     // overlong NUL
  BOOST_TEST(!is_valid_channel_name("#\xed\xa0\x80", prefixes, &error)); // surrogate
  BOOST_TEST(!is_valid_channel_name("#\xe2\x82", prefixes, &error));     // truncated
  BOOST_TEST(is_valid_channel_name("#caf\xc3\xa9", prefixes));
  BOOST_TEST(is_valid_channel_name("#\xf0\x9f\x98\x80", prefixes));
  BOOST_TEST(!is_valid_channel_name("#" + std::string(255, 'a'), prefixes, &error));
  BOOST_TEST(contains(error, "255"));
  BOOST_TEST(is_valid_channel_name("#" + std::string(254, 'a'), prefixes));
  BOOST_TEST(is_valid_channel_name("#", prefixes));
}

BOOST_AUTO_TEST_CASE(nickname_errors) {
  const std::string prefixes = "#&+!";
  std::string error;
  BOOST_TEST(is_valid_nickname("alice", prefixes));
  BOOST_TEST(is_valid_nickname("[a]\\`_^{|}-9", prefixes));
  BOOST_TEST(!is_valid_nickname("", prefixes, &error));
  BOOST_TEST(contains(error, "empty"));
  BOOST_TEST(!is_valid_nickname("a b", prefixes, &error));
  BOOST_TEST(contains(error, "space"));
  BOOST_TEST(!is_valid_nickname("a\rb", prefixes, &error));
  BOOST_TEST(contains(error, "control character"));
  BOOST_TEST(!is_valid_nickname(std::string("a\0b", 3), prefixes, &error));
  BOOST_TEST(contains(error, "control character"));
  for (const char bad : std::string(",*?!@%.:")) {
    const std::string nick = std::string("a") + bad + "b";
    BOOST_TEST(!is_valid_nickname(nick, prefixes, &error), nick);
    BOOST_TEST(error == std::string("a nickname cannot contain '") + bad + "'");
  }
  BOOST_TEST(!is_valid_nickname("1abc", prefixes, &error));
  BOOST_TEST(contains(error, "digit"));
  BOOST_TEST(!is_valid_nickname("-abc", prefixes, &error));
  BOOST_TEST(contains(error, "'-'"));
  BOOST_TEST(!is_valid_nickname("#abc", prefixes, &error));
  BOOST_TEST(contains(error, "channel prefix"));
  BOOST_TEST(is_valid_nickname("#abc", "&", &error));
  BOOST_TEST(!is_valid_nickname(std::string(256, 'a'), prefixes, &error));
  BOOST_TEST(!is_valid_nickname("a\xff", prefixes, &error));
  BOOST_TEST(contains(error, "UTF-8"));
}

BOOST_AUTO_TEST_CASE(parse_reports_name_errors) {
  BOOST_TEST(contains(typed_error("1nick%irc.example.net"), "digit"));
  BOOST_TEST(contains(typed_error("ni@ck%irc.example.net"), "'@'"));
  BOOST_TEST(contains(typed_error("#a,b%irc.example.net"), "comma"));
  BOOST_TEST(contains(typed_error("#a b%irc.example.net"), "space"));
}

BOOST_AUTO_TEST_CASE(fixed_server_channel_and_nick) {
  const auto rules = fixed();
  const auto channel = parse_typed_address("#chan", rules);
  BOOST_REQUIRE(channel);
  BOOST_TEST((*channel == IrcAddress{AddressKind::channel, "#chan", "irc.example.net"}));
  BOOST_TEST(to_localpart(*channel, rules) == "#chan");
  BOOST_TEST(to_typed(*channel, rules) == "#chan");

  const auto nick = parse_localpart("bob", rules);
  BOOST_REQUIRE(nick);
  BOOST_TEST((*nick == IrcAddress{AddressKind::user, "bob", "irc.example.net"}));
  BOOST_TEST(to_localpart(*nick, rules) == "bob");

  const auto percent = parse_typed_address("#foo%bar", rules);
  BOOST_REQUIRE(percent);
  BOOST_TEST(percent->name == "#foo%bar");

  const auto escaped = parse_localpart("\\26chan", rules);
  BOOST_REQUIRE(escaped);
  BOOST_TEST(escaped->name == "&chan");
}

BOOST_AUTO_TEST_CASE(fixed_server_itself) {
  const auto rules = fixed();
  const auto empty = parse_localpart("", rules);
  BOOST_REQUIRE(empty);
  BOOST_TEST((*empty == IrcAddress{AddressKind::server, "", "irc.example.net"}));
  BOOST_TEST(to_localpart(*empty, rules).empty());
  BOOST_TEST(to_typed(*empty, rules) == "irc.example.net");
  const auto typed = parse_typed_address("IRC.example.net.", rules);
  BOOST_REQUIRE(typed);
  BOOST_TEST((typed->kind == AddressKind::server));
}

BOOST_AUTO_TEST_CASE(fixed_server_errors) {
  const auto rules = fixed();
  BOOST_TEST(contains(typed_error("", rules), "empty"));
  BOOST_TEST(contains(typed_error("bob%irc.other.net", rules), "serves only irc.example.net"));
  BOOST_TEST(contains(typed_error("other.net", rules), "'.'"));
  BOOST_TEST(contains(typed_error("9lives", rules), "digit"));
  BOOST_TEST(contains(typed_error("#a b", rules), "space"));
}

BOOST_AUTO_TEST_CASE(round_trips) {
  const std::vector<IrcAddress> addresses{
      {AddressKind::channel, "#Chan", "irc.libera.chat"},
      {AddressKind::channel, "&x/y:z", "irc.libera.chat"},
      {AddressKind::channel, "!12345abc%q", "192.0.2.7"},
      {AddressKind::user, "Nick\\5c", "irc.libera.chat"},
      {AddressKind::user, "caf\xc3\xa9", "irc.libera.chat"},
      {AddressKind::server, "", "irc.libera.chat"},
  };
  for (const auto& address : addresses) {
    const auto from_typed = parse_typed_address(to_typed(address, multi), multi);
    BOOST_TEST((from_typed && *from_typed == address), address.name);
    const auto from_localpart = parse_localpart(to_localpart(address, multi), multi);
    BOOST_TEST((from_localpart && *from_localpart == address), address.name);

    const auto rules = fixed(address.server);
    const auto fixed_typed = parse_typed_address(to_typed(address, rules), rules);
    BOOST_TEST((fixed_typed && *fixed_typed == address), address.name);
    const auto fixed_localpart = parse_localpart(to_localpart(address, rules), rules);
    BOOST_TEST((fixed_localpart && *fixed_localpart == address), address.name);
  }
}

BOOST_AUTO_TEST_SUITE_END()
