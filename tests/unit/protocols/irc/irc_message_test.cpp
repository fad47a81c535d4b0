#include "irc_message.hpp"

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

using trestle::irc::escape_tag_value;
using trestle::irc::IrcMessage;
using trestle::irc::is_client_only_tag;
using trestle::irc::is_numeric;
using trestle::irc::is_valid_tag_key;
using trestle::irc::max_params;
using trestle::irc::max_received_bytes;
using trestle::irc::max_sent_bytes;
using trestle::irc::max_sent_tags_bytes;
using trestle::irc::max_tags_bytes;
using trestle::irc::parse_line;
using trestle::irc::serialize;
using trestle::irc::source_nick;
using trestle::irc::unescape_tag_value;

namespace {

using Tags = std::vector<std::pair<std::string, std::string>>;
using Params = std::vector<std::string>;

/// One parse vector: a line and the message it must give.
struct SplitCase {
  std::string input;
  IrcMessage expected;
};

std::string describe(const IrcMessage& m) {
  std::string out = "tags{";
  for (const auto& [key, value] : m.tags) {
    out += key + "=[" + value + "] ";
  }
  out += "} source[" + m.source + "] command[" + m.command + "] params{";
  for (const auto& param : m.params) {
    out += "[" + param + "]";
  }
  return out + "}";
}

/// The vectors of ircdocs parser-tests, tests/msg-split.yaml
/// (https://github.com/ircdocs/parser-tests, CC0). The verb is upper-cased
/// here because parse_line() upper-cases commands; YAML and C++ escapes agree
/// on every string, except that C++ hex escapes had to be cut off with "" "".
const std::vector<SplitCase>& msg_split_vectors() {
  static const std::vector<SplitCase> cases{
      {"foo bar baz asdf", {{}, "", "FOO", {"bar", "baz", "asdf"}}},
      {":coolguy foo bar baz asdf", {{}, "coolguy", "FOO", {"bar", "baz", "asdf"}}},
      {"foo bar baz :asdf quux", {{}, "", "FOO", {"bar", "baz", "asdf quux"}}},
      {"foo bar baz :", {{}, "", "FOO", {"bar", "baz", ""}}},
      {"foo bar baz ::asdf", {{}, "", "FOO", {"bar", "baz", ":asdf"}}},
      {":coolguy foo bar baz :asdf quux", {{}, "coolguy", "FOO", {"bar", "baz", "asdf quux"}}},
      {":coolguy foo bar baz :  asdf quux ",
       {{}, "coolguy", "FOO", {"bar", "baz", "  asdf quux "}}},
      {":coolguy PRIVMSG bar :lol :) ", {{}, "coolguy", "PRIVMSG", {"bar", "lol :) "}}},
      {":coolguy foo bar baz :", {{}, "coolguy", "FOO", {"bar", "baz", ""}}},
      {":coolguy foo bar baz :  ", {{}, "coolguy", "FOO", {"bar", "baz", "  "}}},
      {"@a=b;c=32;k;rt=ql7 foo",
       {{{"a", "b"}, {"c", "32"}, {"k", ""}, {"rt", "ql7"}}, "", "FOO", {}}},
      {"@a=b\\\\and\\nk;c=72\\s45;d=gh\\:764 foo",
       {{{"a", "b\\and\nk"}, {"c", "72 45"}, {"d", "gh;764"}}, "", "FOO", {}}},
      {"@c;h=;a=b :quux ab cd", {{{"c", ""}, {"h", ""}, {"a", "b"}}, "quux", "AB", {"cd"}}},
      {":src JOIN #chan", {{}, "src", "JOIN", {"#chan"}}},
      {":src JOIN :#chan", {{}, "src", "JOIN", {"#chan"}}},
      {":src AWAY", {{}, "src", "AWAY", {}}},
      {":src AWAY ", {{}, "src", "AWAY", {}}},
      {":cool\tguy foo bar baz", {{}, "cool\tguy", "FOO", {"bar", "baz"}}},
      {":coolguy!ag@net\x03"
       "5w\x03"
       "ork.admin PRIVMSG foo :bar baz",
       {{},
        "coolguy!ag@net\x03"
        "5w\x03"
        "ork.admin",
        "PRIVMSG",
        {"foo", "bar baz"}}},
      {":coolguy!~ag@n\x02"
       "et\x03"
       "05w\x0f"
       "ork.admin PRIVMSG foo :bar baz",
       {{},
        "coolguy!~ag@n\x02"
        "et\x03"
        "05w\x0f"
        "ork.admin",
        "PRIVMSG",
        {"foo", "bar baz"}}},
      {"@tag1=value1;tag2;vendor1/tag3=value2;vendor2/tag4= :irc.example.com COMMAND param1 "
       "param2 :param3 param3",
       {{{"tag1", "value1"}, {"tag2", ""}, {"vendor1/tag3", "value2"}, {"vendor2/tag4", ""}},
        "irc.example.com",
        "COMMAND",
        {"param1", "param2", "param3 param3"}}},
      {":irc.example.com COMMAND param1 param2 :param3 param3",
       {{}, "irc.example.com", "COMMAND", {"param1", "param2", "param3 param3"}}},
      {"@tag1=value1;tag2;vendor1/tag3=value2;vendor2/tag4 COMMAND param1 param2 :param3 param3",
       {{{"tag1", "value1"}, {"tag2", ""}, {"vendor1/tag3", "value2"}, {"vendor2/tag4", ""}},
        "",
        "COMMAND",
        {"param1", "param2", "param3 param3"}}},
      {"COMMAND", {{}, "", "COMMAND", {}}},
      {"@foo=\\\\\\\\\\:\\\\s\\s\\r\\n COMMAND", {{{"foo", "\\\\;\\s \r\n"}}, "", "COMMAND", {}}},
      {":gravel.mozilla.org 432  #momo :Erroneous Nickname: Illegal characters",
       {{}, "gravel.mozilla.org", "432", {"#momo", "Erroneous Nickname: Illegal characters"}}},
      {":gravel.mozilla.org MODE #tckk +n ", {{}, "gravel.mozilla.org", "MODE", {"#tckk", "+n"}}},
      {":services.esper.net MODE #foo-bar +o foobar  ",
       {{}, "services.esper.net", "MODE", {"#foo-bar", "+o", "foobar"}}},
      {"@tag1=value\\\\ntest COMMAND", {{{"tag1", "value\\ntest"}}, "", "COMMAND", {}}},
      {"@tag1=value\\1 COMMAND", {{{"tag1", "value1"}}, "", "COMMAND", {}}},
      {"@tag1=value1\\ COMMAND", {{{"tag1", "value1"}}, "", "COMMAND", {}}},
      // Duplicate tags: the final occurrence wins (the YAML compares a dict, so
      // the order is ours: a repeated key keeps its first place).
      {"@tag1=1;tag2=3;tag3=4;tag1=5 COMMAND",
       {{{"tag1", "5"}, {"tag2", "3"}, {"tag3", "4"}}, "", "COMMAND", {}}},
      {"@tag1=1;tag2=3;tag3=4;tag1=5;vendor/tag2=8 COMMAND",
       {{{"tag1", "5"}, {"tag2", "3"}, {"tag3", "4"}, {"vendor/tag2", "8"}}, "", "COMMAND", {}}},
      {":SomeOp MODE #channel :+i", {{}, "SomeOp", "MODE", {"#channel", "+i"}}},
      {":SomeOp MODE #channel +oo SomeUser :AnotherUser",
       {{}, "SomeOp", "MODE", {"#channel", "+oo", "SomeUser", "AnotherUser"}}},
  };
  return cases;
}

/// One serialize vector: a message and the lines it may be written as.
struct JoinCase {
  IrcMessage atoms;
  std::vector<std::string> matches;
};

/// ircdocs parser-tests, tests/msg-join.yaml (https://github.com/ircdocs/parser-tests,
/// CC0), with the verbs upper-cased as serialize() writes them.
const std::vector<JoinCase>& msg_join_vectors() {
  static const std::vector<JoinCase> cases{
      {{{}, "", "foo", {"bar", "baz", "asdf"}}, {"FOO bar baz asdf", "FOO bar baz :asdf"}},
      {{{}, "src", "AWAY", {}}, {":src AWAY"}},
      {{{}, "src", "AWAY", {""}}, {":src AWAY :"}},
      {{{}, "coolguy", "foo", {"bar", "baz", "asdf"}},
       {":coolguy FOO bar baz asdf", ":coolguy FOO bar baz :asdf"}},
      {{{}, "", "foo", {"bar", "baz", "asdf quux"}}, {"FOO bar baz :asdf quux"}},
      {{{}, "", "foo", {"bar", "baz", ""}}, {"FOO bar baz :"}},
      {{{}, "", "foo", {"bar", "baz", ":asdf"}}, {"FOO bar baz ::asdf"}},
      {{{}, "coolguy", "foo", {"bar", "baz", "asdf quux"}}, {":coolguy FOO bar baz :asdf quux"}},
      {{{}, "coolguy", "foo", {"bar", "baz", "  asdf quux "}},
       {":coolguy FOO bar baz :  asdf quux "}},
      {{{}, "coolguy", "PRIVMSG", {"bar", "lol :) "}}, {":coolguy PRIVMSG bar :lol :) "}},
      {{{}, "coolguy", "foo", {"bar", "baz", ""}}, {":coolguy FOO bar baz :"}},
      {{{}, "coolguy", "foo", {"bar", "baz", "  "}}, {":coolguy FOO bar baz :  "}},
      {{{}, "coolguy", "foo", {"b\tar", "baz"}},
       {":coolguy FOO b\tar baz", ":coolguy FOO b\tar :baz"}},
      {{{{"asd", ""}}, "coolguy", "foo", {"bar", "baz", "  "}},
       {"@asd :coolguy FOO bar baz :  ", "@asd= :coolguy FOO bar baz :  "}},
      {{{{"a", "b\\and\nk"}, {"d", "gh;764"}}, "", "foo", {}},
       {"@a=b\\\\and\\nk;d=gh\\:764 FOO", "@d=gh\\:764;a=b\\\\and\\nk FOO"}},
      {{{{"a", "b\\and\nk"}, {"d", "gh;764"}}, "", "foo", {"par1", "par2"}},
       {"@a=b\\\\and\\nk;d=gh\\:764 FOO par1 par2", "@a=b\\\\and\\nk;d=gh\\:764 FOO par1 :par2",
        "@d=gh\\:764;a=b\\\\and\\nk FOO par1 par2", "@d=gh\\:764;a=b\\\\and\\nk FOO par1 :par2"}},
      {{{{"foo", "\\\\;\\s \r\n"}}, "", "COMMAND", {}}, {"@foo=\\\\\\\\\\:\\\\s\\s\\r\\n COMMAND"}},
  };
  return cases;
}

/// The reason serialize() gives for `message`; fails the test when it serializes.
std::string refusal(const IrcMessage& message) {
  std::string error;
  const auto line = serialize(message, &error);
  BOOST_TEST(!line.has_value(), "serialized as '" << line.value_or("") << "'");
  BOOST_TEST(!error.empty());
  return error;
}

/// The reason parse_line() gives for `line`; fails the test when it parses.
std::string parse_error(std::string_view line) {
  std::string error;
  const auto message = parse_line(line, &error);
  BOOST_TEST(!message.has_value(), "parsed as " << describe(message.value_or(IrcMessage{})));
  BOOST_TEST(!error.empty());
  return error;
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

IrcMessage privmsg(std::string target, std::string text) {
  return IrcMessage{{}, "", "PRIVMSG", {std::move(target), std::move(text)}};
}

} // namespace

BOOST_AUTO_TEST_SUITE(irc_message)

BOOST_AUTO_TEST_CASE(parser_tests_msg_split) {
  for (const auto& [input, expected] : msg_split_vectors()) {
    std::string error;
    const auto message = parse_line(input, &error);
    BOOST_TEST_CONTEXT("input: " << input) {
      BOOST_REQUIRE_MESSAGE(message.has_value(), error);
      BOOST_TEST((*message == expected), describe(*message) << " != " << describe(expected));
    }
  }
}

BOOST_AUTO_TEST_CASE(parser_tests_msg_join) {
  for (const auto& [atoms, matches] : msg_join_vectors()) {
    std::string error;
    const auto line = serialize(atoms, &error);
    BOOST_TEST_CONTEXT("atoms: " << describe(atoms)) {
      BOOST_REQUIRE_MESSAGE(line.has_value(), error);
      BOOST_TEST((std::find(matches.begin(), matches.end(), *line) != matches.end()),
                 "unexpected '" << *line << "'");
    }
  }
}

BOOST_AUTO_TEST_CASE(every_split_vector_serializes_and_parses_back) {
  for (const auto& [input, expected] : msg_split_vectors()) {
    std::string error;
    const auto line = serialize(expected, &error);
    BOOST_TEST_CONTEXT("input: " << input) {
      BOOST_REQUIRE_MESSAGE(line.has_value(), error);
      const auto again = parse_line(*line);
      BOOST_REQUIRE(again.has_value());
      BOOST_TEST((*again == expected), describe(*again));
    }
  }
}

// Examples of the IRCv3 message-tags specification
// (https://ircv3.net/specs/extensions/message-tags, "Examples").
BOOST_AUTO_TEST_CASE(ircv3_message_tags_examples) {
  const auto three =
      parse_line("@aaa=bbb;ccc;example.com/ddd=eee :nick!ident@host.com PRIVMSG me :Hello");
  BOOST_REQUIRE(three);
  BOOST_TEST((three->tags == Tags{{"aaa", "bbb"}, {"ccc", ""}, {"example.com/ddd", "eee"}}));
  BOOST_TEST(three->source == "nick!ident@host.com");
  BOOST_TEST((three->params == Params{"me", "Hello"}));

  const auto client_only =
      parse_line("@+example-client-tag=example-value PRIVMSG #channel :Message");
  BOOST_REQUIRE(client_only);
  BOOST_TEST((client_only->tags == Tags{{"+example-client-tag", "example-value"}}));
  BOOST_TEST(is_client_only_tag(client_only->tags[0].first));

  const auto vendor = parse_line("@+example.com/foo=bar :irc.example.com NOTICE #channel :A "
                                 "vendor-prefixed client-only tagged message");
  BOOST_REQUIRE(vendor);
  BOOST_TEST((vendor->tags == Tags{{"+example.com/foo", "bar"}}));
  BOOST_TEST(vendor->command == "NOTICE");

  const auto raw =
      parse_line("@+example=raw+:=,escaped\\:\\s\\\\ :irc.example.com NOTICE #channel :Message");
  BOOST_REQUIRE(raw);
  BOOST_TEST((raw->tags == Tags{{"+example", "raw+:=,escaped; \\"}}));
  BOOST_TEST(*serialize(*raw) ==
             "@+example=raw+:=,escaped\\:\\s\\\\ :irc.example.com NOTICE #channel Message");

  const auto tagmsg = parse_line("@label=123;msgid=abc;+example-client-tag=example-value "
                                 ":nick!user@example.com TAGMSG #channel");
  BOOST_REQUIRE(tagmsg);
  BOOST_TEST(tagmsg->tags.size() == 3U);
  BOOST_TEST(tagmsg->command == "TAGMSG");
  BOOST_TEST((tagmsg->params == Params{"#channel"}));
}

BOOST_AUTO_TEST_CASE(command_is_upper_cased_and_numerics_kept) {
  BOOST_TEST(parse_line("privmsg #a :hi")->command == "PRIVMSG");
  BOOST_TEST(parse_line(":srv 001 me :Welcome")->command == "001");
  BOOST_TEST(*serialize(IrcMessage{{}, "", "nick", {"alice"}}) == "NICK alice");
}

BOOST_AUTO_TEST_CASE(runs_of_spaces_anywhere) {
  const auto message = parse_line("  @a=1   :src   CMD   x   y   :  z ");
  BOOST_REQUIRE(message);
  BOOST_TEST((message->tags == Tags{{"a", "1"}}));
  BOOST_TEST(message->source == "src");
  BOOST_TEST(message->command == "CMD");
  BOOST_TEST((message->params == Params{"x", "y", "  z "}));
}

BOOST_AUTO_TEST_CASE(fifteenth_param_takes_the_rest_of_the_line) {
  std::string line = "CMD";
  for (int i = 1; i <= 14; ++i) {
    line += " p" + std::to_string(i);
  }
  const auto fifteen = parse_line(line + " a b  :c  ");
  BOOST_REQUIRE(fifteen);
  BOOST_REQUIRE(fifteen->params.size() == max_params);
  BOOST_TEST(fifteen->params[13] == "p14");
  BOOST_TEST(fifteen->params[14] == "a b  :c");
  // Written back, the 15th becomes a trailing parameter and reads the same.
  const auto line_out = serialize(*fifteen);
  BOOST_REQUIRE(line_out);
  BOOST_TEST(*line_out == line + " :a b  :c");
  BOOST_TEST((*parse_line(*line_out) == *fifteen));

  const auto trailing = parse_line(line + " :x y");
  BOOST_REQUIRE(trailing);
  BOOST_TEST(trailing->params.back() == "x y");
  const auto plain = parse_line(line + " p15");
  BOOST_REQUIRE(plain);
  BOOST_TEST(plain->params.size() == 15U);
  BOOST_TEST(plain->params.back() == "p15");
}

BOOST_AUTO_TEST_CASE(malformed_tags_are_dropped_not_the_message) {
  const auto message = parse_line("@=x;good=1;bad_key=2;/x=1;v/=1;;+=3;a.b/c-d=4 CMD");
  BOOST_REQUIRE(message);
  BOOST_TEST((message->tags == Tags{{"good", "1"}, {"a.b/c-d", "4"}}));
  BOOST_TEST(is_valid_tag_key("+draft/reply"));
  BOOST_TEST(!is_valid_tag_key("+"));
  BOOST_TEST(!is_valid_tag_key("a b"));
  BOOST_TEST(!is_valid_tag_key("ve_ndor/x"));
  BOOST_TEST(!is_client_only_tag("msgid"));
  const auto empty_tags = parse_line("@ CMD");
  BOOST_REQUIRE(empty_tags);
  BOOST_TEST(empty_tags->tags.empty());
}

BOOST_AUTO_TEST_CASE(parse_errors) {
  BOOST_TEST(contains(parse_error(""), "no command"));
  BOOST_TEST(contains(parse_error("    "), "no command"));
  BOOST_TEST(contains(parse_error("@a=b"), "tags but no command"));
  BOOST_TEST(contains(parse_error("@a=b   "), "no command"));
  BOOST_TEST(contains(parse_error(":nick"), "no command"));
  BOOST_TEST(contains(parse_error(": PRIVMSG x"), "empty source"));
  BOOST_TEST(contains(parse_error("12 x"), "command"));
  BOOST_TEST(contains(parse_error("1234 x"), "command"));
  BOOST_TEST(contains(parse_error("PRIV1 x"), "command"));
  BOOST_TEST(contains(parse_error("PRI-VMSG x"), "command"));
  BOOST_TEST(contains(parse_error(":src :PRIVMSG x"), "command"));
}

BOOST_AUTO_TEST_CASE(parse_refuses_cr_lf_nul_inside_a_line) {
  BOOST_TEST(contains(parse_error("PRIVMSG #a :hi\rQUIT"), "CR, LF or NUL"));
  BOOST_TEST(contains(parse_error("PRIVMSG #a :hi\nQUIT"), "CR, LF or NUL"));
  BOOST_TEST(contains(parse_error(std::string_view("PRIVMSG #a :hi\0QUIT", 19)), "NUL"));
  BOOST_TEST(contains(parse_error("PRIVMSG #a :hi\r\n"), "CR, LF or NUL"));
}

BOOST_AUTO_TEST_CASE(parse_size_limits) {
  const std::string command = "PRIVMSG #a :";
  const std::string longest = command + std::string(max_received_bytes - command.size(), 'x');
  BOOST_TEST(parse_line(longest).has_value());
  BOOST_TEST(contains(parse_error(longest + "x"), "longer than 512"));

  // 8191 bytes of tags, '@' and the space included.
  const std::string tags = "@k=" + std::string(max_tags_bytes - 4, 'v');
  BOOST_REQUIRE(tags.size() + 1 == max_tags_bytes);
  const auto big = parse_line(tags + " " + longest);
  BOOST_REQUIRE(big);
  BOOST_TEST(big->tags[0].second.size() == max_tags_bytes - 4);
  BOOST_TEST(contains(parse_error(tags + "v " + longest), "tags are longer than 8191"));
}

BOOST_AUTO_TEST_CASE(serialize_refuses_line_breaks_in_every_field) {
  const std::vector<std::string> breakers{"\r", "\n", std::string(1, '\0'), "\r\nQUIT :bye"};
  for (const std::string& bad : breakers) {
    BOOST_TEST_CONTEXT("inserted: " << static_cast<int>(bad[0])) {
      BOOST_TEST(contains(refusal(privmsg("#chan", "hello" + bad)), "parameter 2"));
      BOOST_TEST(contains(refusal(privmsg("#chan" + bad, "hello")), "parameter 1"));
      BOOST_TEST(contains(refusal(IrcMessage{{}, "nick" + bad, "PRIVMSG", {"#a", "x"}}), "source"));
      BOOST_TEST(contains(refusal(IrcMessage{{}, "", "PRIVMSG" + bad, {"#a", "x"}}), "command"));
      BOOST_TEST(
          contains(refusal(IrcMessage{{{"k" + bad, "v"}}, "", "PRIVMSG", {"#a", "x"}}), "tag key"));
      // Topics, kick reasons and raw commands travel the same way.
      BOOST_TEST(!serialize(IrcMessage{{}, "", "TOPIC", {"#a", "new" + bad}}).has_value());
      BOOST_TEST(!serialize(IrcMessage{{}, "", "KICK", {"#a", "bob", "reason" + bad}}).has_value());
      BOOST_TEST(!serialize(IrcMessage{{}, "", "NICK", {"ali" + bad + "ce"}}).has_value());
    }
  }
}

BOOST_AUTO_TEST_CASE(the_quit_injection_never_reaches_the_wire) {
  std::string error;
  BOOST_TEST(!serialize(privmsg("#chan", "hi\r\nQUIT :pwned"), &error).has_value());
  BOOST_TEST(contains(error, "CR, LF or NUL"));
  // A space smuggled into the target would turn the text into extra parameters.
  BOOST_TEST(contains(refusal(privmsg("#chan :x\r\nQUIT", "hi")), "parameter 1"));
}

BOOST_AUTO_TEST_CASE(tag_values_carry_cr_lf_escaped_but_never_nul) {
  const IrcMessage message{{{"+draft/reply", "a;b c\\d\re\nf"}}, "", "TAGMSG", {"#a"}};
  const auto line = serialize(message);
  BOOST_REQUIRE(line);
  BOOST_TEST(*line == "@+draft/reply=a\\:b\\sc\\\\d\\re\\nf TAGMSG #a");
  BOOST_TEST(line->find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos);
  BOOST_TEST((*parse_line(*line) == message));
  const IrcMessage nul{{{"k", std::string("a\0b", 3)}}, "", "TAGMSG", {"#a"}};
  BOOST_TEST(contains(refusal(nul), "NUL"));
}

BOOST_AUTO_TEST_CASE(serialize_refuses_parameters_that_would_shift) {
  BOOST_TEST(contains(refusal(privmsg("#a b", "x")), "contains a space"));
  BOOST_TEST(contains(refusal(privmsg(":#a", "x")), "starts with ':'"));
  BOOST_TEST(contains(refusal(privmsg("", "x")), "empty"));
  BOOST_TEST(contains(refusal(IrcMessage{{}, "nick name", "PRIVMSG", {"#a", "x"}}), "source"));
  BOOST_TEST(contains(refusal(IrcMessage{{}, "", "PRIV MSG", {"#a"}}), "command"));
  BOOST_TEST(contains(refusal(IrcMessage{{}, "", "", {"#a"}}), "command"));
  BOOST_TEST(contains(refusal(IrcMessage{{}, "", "12", {"#a"}}), "command"));
  IrcMessage many{{}, "", "CMD", Params(max_params + 1, "p")};
  BOOST_TEST(contains(refusal(many), "more than 15"));
  many.params.pop_back();
  BOOST_TEST(serialize(many).has_value());
  // The last parameter may hold spaces, a leading ':' or nothing at all.
  BOOST_TEST(*serialize(privmsg("#a", ":) x")) == "PRIVMSG #a ::) x");
  BOOST_TEST(*serialize(privmsg("#a", "")) == "PRIVMSG #a :");
}

BOOST_AUTO_TEST_CASE(serialize_refuses_bad_tags) {
  BOOST_TEST(contains(refusal(IrcMessage{{{"a", "1"}, {"a", "2"}}, "", "TAGMSG", {"#a"}}),
                      "appears twice"));
  BOOST_TEST(contains(refusal(IrcMessage{{{"", "1"}}, "", "TAGMSG", {"#a"}}), "tag key"));
  BOOST_TEST(contains(refusal(IrcMessage{{{"a=b", "1"}}, "", "TAGMSG", {"#a"}}), "tag key"));
  BOOST_TEST(contains(refusal(IrcMessage{{{"a;b", "1"}}, "", "TAGMSG", {"#a"}}), "tag key"));
  // '@' + "k=" + value + ' ' must stay within 4096 bytes.
  IrcMessage tagged{{{"k", std::string(max_sent_tags_bytes - 4, 'v')}}, "", "TAGMSG", {"#a"}};
  BOOST_TEST(serialize(tagged).has_value());
  tagged.tags[0].second += 'v';
  BOOST_TEST(contains(refusal(tagged), "tags are longer than 4096"));
  // Escapes count at their written size.
  tagged.tags[0].second = std::string(max_sent_tags_bytes / 2, ' ');
  BOOST_TEST(contains(refusal(tagged), "tags are longer"));
}

BOOST_AUTO_TEST_CASE(serialize_refuses_lines_over_510_bytes) {
  const std::string head = "PRIVMSG #a :";
  IrcMessage message = privmsg("#a", std::string(max_sent_bytes - head.size(), 'x') + " y");
  message.params[1].resize(max_sent_bytes - head.size());
  message.params[1].back() = ' '; // Forces the ':'.
  const auto line = serialize(message);
  BOOST_REQUIRE(line);
  BOOST_TEST(line->size() == max_sent_bytes);
  message.params[1] += 'x';
  BOOST_TEST(contains(refusal(message), "longer than 510"));
  // The source counts too.
  message.params[1].resize(100);
  message.source = std::string(420, 's');
  BOOST_TEST(contains(refusal(message), "longer than 510"));
}

BOOST_AUTO_TEST_CASE(numerics_and_nicks) {
  BOOST_TEST(is_numeric("001"));
  BOOST_TEST(is_numeric("433"));
  BOOST_TEST(!is_numeric("01"));
  BOOST_TEST(!is_numeric("0001"));
  BOOST_TEST(!is_numeric("PRIVMSG"));
  BOOST_TEST(!is_numeric("4a3"));
  BOOST_TEST(source_nick("alice!~a@host.example") == "alice");
  BOOST_TEST(source_nick("alice@host.example") == "alice");
  BOOST_TEST(source_nick("irc.example.net") == "irc.example.net");
  BOOST_TEST(source_nick("") == "");
  BOOST_TEST(source_nick("!x@y") == "");
}

BOOST_AUTO_TEST_CASE(tag_value_escaping_round_trips) {
  BOOST_TEST(escape_tag_value("; \\\r\nplain") == "\\:\\s\\\\\\r\\nplain");
  BOOST_TEST(unescape_tag_value("\\:\\s\\\\\\r\\nplain") == "; \\\r\nplain");
  BOOST_TEST(unescape_tag_value("test\\") == "test");
  BOOST_TEST(unescape_tag_value("\\b\\") == "b");
  for (const std::string value : {"", "a", ";;", "  ", "\\\\", "\r\n", "x\\sy"}) {
    BOOST_TEST(unescape_tag_value(escape_tag_value(value)) == value);
  }
}

BOOST_AUTO_TEST_SUITE_END()
