#include "isupport.hpp"

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

using trestle::irc::CaseMapping;
using trestle::irc::ISupport;

namespace {

using Params = std::vector<std::string>;

/// The parameters of `:server 005 me <tokens> :are supported by this server`.
Params isupport_params(std::initializer_list<std::string> tokens) {
  Params params{"me"};
  params.insert(params.end(), tokens);
  params.emplace_back("are supported by this server");
  return params;
}

ISupport with(std::initializer_list<std::string> tokens) {
  ISupport support;
  support.feed(isupport_params(tokens));
  return support;
}

} // namespace

BOOST_AUTO_TEST_SUITE(isupport)

BOOST_AUTO_TEST_CASE(defaults_before_005) {
  const ISupport support;
  BOOST_TEST((support.case_mapping() == CaseMapping::rfc1459));
  BOOST_TEST(support.chantypes() == "#&");
  BOOST_TEST(support.prefix_modes() == "ov");
  BOOST_TEST(support.prefix_symbols() == "@+");
  BOOST_TEST(!support.nick_length().has_value());
  BOOST_TEST(!support.channel_length().has_value());
  BOOST_TEST(support.network().empty());
  BOOST_TEST(support.is_channel("#chan"));
  BOOST_TEST(support.is_channel("&local"));
  BOOST_TEST(!support.is_channel("+modeless"));
  BOOST_TEST(!support.is_channel("nick"));
  BOOST_TEST(!support.is_channel(""));
}

BOOST_AUTO_TEST_CASE(a_typical_005) {
  const auto support = with({"CASEMAPPING=ascii", "CHANTYPES=#", "PREFIX=(qaohv)~&@%+",
                             "NICKLEN=30", "CHANNELLEN=64", "NETWORK=Libera.Chat", "EXCEPTS"});
  BOOST_TEST((support.case_mapping() == CaseMapping::ascii));
  BOOST_TEST(support.chantypes() == "#");
  BOOST_TEST(!support.is_channel("&local"));
  BOOST_TEST(support.prefix_modes() == "qaohv");
  BOOST_TEST(support.prefix_symbols() == "~&@%+");
  BOOST_TEST(support.nick_length().value_or(0) == 30U);
  BOOST_TEST(support.channel_length().value_or(0) == 64U);
  BOOST_TEST(support.network() == "Libera.Chat");
  BOOST_TEST(support.value("EXCEPTS").value_or("?") == "");
  BOOST_TEST(support.value("NICKLEN").value_or("?") == "30");
  BOOST_TEST(!support.value("WHOX").has_value());
}

BOOST_AUTO_TEST_CASE(first_and_last_params_are_not_tokens) {
  ISupport support;
  support.feed({"CHANTYPES=!", "CHANTYPES=+", "CHANTYPES=&"});
  BOOST_TEST(support.chantypes() == "+");
  support.feed({"me", "are supported"});
  support.feed({});
  BOOST_TEST(support.chantypes() == "+");
  // A token with a space is the human text of a server that left it elsewhere.
  support.apply("CHANTYPES=# x");
  BOOST_TEST(support.chantypes() == "+");
}

BOOST_AUTO_TEST_CASE(minus_key_restores_the_default) {
  auto support = with({"CASEMAPPING=ascii", "CHANTYPES=#", "PREFIX=(qo)~@", "NICKLEN=30",
                       "CHANNELLEN=50", "NETWORK=Net"});
  support.feed(isupport_params(
      {"-CASEMAPPING", "-CHANTYPES", "-PREFIX", "-NICKLEN", "-CHANNELLEN", "-NETWORK"}));
  BOOST_TEST((support.case_mapping() == CaseMapping::rfc1459));
  BOOST_TEST(support.chantypes() == "#&");
  BOOST_TEST(support.prefix_symbols() == "@+");
  BOOST_TEST(!support.nick_length().has_value());
  BOOST_TEST(!support.channel_length().has_value());
  BOOST_TEST(support.network().empty());
  BOOST_TEST(!support.value("NETWORK").has_value());
}

BOOST_AUTO_TEST_CASE(empty_values) {
  const auto support = with({"CHANTYPES=", "PREFIX=", "CHANNELLEN", "NETWORK="});
  BOOST_TEST(support.chantypes().empty());
  BOOST_TEST(!support.is_channel("#chan"));
  BOOST_TEST(support.prefix_modes().empty());
  BOOST_TEST(!support.membership_by_prefix('@'));
  BOOST_TEST(!support.channel_length().has_value());
}

BOOST_AUTO_TEST_CASE(values_that_do_not_parse_are_ignored) {
  const auto support = with({"PREFIX=(ov)@", "PREFIX=ov)@+", "PREFIX=(ov@+", "NICKLEN=abc",
                             "CHANNELLEN=0", "NICKLEN=999999"});
  BOOST_TEST(support.prefix_symbols() == "@+");
  BOOST_TEST(!support.nick_length().has_value());
  BOOST_TEST(!support.channel_length().has_value());
  BOOST_TEST((with({"CASEMAPPING=unicode-ish"}).case_mapping() == CaseMapping::ascii));
  // A bad value keeps the good one before it; an empty one means "no limit".
  const auto kept = with({"NICKLEN=30", "NICKLEN=abc", "CHANNELLEN=50", "CHANNELLEN=x"});
  BOOST_TEST(kept.nick_length().value_or(0) == 30U);
  BOOST_TEST(kept.channel_length().value_or(0) == 50U);
  BOOST_TEST(!with({"CHANNELLEN=50", "CHANNELLEN"}).channel_length().has_value());
}

