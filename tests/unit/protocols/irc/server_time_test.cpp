#include "server_time.hpp"

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <string>

using trestle::irc::delay_stamp;
using trestle::irc::parse_server_time;
using trestle::irc::xep0082_stamp;
using namespace std::chrono;

namespace {

/// 2011-10-19T16:40:51Z as a time point.
system_clock::time_point example() {
  return sys_days(year{2011} / October / 19) + hours(16) + minutes(40) + seconds(51);
}

} // namespace

BOOST_AUTO_TEST_SUITE(server_time)

BOOST_AUTO_TEST_CASE(the_specifications_form_parses_with_and_without_a_fraction) {
  BOOST_TEST((parse_server_time("2011-10-19T16:40:51.620Z") == example() + milliseconds(620)));
  BOOST_TEST((parse_server_time("2011-10-19T16:40:51Z") == example()));
  BOOST_TEST((parse_server_time("2011-10-19T16:40:51.6Z") == example() + milliseconds(600)));
  // More digits than milliseconds are read and cut.
  BOOST_TEST(
      (parse_server_time("2011-10-19T16:40:51.123456789Z") == example() + milliseconds(123)));
  BOOST_TEST((parse_server_time("2024-02-29T00:00:00Z") == sys_days(year{2024} / February / 29)));
}

BOOST_AUTO_TEST_CASE(anything_else_is_ignored) {
  for (const std::string bad :
       {"", "2011-10-19", "2011-10-19T16:40:51", "2011-10-19T16:40:51+01:00",
        "2011-10-19 16:40:51Z", "2011-13-19T16:40:51Z", "2023-02-29T00:00:00Z",
        "2011-10-19T24:00:00Z", "2011-10-19T16:60:00Z", "2011-10-19T16:40:51.Z",
        "2011-10-19T16:40:51.12a4Z", "2011-10-19T16:40:51.1234567890Z", "20x1-10-19T16:40:51Z",
        "-011-10-19T16:40:51Z",
        // Years a time point cannot hold, or no message has.
        "0875-10-19T16:40:51.620Z", "1969-12-31T23:59:59Z", "2300-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z"}) {
    BOOST_TEST(!parse_server_time(bad).has_value(), "'" << bad << "' accepted");
  }
}

BOOST_AUTO_TEST_CASE(stamps_are_xep0082_utc_with_milliseconds) {
  BOOST_TEST(xep0082_stamp(example() + milliseconds(7)) == "2011-10-19T16:40:51.007Z");
  BOOST_TEST(xep0082_stamp(sys_days(year{1999} / December / 31)) == "1999-12-31T00:00:00.000Z");
}

BOOST_AUTO_TEST_CASE(only_delayed_messages_get_a_delay_stamp) {
  const auto now = example() + minutes(5);
  // Five minutes old: playback from a bouncer or the server's history.
  BOOST_TEST(delay_stamp("2011-10-19T16:40:51.620Z", now) == "2011-10-19T16:40:51.620Z");
  // Live (even with a little clock skew either way): no stamp.
  BOOST_TEST(delay_stamp("2011-10-19T16:45:40Z", now).empty());
  BOOST_TEST(delay_stamp("2011-10-19T16:46:10Z", now).empty());
  // No tag, or one that does not parse.
  BOOST_TEST(delay_stamp("", now).empty());
  BOOST_TEST(delay_stamp("yesterday", now).empty());
}

BOOST_AUTO_TEST_SUITE_END()
