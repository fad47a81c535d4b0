#include "activity.hpp"
#include "test_adapter.hpp"

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <set>
#include <string>
#include <vector>

using trestle::gateway::ActivityTracker;
using trestle::gateway_test::jid;
using namespace std::chrono_literals;

namespace {

using Strings = std::vector<std::string>;

/// A fixed starting point, so every time in these tests is explicit.
const ActivityTracker::Clock::time_point t0{std::chrono::hours(1000)};

} // namespace

BOOST_AUTO_TEST_SUITE(activity)

BOOST_AUTO_TEST_CASE(a_stanza_makes_a_user_active_for_the_window) {
  ActivityTracker tracker;
  tracker.touch(jid("alice@example.org/phone"), "irc.example.org", t0);
  BOOST_TEST(tracker.size() == 1U);
  BOOST_TEST(tracker.active(5min, t0 + 5min) == Strings{"alice@example.org"},
             boost::test_tools::per_element());
  BOOST_TEST(tracker.active(5min, t0 + 5min + 1s).empty());
}

BOOST_AUTO_TEST_CASE(users_are_keyed_by_bare_jid_and_listed_sorted) {
  ActivityTracker tracker;
  tracker.touch(jid("carol@example.org/a"), "irc.example.org", t0);
  tracker.touch(jid("alice@example.org/a"), "irc.example.org", t0);
  tracker.touch(jid("alice@example.org/b"), "sms.example.org", t0 + 1s);
  BOOST_TEST(tracker.size() == 2U);
  BOOST_TEST(tracker.active(1h, t0 + 2s) == (Strings{"alice@example.org", "carol@example.org"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_later_stanza_extends_the_window) {
  ActivityTracker tracker;
  tracker.touch(jid("alice@example.org"), "irc.example.org", t0);
  tracker.touch(jid("alice@example.org"), "irc.example.org", t0 + 10min);
  BOOST_TEST(tracker.active(5min, t0 + 12min).size() == 1U);
}

BOOST_AUTO_TEST_CASE(available_presence_keeps_a_user_active_until_unavailable) {
  ActivityTracker tracker;
  tracker.presence(jid("alice@example.org/phone"), "irc.example.org", true, t0);
  BOOST_TEST(tracker.active(1min, t0 + 24h).size() == 1U);
  tracker.presence(jid("alice@example.org/phone"), "irc.example.org", false, t0 + 1h);
  BOOST_TEST(tracker.active(1min, t0 + 1h + 30s).size() == 1U); // still in the window
  BOOST_TEST(tracker.active(1min, t0 + 2h).empty());
}

BOOST_AUTO_TEST_CASE(each_resource_counts_until_it_goes_away) {
  ActivityTracker tracker;
  tracker.presence(jid("alice@example.org/phone"), "irc.example.org", true, t0);
  tracker.presence(jid("alice@example.org/laptop"), "irc.example.org", true, t0);
  tracker.presence(jid("alice@example.org/phone"), "irc.example.org", false, t0);
  BOOST_TEST(tracker.active(1min, t0 + 1h).size() == 1U);
  tracker.presence(jid("alice@example.org/laptop"), "irc.example.org", false, t0);
  BOOST_TEST(tracker.active(1min, t0 + 1h).empty());
}

BOOST_AUTO_TEST_CASE(resources_are_tracked_per_component) {
  // Going offline towards one gateway domain does not end the presence
  // towards another.
  ActivityTracker tracker;
  tracker.presence(jid("alice@example.org/phone"), "irc.example.org", true, t0);
  tracker.presence(jid("alice@example.org/phone"), "sms.example.org", true, t0);
  tracker.presence(jid("alice@example.org/phone"), "sms.example.org", false, t0);
  BOOST_TEST(tracker.active(1min, t0 + 1h).size() == 1U);
  tracker.presence(jid("alice@example.org/phone"), "irc.example.org", false, t0);
  BOOST_TEST(tracker.active(1min, t0 + 1h).empty());
}

BOOST_AUTO_TEST_CASE(components_of_lists_what_a_user_touched) {
  ActivityTracker tracker;
  tracker.touch(jid("alice@example.org/a"), "irc.example.org", t0);
  tracker.presence(jid("alice@example.org/b"), "sms.example.org", true, t0);
  tracker.touch(jid("bob@example.org"), "mail.example.org", t0);
  BOOST_TEST(tracker.components_of(jid("alice@example.org/other")) ==
                 (std::set<std::string>{"irc.example.org", "sms.example.org"}),
             boost::test_tools::per_element());
  BOOST_TEST(tracker.components_of(jid("nobody@example.org")).empty());
}

BOOST_AUTO_TEST_CASE(forget_drops_a_user_everywhere) {
  ActivityTracker tracker;
  tracker.presence(jid("alice@example.org/phone"), "irc.example.org", true, t0);
  tracker.touch(jid("bob@example.org"), "irc.example.org", t0);
  BOOST_TEST(tracker.forget(jid("alice@example.org/laptop")));
  BOOST_TEST(!tracker.forget(jid("alice@example.org")));
  BOOST_TEST(tracker.active(1h, t0) == Strings{"bob@example.org"},
             boost::test_tools::per_element());
  BOOST_TEST(tracker.components_of(jid("alice@example.org")).empty());
}

BOOST_AUTO_TEST_CASE(the_least_recently_seen_users_are_evicted_beyond_the_bound) {
  ActivityTracker tracker(2);
  tracker.touch(jid("alice@example.org"), "irc.example.org", t0);
  tracker.touch(jid("bob@example.org"), "irc.example.org", t0 + 1s);
  tracker.touch(jid("alice@example.org"), "irc.example.org", t0 + 2s); // alice is fresh again
  tracker.presence(jid("carol@example.org/x"), "irc.example.org", true, t0 + 3s);
  BOOST_TEST(tracker.size() == 2U);
  BOOST_TEST(tracker.active(1h, t0 + 4s) == (Strings{"alice@example.org", "carol@example.org"}),
             boost::test_tools::per_element());
  for (int i = 0; i < 10; ++i) {
    tracker.touch(jid("user" + std::to_string(i) + "@example.org"), "irc.example.org",
                  t0 + 10s + std::chrono::seconds(i));
  }
  BOOST_TEST(tracker.size() == 2U);
  BOOST_TEST(tracker.active(1h, t0 + 1min) == (Strings{"user8@example.org", "user9@example.org"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()