BOOST_AUTO_TEST_CASE(escaped_values) {
  const auto support = with({"NETWORK=Some\\x20Network\\x5Cx\\x3D", "CHANTYPES=\\x23\\x00\\x0d"});
  BOOST_TEST(support.network() == "Some Network\\x=");
  // Control characters decoded from escapes are dropped.
  BOOST_TEST(support.chantypes() == "#");
  BOOST_TEST(with({"NETWORK=a\\x2"}).network() == "a\\x2");
  BOOST_TEST(with({"NETWORK=a\\xZZ"}).network() == "a\\xZZ");
}

BOOST_AUTO_TEST_CASE(rfc1459_folding) {
  const ISupport support;
  BOOST_TEST(support.fold("Nick[A]\\~") == "nick{a}|^");
  BOOST_TEST(support.equal("Nick[]\\~", "nICK{}|^"));
  BOOST_TEST(support.equal("#Chan", "#chan"));
  BOOST_TEST(!support.equal("nick", "nick_"));
  BOOST_TEST(!support.equal("a", "b"));
  BOOST_TEST(support.fold("caf\xc3\x89") == "caf\xc3\x89");
}

BOOST_AUTO_TEST_CASE(strict_rfc1459_folding) {
  const auto support = with({"CASEMAPPING=strict-rfc1459"});
  BOOST_TEST((support.case_mapping() == CaseMapping::strict_rfc1459));
  BOOST_TEST(support.fold("Nick[A]\\~^") == "nick{a}|~^");
  BOOST_TEST(support.equal("[x]", "{X}"));
  BOOST_TEST(!support.equal("a~", "a^"));
}

BOOST_AUTO_TEST_CASE(ascii_and_rfc7613_folding) {
  for (const std::string mapping : {"ascii", "rfc7613"}) {
    const auto support = with({"CASEMAPPING=" + mapping});
    BOOST_TEST_CONTEXT(mapping) {
      BOOST_TEST(support.fold("Nick[A]\\~") == "nick[a]\\~");
      BOOST_TEST(!support.equal("[x]", "{x}"));
      BOOST_TEST(support.equal("ABC", "abc"));
      // Only ASCII folds here; PRECIS folding of the rest is the server's.
      BOOST_TEST(!support.equal("\xc3\x89", "\xc3\xa9"));
    }
  }
  BOOST_TEST((with({"CASEMAPPING=rfc7613"}).case_mapping() == CaseMapping::rfc7613));
}

BOOST_AUTO_TEST_CASE(membership_lookups) {
  const auto support = with({"PREFIX=(qaohv)~&@%+"});
  BOOST_TEST((support.membership_by_mode('o') == std::pair{'o', '@'}));
  BOOST_TEST((support.membership_by_mode('q') == std::pair{'q', '~'}));
  BOOST_TEST((support.membership_by_prefix('%') == std::pair{'h', '%'}));
  BOOST_TEST((support.membership_by_prefix('+') == std::pair{'v', '+'}));
  BOOST_TEST(!support.membership_by_mode('b'));
  BOOST_TEST(!support.membership_by_prefix('#'));
}

BOOST_AUTO_TEST_CASE(names_with_multi_prefix) {
  const auto support = with({"PREFIX=(qaohv)~&@%+"});
  std::string prefixes;
  BOOST_TEST(support.strip_prefixes("~@+alice", &prefixes) == "alice");
  BOOST_TEST(prefixes == "~@+");
  BOOST_TEST(support.strip_prefixes("bob", &prefixes) == "bob");
  BOOST_TEST(prefixes.empty());
  BOOST_TEST(support.strip_prefixes("%carol") == "carol");
  BOOST_TEST(support.strip_prefixes("@+", &prefixes) == "");
  BOOST_TEST(prefixes == "@+");
  // With the default PREFIX, '~' is no prefix.
  BOOST_TEST(ISupport().strip_prefixes("~@dave") == "~@dave");
}

BOOST_AUTO_TEST_CASE(token_count_is_bounded) {
  ISupport support;
  for (std::size_t i = 0; i < ISupport::max_tokens + 50; ++i) {
    support.apply("X" + std::to_string(i) + "=1");
  }
  BOOST_TEST(support.value("X0").has_value());
  BOOST_TEST(!support.value("X" + std::to_string(ISupport::max_tokens)).has_value());
  // The settings we use still apply past the bound.
  support.apply("NETWORK=Late");
  BOOST_TEST(support.network() == "Late");
}

BOOST_AUTO_TEST_SUITE_END()
