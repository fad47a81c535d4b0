#include "irc_line_reader.hpp"

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

using trestle::irc::IrcLineReader;

namespace {

using Lines = std::vector<std::string>;

} // namespace

BOOST_AUTO_TEST_SUITE(irc_line_reader)

BOOST_AUTO_TEST_CASE(crlf_and_bare_lf_both_end_a_line) {
  IrcLineReader reader;
  BOOST_TEST(
      (reader.feed("PING :a\r\nPING :b\nPING :c\r\n") == Lines{"PING :a", "PING :b", "PING :c"}));
  BOOST_TEST(reader.buffered_bytes() == 0U);
  BOOST_TEST(reader.discarded_lines() == 0U);
}

BOOST_AUTO_TEST_CASE(a_line_split_across_reads) {
  IrcLineReader reader;
  BOOST_TEST(reader.feed(":srv 001 me :Wel").empty());
  BOOST_TEST(reader.buffered_bytes() == 16U);
  BOOST_TEST(reader.feed("come\r").empty());
  BOOST_TEST((reader.feed("\nPING") == Lines{":srv 001 me :Welcome"}));
  BOOST_TEST((reader.feed(" x\r\n") == Lines{"PING x"}));
}

BOOST_AUTO_TEST_CASE(byte_at_a_time_gives_the_same_lines) {
  const std::string stream = "A 1\r\nB 2\nC 3\r\n\r\nD 4\r\n";
  IrcLineReader reader;
  Lines lines;
  for (const char c : stream) {
    reader.feed(std::string_view(&c, 1),
                [&lines](std::string_view line) { lines.emplace_back(line); });
  }
  BOOST_TEST((lines == Lines{"A 1", "B 2", "C 3", "D 4"}));
}

BOOST_AUTO_TEST_CASE(empty_lines_are_skipped) {
  IrcLineReader reader;
  BOOST_TEST((reader.feed("\r\n\n\r\nX\r\n\r\n") == Lines{"X"}));
}

BOOST_AUTO_TEST_CASE(only_one_cr_is_stripped) {
  IrcLineReader reader;
  // A CR inside the line stays, for parse_line() to refuse.
  BOOST_TEST((reader.feed("A\r\r\nB\rC\n") == Lines{"A\r", "B\rC"}));
}

BOOST_AUTO_TEST_CASE(line_at_the_limit_passes_one_over_is_dropped) {
  IrcLineReader reader(10);
  // Eight bytes, CR and LF: exactly ten.
  BOOST_TEST((reader.feed("12345678\r\n") == Lines{"12345678"}));
  BOOST_TEST((reader.feed("123456789\r\nOK\r\n") == Lines{"OK"}));
  BOOST_TEST(reader.discarded_lines() == 1U);
  // The same limit when the line comes in pieces.
  BOOST_TEST(reader.feed("12345").empty());
  BOOST_TEST((reader.feed("678\r\n") == Lines{"12345678"}));
  BOOST_TEST(reader.feed("12345").empty());
  BOOST_TEST((reader.feed("6789\r\nOK\n") == Lines{"OK"}));
  BOOST_TEST(reader.discarded_lines() == 2U);
}

BOOST_AUTO_TEST_CASE(overlong_line_is_skipped_to_its_end_without_buffering) {
  IrcLineReader reader(100);
  BOOST_TEST(reader.feed(std::string(99, 'x')).empty());
  BOOST_TEST(reader.buffered_bytes() == 99U);
  BOOST_TEST(reader.feed("y").empty());
  BOOST_TEST(reader.buffered_bytes() == 0U);
  BOOST_TEST(reader.discarded_lines() == 1U);
  // A hostile server keeps going: nothing is held, the count does not grow.
  for (int i = 0; i < 1000; ++i) {
    BOOST_TEST_REQUIRE(reader.feed(std::string(4096, 'z')).empty());
    BOOST_TEST_REQUIRE(reader.buffered_bytes() == 0U);
  }
  BOOST_TEST(reader.discarded_lines() == 1U);
  // The rest of that line, up to its LF, is not a line of its own.
  BOOST_TEST((reader.feed("tail\r\nPING :ok\r\n") == Lines{"PING :ok"}));
  BOOST_TEST(reader.discarded_lines() == 1U);
}

BOOST_AUTO_TEST_CASE(overlong_line_in_one_read_between_good_ones) {
  IrcLineReader reader(20);
  const auto lines =
      reader.feed("A\r\n" + std::string(50, 'x') + "\r\nB\r\n" + std::string(30, 'y'));
  BOOST_TEST((lines == Lines{"A", "B"}));
  BOOST_TEST(reader.discarded_lines() == 2U);
  BOOST_TEST(reader.buffered_bytes() == 0U);
  BOOST_TEST((reader.feed("\nC\n") == Lines{"C"}));
}

BOOST_AUTO_TEST_CASE(default_limit_holds_a_full_tagged_line) {
  IrcLineReader reader;
  BOOST_TEST(IrcLineReader::default_max_line_bytes == 8191U + 512U + 2U);
  const std::string longest(IrcLineReader::default_max_line_bytes - 2, 'x');
  BOOST_TEST((reader.feed(longest + "\r\n") == Lines{longest}));
  BOOST_TEST(reader.feed(longest + "x\r\n").empty());
  BOOST_TEST(reader.discarded_lines() == 1U);
}

BOOST_AUTO_TEST_CASE(tiny_limit_is_raised_to_two) {
  IrcLineReader reader(0);
  BOOST_TEST((reader.feed("a\nbc\nd\n") == Lines{"a", "d"}));
  BOOST_TEST(reader.discarded_lines() == 1U);
}

BOOST_AUTO_TEST_SUITE_END()
