#include "channel_registry.hpp"
#include "isupport.hpp"

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

using trestle::irc::ChannelRegistry;
using trestle::irc::ISupport;
using trestle::irc::muc_standing;
using trestle::irc::SharedChannel;

namespace {

ISupport with_tokens(const std::vector<std::string>& tokens) {
  ISupport isupport;
  for (const auto& token : tokens) {
    isupport.apply(token);
  }
  return isupport;
}

} // namespace

BOOST_AUTO_TEST_SUITE(channel_registry)

BOOST_AUTO_TEST_CASE(one_state_for_many_gateway_users) {
  ChannelRegistry registry;
  const ISupport isupport;
  auto& first = registry.enter("irc.example.net", isupport, "#Chan", "alice@example.org");
  auto& second = registry.enter("irc.example.net", isupport, "#chan", "bob@example.org");
  BOOST_TEST(&first == &second);
  BOOST_TEST(registry.size() == 1U);
  BOOST_TEST(first.name() == "#Chan");
  BOOST_TEST(first.users().size() == 2U);
  // Same name on another server is another channel.
  registry.enter("irc.other.net", isupport, "#chan", "alice@example.org");
  BOOST_TEST(registry.size() == 2U);
}

BOOST_AUTO_TEST_CASE(rfc1459_case_mapping_keys_channels_and_nicks) {
  ChannelRegistry registry;
  const ISupport rfc1459; // the default mapping
  registry.enter("irc.example.net", rfc1459, "#a[b]", "alice@example.org");
  BOOST_TEST(registry.find("irc.example.net", rfc1459, "#A{B}") != nullptr);
  const auto ascii = with_tokens({"CASEMAPPING=ascii"});
  BOOST_TEST(registry.find("irc.example.net", ascii, "#A[B]") == nullptr);

  auto* channel = registry.find("irc.example.net", rfc1459, "#a[b]");
  BOOST_TEST_REQUIRE(channel != nullptr);
  BOOST_TEST(channel->add_member(rfc1459, "Nick[1]", "@"));
  BOOST_TEST_REQUIRE(channel->member(rfc1459, "nick{1}") != nullptr);
  BOOST_TEST(channel->member(rfc1459, "nick{1}")->nick == "Nick[1]");
}

BOOST_AUTO_TEST_CASE(state_is_dropped_with_the_last_gateway_user) {
  ChannelRegistry registry;
  const ISupport isupport;
  registry.enter("irc.example.net", isupport, "#chan", "alice@example.org");
  registry.enter("irc.example.net", isupport, "#chan", "bob@example.org");
  BOOST_TEST(registry.leave("irc.example.net", isupport, "#CHAN", "alice@example.org"));
  BOOST_TEST(!registry.leave("irc.example.net", isupport, "#chan", "alice@example.org"));
  BOOST_TEST(registry.size() == 1U);
  BOOST_TEST(registry.leave("irc.example.net", isupport, "#chan", "bob@example.org"));
  BOOST_TEST(registry.size() == 0U);
  BOOST_TEST(registry.find("irc.example.net", isupport, "#chan") == nullptr);
  BOOST_TEST(!registry.leave("irc.example.net", isupport, "#nowhere", "bob@example.org"));
}

BOOST_AUTO_TEST_CASE(leave_all_leaves_one_server_only) {
  ChannelRegistry registry;
  const ISupport isupport;
  registry.enter("irc.example.net", isupport, "#a", "alice@example.org");
  registry.enter("irc.example.net", isupport, "#b", "alice@example.org");
  registry.enter("irc.example.net", isupport, "#b", "bob@example.org");
  registry.enter("irc.example.netx", isupport, "#c", "alice@example.org");
  const auto left = registry.leave_all("irc.example.net", "alice@example.org");
  BOOST_TEST(left == (std::vector<std::string>{"#a", "#b"}), boost::test_tools::per_element());
  BOOST_TEST(registry.find("irc.example.net", isupport, "#a") == nullptr);
  BOOST_TEST_REQUIRE(registry.find("irc.example.net", isupport, "#b") != nullptr);
  BOOST_TEST(registry.find("irc.example.net", isupport, "#b")->users().size() == 1U);
  // A server whose name merely starts the same is untouched.
  BOOST_TEST(registry.find("irc.example.netx", isupport, "#c") != nullptr);
  BOOST_TEST(registry.leave_all("irc.example.net", "carol@example.org").empty());
}

