#include "irc_text.hpp"
#include "utf8.hpp"

#include <boost/test/unit_test.hpp>
#include <stdexcept>
#include <string>
#include <vector>

using trestle::irc::ctcp_action_overhead;
using trestle::irc::ctcp_action_text;
using trestle::irc::make_ctcp_action;
using trestle::irc::min_split_bytes;
using trestle::irc::privmsg_budget;
using trestle::irc::split_for_irc;
using trestle::irc::strip_formatting;
using trestle::irc::to_utf8;
using trestle::irc::unknown_host_bytes;
using trestle::irc::unknown_user_bytes;
using trestle::xmpp::is_valid_utf8;

namespace {

using Pieces = std::vector<std::string>;

std::string join(const Pieces& pieces) {
  std::string out;
  for (const auto& piece : pieces) {
    out += piece;
  }
  return out;
}

/// Bytes of the UTF-8 character that starts with `lead`.
std::size_t utf8_length(char lead) {
  const auto byte = static_cast<unsigned char>(lead);
  return byte < 0x80 ? 1 : byte < 0xE0 ? 2 : byte < 0xF0 ? 3 : 4;
}

} // namespace

BOOST_AUTO_TEST_SUITE(irc_text)

BOOST_AUTO_TEST_CASE(valid_utf8_passes_through) {
  for (const std::string text :
       {"", "plain", "caf\xc3\xa9", "\xe2\x82\xac 5", "\xf0\x9f\x98\x80"}) {
    BOOST_TEST(to_utf8(text) == text);
  }
}

BOOST_AUTO_TEST_CASE(anything_else_is_latin1) {
  BOOST_TEST(to_utf8("caf\xe9") == "caf\xc3\xa9");
  BOOST_TEST(to_utf8("\xa3\xff") == "\xc2\xa3\xc3\xbf");
  // One bad byte decodes the whole text as latin-1, even the valid UTF-8 in it.
  BOOST_TEST(to_utf8("\xc3\xa9\xe9") == "\xc3\x83\xc2\xa9\xc3\xa9");
  // Overlong forms, surrogates and truncated sequences are not UTF-8.
  BOOST_TEST(to_utf8("\xc0\xaf") == "\xc3\x80\xc2\xaf");
  BOOST_TEST(to_utf8("\xed\xa0\x80") == "\xc3\xad\xc2\xa0\xc2\x80");
  BOOST_TEST(to_utf8("x\xe2\x82") == "x\xc3\xa2\xc2\x82");
  std::string every_byte;
  for (int b = 1; b < 256; ++b) {
    every_byte += static_cast<char>(b);
  }
  const std::string decoded = to_utf8(every_byte);
  BOOST_TEST(is_valid_utf8(decoded));
  BOOST_TEST(decoded.size() == 127U + 2U * 128U);
}

BOOST_AUTO_TEST_CASE(strip_simple_codes) {
  BOOST_TEST(strip_formatting("\x02"
                              "bold\x02 \x1ditalic\x1d \x1funder\x1f \x1estrike\x1e \x11"
                              "mono\x11 \x16rev\x16 \x0freset") ==
             "bold italic under strike mono rev reset");
  BOOST_TEST(strip_formatting("plain text, caf\xc3\xa9") == "plain text, caf\xc3\xa9");
  BOOST_TEST(strip_formatting("") == "");
}

BOOST_AUTO_TEST_CASE(strip_colours_with_their_digits) {
  BOOST_TEST(strip_formatting("\x03"
                              "4red") == "red");
  BOOST_TEST(strip_formatting("\x03"
                              "04red") == "red");
  BOOST_TEST(strip_formatting("\x03"
                              "04,12x") == "x");
  BOOST_TEST(strip_formatting("\x03"
                              "4,1x") == "x");
  // At most two digits each.
  BOOST_TEST(strip_formatting("\x03"
                              "123") == "3");
  BOOST_TEST(strip_formatting("\x03"
                              "04,123") == "3");
  // A comma is text unless a foreground came before and a digit after.
  BOOST_TEST(strip_formatting("\x03"
                              ",12x") == ",12x");
  BOOST_TEST(strip_formatting("\x03"
                              "04,x") == ",x");
  BOOST_TEST(strip_formatting("\x03"
                              "04,") == ",");
  BOOST_TEST(strip_formatting("a\x03") == "a");
  BOOST_TEST(strip_formatting("\x03x\x03") == "x");
  BOOST_TEST(strip_formatting("1\x03"
                              "2,3 4") == "1 4");
}

