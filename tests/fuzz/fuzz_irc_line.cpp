// Fuzz target for the IRC text layer: bytes from a server go through the
// line reader and the parser; every message that parses must serialize and
// parse back equal, the text helpers must keep their promises, and a
// server-time tag value must parse to a time that writes back and reads again.
#include "irc_line_reader.hpp"
#include "irc_message.hpp"
#include "irc_text.hpp"
#include "server_time.hpp"
#include "utf8.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

namespace irc = trestle::irc;
using trestle::xmpp::is_valid_utf8;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_irc_line: %s\n", what);
    std::abort();
  }
}

constexpr std::string_view line_breakers{"\r\n\0", 3};

/// Bytes of `line` after its tags, as the parser measures them.
std::size_t body_bytes(std::string_view line) {
  auto first = line.find_first_not_of(' ');
  line = first == std::string_view::npos ? std::string_view{} : line.substr(first);
  if (!line.empty() && line.front() == '@') {
    line = line.substr(line.find(' '));
    first = line.find_first_not_of(' ');
    line = first == std::string_view::npos ? std::string_view{} : line.substr(first);
  }
  return line.size();
}

/// Bytes of the tag part of `line` ('@' and space included), 0 without tags.
std::size_t tag_bytes(std::string_view line) {
  const auto first = line.find_first_not_of(' ');
  if (first == std::string_view::npos || line[first] != '@') {
    return 0;
  }
  return line.find(' ', first) - first + 1;
}

void check_time(std::string_view text) {
  const auto time = irc::parse_server_time(text);
  if (!time) {
    return;
  }
  const auto stamp = irc::xep0082_stamp(*time);
  check(stamp.size() == 24, "xep0082_stamp: not YYYY-MM-DDThh:mm:ss.sssZ");
  check(irc::parse_server_time(stamp) == time, "xep0082_stamp: does not read back");
}

void check_message(std::string_view line) {
  std::string error;
  const auto message = irc::parse_line(line, &error);
  if (!message) {
    check(!error.empty(), "parse_line: refused without a reason");
    return;
  }
  check(line.find_first_of(line_breakers) == std::string_view::npos,
        "parse_line: accepted CR, LF or NUL");
  check(body_bytes(line) <= irc::max_received_bytes, "parse_line: accepted an overlong line");
  check(!message->command.empty(), "parse_line: empty command");
  check(message->params.size() <= irc::max_params, "parse_line: more than 15 params");
  check(message->source.find_first_of(" \r\n") == std::string::npos, "parse_line: bad source");
  for (std::size_t i = 0; i + 1 < message->params.size(); ++i) {
    const auto& param = message->params[i];
    check(!param.empty() && param.front() != ':' && param.find(' ') == std::string::npos,
          "parse_line: a middle param that could not be written back");
  }

  error.clear();
  const auto written = irc::serialize(*message, &error);
  if (!written) {
    // Only the size limits for sending are stricter than those for receiving;
    // a 15th parameter with spaces gains the ':' it lacked.
    check(!error.empty(), "serialize: refused without a reason");
    check(body_bytes(line) + 1 > irc::max_sent_bytes || tag_bytes(line) > irc::max_sent_tags_bytes,
          "serialize: refused a parsed message that fits");
    return;
  }
  check(written->find_first_of(line_breakers) == std::string::npos,
        "serialize: wrote CR, LF or NUL");
  for (const auto& [key, value] : message->tags) {
    if (key == "time") {
      check_time(value);
    }
  }
  const auto again = irc::parse_line(*written, &error);
  check(again.has_value(), "serialize: output does not parse");
  check(*again == *message, "serialize: output parses to another message");
  const auto rewritten = irc::serialize(*again);
  check(rewritten && *rewritten == *written, "serialize: not stable");
}

void check_text(std::string_view text) {
  const std::string utf8 = irc::to_utf8(text);
  check(is_valid_utf8(utf8), "to_utf8: output is not UTF-8");
  check(!is_valid_utf8(text) || utf8 == text, "to_utf8: changed valid UTF-8");

  const std::string plain = irc::strip_formatting(text);
  check(plain.size() <= text.size(), "strip_formatting: grew the text");
  check(irc::strip_formatting(plain).size() <= plain.size(), "strip_formatting: grew");

  if (const auto action = irc::ctcp_action_text(text)) {
    check(action->size() < text.size(), "ctcp_action_text: grew");
  }
  const auto made = irc::make_ctcp_action(text);
  const auto action = irc::ctcp_action_text(made);
  check(action.has_value(), "make_ctcp_action: not an action");
  check(action->find('\x01') == std::string::npos, "make_ctcp_action: kept a \\x01");

  const bool valid = is_valid_utf8(text);
  for (const std::size_t max :
       {std::size_t{4}, std::size_t{5}, std::size_t{17}, std::size_t{400}}) {
    std::size_t total = 0;
    for (const auto& piece : irc::split_for_irc(text, max)) {
      check(!piece.empty(), "split_for_irc: empty piece");
      check(piece.size() <= max, "split_for_irc: piece over the limit");
      check(piece.find_first_of("\r\n") == std::string::npos, "split_for_irc: line break kept");
      check(!valid || is_valid_utf8(piece), "split_for_irc: piece is not UTF-8");
      total += piece.size();
    }
    check(total <= text.size(), "split_for_irc: grew the text");
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // A small limit as well as the default, so that overlong lines happen.
  irc::IrcLineReader reader;
  irc::IrcLineReader small(64);
  // Feed in two reads, split where the first byte says, to cross line ends.
  const std::size_t cut = size == 0 ? 0 : data[0] % (size + 1);
  for (auto* r : {&reader, &small}) {
    std::size_t lines = 0;
    const irc::IrcLineReader::LineHandler on_line = [&lines](std::string_view line) {
      check(!line.empty(), "reader: empty line");
      check(line.find('\n') == std::string_view::npos, "reader: LF inside a line");
      ++lines;
      check_message(line);
    };
    r->feed(input.substr(0, cut), on_line);
    r->feed(input.substr(cut), on_line);
    check(lines <= size, "reader: more lines than bytes");
  }
  check(small.buffered_bytes() < 64, "reader: buffered past the limit");
  check(reader.buffered_bytes() < irc::IrcLineReader::default_max_line_bytes,
        "reader: buffered past the limit");
  check_message(input);
  check_text(input);
  check_time(input);
  return 0;
}