BOOST_AUTO_TEST_CASE(member_changes_are_idempotent) {
  const ISupport isupport;
  SharedChannel channel("#chan", 10);
  // Two gateway users' connections report the same events.
  for (int twice = 0; twice < 2; ++twice) {
    BOOST_TEST(channel.add_member(isupport, "carol", ""));
  }
  BOOST_TEST(channel.members().size() == 1U);
  BOOST_TEST(channel.rename_member(isupport, "carol", "Carol2"));
  BOOST_TEST(!channel.rename_member(isupport, "carol", "Carol2"));
  BOOST_TEST_REQUIRE(channel.member(isupport, "carol2") != nullptr);
  BOOST_TEST(channel.member(isupport, "carol") == nullptr);
  BOOST_TEST(channel.remove_member(isupport, "CAROL2"));
  BOOST_TEST(!channel.remove_member(isupport, "carol2"));
  BOOST_TEST(channel.members().empty());
}

BOOST_AUTO_TEST_CASE(rename_onto_a_stale_member_keeps_the_renamed_one) {
  const ISupport isupport;
  SharedChannel channel("#chan", 10);
  channel.add_member(isupport, "old", "@");
  channel.add_member(isupport, "new", "");
  BOOST_TEST(channel.rename_member(isupport, "old", "new"));
  BOOST_TEST(channel.members().size() == 1U);
  BOOST_TEST(channel.member(isupport, "new")->prefixes == "@");
}

BOOST_AUTO_TEST_CASE(member_cap_bounds_memory) {
  const ISupport isupport;
  SharedChannel channel("#chan", 2);
  BOOST_TEST(channel.add_member(isupport, "a", ""));
  BOOST_TEST(channel.add_member(isupport, "b", ""));
  BOOST_TEST(!channel.add_member(isupport, "c", ""));
  // Updating a known member still works at the cap.
  BOOST_TEST(channel.add_member(isupport, "A", "+"));
  BOOST_TEST(channel.members().size() == 2U);
  BOOST_TEST(channel.member(isupport, "a")->prefixes == "+");
}

BOOST_AUTO_TEST_CASE(prefixes_keep_rank_order) {
  const auto isupport = with_tokens({"PREFIX=(qaohv)~&@%+"});
  SharedChannel channel("#chan", 10);
  channel.add_member(isupport, "dave", "+");
  BOOST_TEST(channel.set_member_prefix(isupport, "dave", '@', true));
  BOOST_TEST(channel.member(isupport, "dave")->prefixes == "@+");
  BOOST_TEST(channel.set_member_prefix(isupport, "dave", '~', true));
  BOOST_TEST(channel.member(isupport, "dave")->prefixes == "~@+");
  BOOST_TEST(channel.set_member_prefix(isupport, "dave", '@', true));
  BOOST_TEST(channel.member(isupport, "dave")->prefixes == "~@+");
  BOOST_TEST(channel.set_member_prefix(isupport, "dave", '@', false));
  BOOST_TEST(channel.member(isupport, "dave")->prefixes == "~+");
  BOOST_TEST(channel.set_member_prefix(isupport, "dave", '@', false));
  BOOST_TEST(!channel.set_member_prefix(isupport, "nobody", '@', true));
}

BOOST_AUTO_TEST_CASE(away_and_topic) {
  const ISupport isupport;
  SharedChannel channel("#chan", 10);
  channel.add_member(isupport, "erin", "");
  BOOST_TEST(channel.set_member_away(isupport, "ERIN", true));
  BOOST_TEST(channel.member(isupport, "erin")->away);
  BOOST_TEST(!channel.set_member_away(isupport, "frank", true));
  channel.set_topic("welcome", "erin");
  BOOST_TEST(channel.topic() == "welcome");
  BOOST_TEST(channel.topic_setter() == "erin");
  channel.clear_members();
  BOOST_TEST(channel.members().empty());
}

BOOST_AUTO_TEST_CASE(muc_standing_follows_the_highest_prefix) {
  const auto isupport = with_tokens({"PREFIX=(qaohv)~&@%+"});
  struct Case {
    std::string prefixes;
    std::string role;
    std::string affiliation;
  };
  const std::vector<Case> cases = {
      {"~@", "moderator", "owner"}, {"&", "moderator", "owner"},    {"@+", "moderator", "admin"},
      {"%", "moderator", "member"}, {"+", "participant", "member"}, {"", "participant", "none"},
      {"!", "participant", "none"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("prefixes '" << c.prefixes << "'") {
      const auto standing = muc_standing(c.prefixes, isupport);
      BOOST_TEST(standing.role == c.role);
      BOOST_TEST(standing.affiliation == c.affiliation);
    }
  }
  // With the default PREFIX, '~' is no membership prefix at all.
  BOOST_TEST(muc_standing("~", ISupport()).affiliation == "none");
}

BOOST_AUTO_TEST_SUITE_END()