BOOST_AUTO_TEST_CASE(strip_hex_colours) {
  BOOST_TEST(strip_formatting("\x04"
                              "FF00aaHi") == "Hi");
  BOOST_TEST(strip_formatting("\x04"
                              "FF00aa,000000Hi") == "Hi");
  BOOST_TEST(strip_formatting("\x04"
                              "FF00aa,00Hi") == ",00Hi");
  BOOST_TEST(strip_formatting("\x04"
                              "FFxHi") == "FFxHi");
  BOOST_TEST(strip_formatting("\x04Hi") == "Hi");
  BOOST_TEST(strip_formatting("\x04"
                              "ABCDE") == "ABCDE");
}

BOOST_AUTO_TEST_CASE(ctcp_action_in) {
  BOOST_TEST(ctcp_action_text("\x01"
                              "ACTION waves\x01")
                 .value_or("?") == "waves");
  BOOST_TEST(ctcp_action_text("\x01"
                              "ACTION waves")
                 .value_or("?") == "waves");
  BOOST_TEST(ctcp_action_text("\x01"
                              "action waves\x01")
                 .value_or("?") == "waves");
  BOOST_TEST(ctcp_action_text("\x01"
                              "ACTION\x01")
                 .value_or("?") == "");
  BOOST_TEST(ctcp_action_text("\x01"
                              "ACTION")
                 .value_or("?") == "");
  BOOST_TEST(ctcp_action_text("\x01"
                              "ACTION  two\x01")
                 .value_or("?") == " two");
  BOOST_TEST(!ctcp_action_text("\x01VERSION\x01"));
  BOOST_TEST(!ctcp_action_text("\x01"
                               "ACTIONS x\x01"));
  BOOST_TEST(!ctcp_action_text("ACTION waves"));
  BOOST_TEST(!ctcp_action_text("\x01"));
  BOOST_TEST(!ctcp_action_text(""));
}

BOOST_AUTO_TEST_CASE(ctcp_action_out) {
  const std::string action = make_ctcp_action("waves");
  BOOST_TEST(action == "\x01"
                       "ACTION waves\x01");
  BOOST_TEST(action.size() == 5 + ctcp_action_overhead);
  BOOST_TEST(ctcp_action_text(action).value_or("?") == "waves");
  // A \x01 in the text would close the CTCP early.
  BOOST_TEST(make_ctcp_action("a\x01"
                              "b") == "\x01"
                                      "ACTION ab\x01");
}

BOOST_AUTO_TEST_CASE(one_payload_per_line) {
  BOOST_TEST((split_for_irc("a\r\nb\nc\rd", 400) == Pieces{"a", "b", "c", "d"}));
  BOOST_TEST((split_for_irc("one\n\n\r\n\rtwo\n", 400) == Pieces{"one", "two"}));
  BOOST_TEST(split_for_irc("", 400).empty());
  BOOST_TEST(split_for_irc("\r\n\n\r", 400).empty());
  BOOST_TEST((split_for_irc("hi\r\nQUIT :bye", 400) == Pieces{"hi", "QUIT :bye"}));
  BOOST_TEST((split_for_irc("  ", 400) == Pieces{"  "}));
}

BOOST_AUTO_TEST_CASE(long_lines_split_at_the_last_space) {
  BOOST_TEST((split_for_irc("hello world foo", 10) == Pieces{"hello", "world foo"}));
  // A space just past the limit is a clean cut too.
  BOOST_TEST((split_for_irc("0123456789 abc", 10) == Pieces{"0123456789", "abc"}));
  BOOST_TEST((split_for_irc("abcdefghijklmnopqrstuvwxy", 10) ==
              Pieces{"abcdefghij", "klmnopqrst", "uvwxy"}));
  // A leading space is no place to cut: that would send an empty piece.
  BOOST_TEST((split_for_irc(" abcdefghijk", 10) == Pieces{" abcdefghi", "jk"}));
  BOOST_TEST((split_for_irc("aa bb cc dd ee ff", 5) == Pieces{"aa bb", "cc dd", "ee ff"}));
}

BOOST_AUTO_TEST_CASE(utf8_split_at_every_boundary) {
  // 1-, 2-, 3- and 4-byte characters, shifted by 0..7 ASCII bytes, at every limit.
  const std::string characters =
      "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z\xf0\x9f\x98\x80\xe2\x82\xac";
  for (std::size_t shift = 0; shift < 8; ++shift) {
    const std::string text = std::string(shift, 'x') + characters + characters;
    for (std::size_t max = min_split_bytes; max <= text.size() + 1; ++max) {
      BOOST_TEST_CONTEXT("shift " << shift << ", max " << max) {
        const auto pieces = split_for_irc(text, max);
        BOOST_TEST(join(pieces) == text);
        std::size_t at = 0;
        for (const auto& piece : pieces) {
          BOOST_TEST(!piece.empty());
          BOOST_TEST(piece.size() <= max);
          BOOST_TEST(is_valid_utf8(piece));
          at += piece.size();
          // Greedy: the next character would not have fitted.
          if (at < text.size()) {
            BOOST_TEST(piece.size() + utf8_length(text[at]) > max);
          }
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(split_never_loops_on_bytes_that_are_not_utf8) {
  const std::string continuation(21, '\x80');
  const auto pieces = split_for_irc(continuation, 4);
  BOOST_TEST(pieces.size() == 6U);
  BOOST_TEST(join(pieces) == continuation);
  for (const auto& piece : pieces) {
    BOOST_TEST(piece.size() <= 4U);
  }
}

BOOST_AUTO_TEST_CASE(split_needs_room_for_one_character) {
  BOOST_CHECK_THROW(split_for_irc("abc", 3), std::invalid_argument);
  BOOST_CHECK_THROW(split_for_irc("abc", 0), std::invalid_argument);
  BOOST_TEST((split_for_irc("\xf0\x9f\x98\x80\xf0\x9f\x98\x80", 4) ==
              Pieces{"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"}));
}

BOOST_AUTO_TEST_CASE(budget_counts_the_relayed_prefix) {
  const std::size_t budget = privmsg_budget("alice", "~alice", "host.example", "#chan");
  BOOST_TEST(budget == 468U);
  const std::string relayed =
      ":alice!~alice@host.example PRIVMSG #chan :" + std::string(budget, 'x') + "\r\n";
  BOOST_TEST(relayed.size() == 512U);
}

BOOST_AUTO_TEST_CASE(budget_assumes_long_user_and_host_when_unknown) {
  const std::size_t known = privmsg_budget("alice", "a", "h", "#chan");
  BOOST_TEST(privmsg_budget("alice", "", "h", "#chan") == known - (unknown_user_bytes - 1));
  BOOST_TEST(privmsg_budget("alice", "a", "", "#chan") == known - (unknown_host_bytes - 1));
  BOOST_TEST(privmsg_budget("alice", "", "", "#chan") == 411U);
}

BOOST_AUTO_TEST_CASE(budget_is_zero_when_nothing_fits) {
  BOOST_TEST(privmsg_budget("n", "u", "h", std::string(600, 'c')) == 0U);
  BOOST_TEST(privmsg_budget("n", "u", "h", std::string(492, 'c')) == 1U);
  BOOST_TEST(privmsg_budget("n", "u", "h", std::string(493, 'c')) == 0U);
}

BOOST_AUTO_TEST_SUITE_END()
