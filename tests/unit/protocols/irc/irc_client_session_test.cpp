#include "irc_client_session.hpp"
#include "utf8.hpp"

#include <boost/test/unit_test.hpp>
#include <ostream>
#include <string>
#include <vector>

using trestle::irc::ActionError;
using trestle::irc::ActionResult;
using trestle::irc::ClientConfig;
using trestle::irc::ClientEvent;
using trestle::irc::IrcClientSession;
using trestle::irc::MessageKind;
using trestle::irc::NamesMember;
using trestle::irc::SaslPlain;
using Kind = trestle::irc::ClientEvent::Kind;
using State = trestle::irc::IrcClientSession::State;
using Lines = std::vector<std::string>;
using Events = std::vector<ClientEvent>;

namespace trestle::irc {

// Printable for Boost.Test's failure messages.
std::ostream& operator<<(std::ostream& out, ClientEvent::Kind kind) {
  return out << "Kind(" << static_cast<int>(kind) << ")";
}
std::ostream& operator<<(std::ostream& out, IrcClientSession::State state) {
  return out << "State(" << static_cast<int>(state) << ")";
}
std::ostream& operator<<(std::ostream& out, ActionError error) {
  return out << "ActionError(" << static_cast<int>(error) << ")";
}
std::ostream& operator<<(std::ostream& out, MessageKind kind) {
  return out << "MessageKind(" << static_cast<int>(kind) << ")";
}

} // namespace trestle::irc

namespace {

ClientConfig alice_config() {
  ClientConfig config;
  config.nick = "alice";
  config.username = "alice";
  config.realname = "Alice Liddell";
  return config;
}

Lines lines_of(const Events& events) {
  Lines lines;
  for (const auto& event : events) {
    if (event.kind == Kind::send) {
      lines.push_back(event.line);
    }
  }
  return lines;
}

Lines lines_of(const ActionResult& result) {
  return lines_of(result.events);
}

/// The events that are not lines to send.
Events protocol_events(const Events& events) {
  Events out;
  for (const auto& event : events) {
    if (event.kind != Kind::send) {
      out.push_back(event);
    }
  }
  return out;
}

/// The one protocol event a line gave; fails the test otherwise.
ClientEvent only_event(const Events& events) {
  const auto protocol = protocol_events(events);
  BOOST_REQUIRE_EQUAL(protocol.size(), 1U);
  return protocol.front();
}

/// A session past 001, on a server without CAP.
IrcClientSession registered(ClientConfig config = alice_config()) {
  IrcClientSession session(std::move(config));
  BOOST_REQUIRE(session.start().ok());
  session.receive_line(":irc.example.net 421 * CAP :Unknown command");
  session.receive_line(":irc.example.net 001 alice :Welcome to the Example IRC Network "
                       "alice!~alice@host.example");
  BOOST_REQUIRE(session.state() == State::registered);
  return session;
}

/// True when `result` was refused as invalid input and sends nothing.
bool refused(const ActionResult& result) {
  return result.error == ActionError::invalid_input && result.events.empty() &&
         !result.reason.empty();
}

} // namespace

BOOST_AUTO_TEST_SUITE(irc_client_session)

BOOST_AUTO_TEST_CASE(start_sends_cap_ls_pass_nick_user) {
  auto config = alice_config();
  config.server_password = "hunter2";
  IrcClientSession session(config);
  const auto result = session.start();
  BOOST_REQUIRE(result.ok());
  BOOST_TEST(lines_of(result) == (Lines{"CAP LS 302\r\n", "PASS hunter2\r\n", "NICK alice\r\n",
                                        "USER alice 0 * :Alice Liddell\r\n"}),
             boost::test_tools::per_element());
  BOOST_TEST(session.state() == State::negotiating);
  BOOST_TEST(session.start().error == ActionError::wrong_state);
}

BOOST_AUTO_TEST_CASE(start_refuses_a_bad_config) {
  auto config = alice_config();
  config.nick = "al ice";
  BOOST_TEST(refused(IrcClientSession(config).start()));
  config = alice_config();
  config.realname = "Alice\r\nQUIT";
  BOOST_TEST(refused(IrcClientSession(config).start()));
  config = alice_config();
  config.server_password = "pw\r\nQUIT";
  BOOST_TEST(refused(IrcClientSession(config).start()));
}

BOOST_AUTO_TEST_CASE(registers_without_cap_like_ngircd) {
  IrcClientSession session(alice_config());
  BOOST_REQUIRE(session.start().ok());
  BOOST_TEST(session.receive_line(":irc.example.net 421 alice CAP :Unknown command").empty());
  BOOST_TEST(session.state() == State::registering);
  const auto event = only_event(session.receive_line(
      ":irc.example.net 001 alice :Welcome to the Internet Relay Network alice!~alice@10.0.0.1"));
  BOOST_TEST(event.kind == Kind::registered);
  BOOST_TEST(event.nick == "alice");
  BOOST_TEST(session.state() == State::registered);
  BOOST_TEST(session.enabled_caps().empty());
  BOOST_TEST(!session.echo_message());
}

BOOST_AUTO_TEST_CASE(registers_when_the_server_ignores_cap) {
  // No reply to CAP at all: 001 alone completes registration.
  IrcClientSession session(alice_config());
  BOOST_REQUIRE(session.start().ok());
  const auto event = only_event(session.receive_line(":srv 001 alice :Welcome"));
  BOOST_TEST(event.kind == Kind::registered);
  BOOST_TEST(event.text == "Welcome");
  BOOST_TEST(session.state() == State::registered);
}

BOOST_AUTO_TEST_CASE(server_without_cap_reports_sasl_failure) {
  auto config = alice_config();
  config.sasl = SaslPlain{"alice", "pw"};
  IrcClientSession session(config);
  BOOST_REQUIRE(session.start().ok());
  const auto event = only_event(session.receive_line(":srv 421 * CAP :Unknown command"));
  BOOST_TEST(event.kind == Kind::sasl_failed);
  BOOST_TEST(session.state() == State::registering);
}

BOOST_AUTO_TEST_CASE(cap_ls_multiline_then_req_ack_and_sasl_success) {
  auto config = alice_config();
  config.sasl = SaslPlain{"a", "pw"};
  IrcClientSession session(config);
  BOOST_REQUIRE(session.start().ok());
  BOOST_TEST(
      session.receive_line(":srv CAP * LS * :multi-prefix sasl=PLAIN,EXTERNAL chghost").empty());
  const auto req = session.receive_line(
      ":srv CAP * LS :server-time message-tags echo-message batch account-notify");
  // Only offered and wanted caps, in the order wanted; not away-notify (not offered).
  BOOST_TEST(lines_of(req) ==
                 (Lines{"CAP REQ :multi-prefix server-time message-tags echo-message sasl\r\n"}),
             boost::test_tools::per_element());
  BOOST_TEST(session.state() == State::negotiating);

  const auto auth = session.receive_line(
      ":srv CAP alice ACK :multi-prefix server-time message-tags echo-message sasl");
  BOOST_TEST(lines_of(auth) == (Lines{"AUTHENTICATE PLAIN\r\n"}), boost::test_tools::per_element());
  BOOST_TEST(session.state() == State::authenticating);
  BOOST_TEST(session.echo_message());
  BOOST_TEST(session.has_cap("sasl"));
  BOOST_TEST(!session.has_cap("away-notify"));

  // printf 'a\0a\0pw' | base64  ->  YQBhAHB3
  BOOST_TEST(lines_of(session.receive_line("AUTHENTICATE +")) ==
                 (Lines{"AUTHENTICATE YQBhAHB3\r\n"}),
             boost::test_tools::per_element());
  const auto logged_in =
      session.receive_line(":srv 900 alice alice!a@h a :You are now logged in as a");
  BOOST_TEST(only_event(logged_in).kind == Kind::server_text);
  BOOST_TEST(session.state() == State::authenticating);

  const auto done = session.receive_line(":srv 903 alice :SASL authentication successful");
  BOOST_TEST(lines_of(done) == (Lines{"CAP END\r\n"}), boost::test_tools::per_element());
  const auto events = protocol_events(done);
  BOOST_REQUIRE_EQUAL(events.size(), 2U);
  BOOST_TEST(events[0].kind == Kind::sasl_succeeded);
  BOOST_TEST(events[1].kind == Kind::caps);
  BOOST_TEST(events[1].params.size() == 5U);
  BOOST_TEST(session.state() == State::registering);
  BOOST_TEST(only_event(session.receive_line(":srv 001 alice :Welcome")).kind == Kind::registered);
}

BOOST_AUTO_TEST_CASE(sasl_credentials_in_400_byte_chunks) {
  auto config = alice_config();
  config.sasl = SaslPlain{"a", std::string(296, 'x')}; // 300 bytes: exactly 400 of base64.
  IrcClientSession session(config);
  session.start();
  session.receive_line(":srv CAP * LS :sasl");
  session.receive_line(":srv CAP * ACK :sasl");
  auto lines = lines_of(session.receive_line("AUTHENTICATE +"));
  BOOST_REQUIRE_EQUAL(lines.size(), 2U);
  BOOST_TEST(lines[0].size() == std::string("AUTHENTICATE \r\n").size() + 400);
  BOOST_TEST(lines[0].rfind("AUTHENTICATE YQBhAHh4", 0) == 0U);
  BOOST_TEST(lines[1] == "AUTHENTICATE +\r\n");

  config.sasl = SaslPlain{"a", std::string(300, 'x')}; // 304 bytes: 408 of base64.
  IrcClientSession longer(config);
  longer.start();
  longer.receive_line(":srv CAP * LS :sasl");
  longer.receive_line(":srv CAP * ACK :sasl");
  lines = lines_of(longer.receive_line("AUTHENTICATE +"));
  BOOST_REQUIRE_EQUAL(lines.size(), 2U);
  BOOST_TEST(lines[0].size() == std::string("AUTHENTICATE \r\n").size() + 400);
  BOOST_TEST(lines[1] == "AUTHENTICATE eHh4eA==\r\n");
}

BOOST_AUTO_TEST_CASE(sasl_base64_of_a_longer_credential) {
  auto config = alice_config();
  config.sasl = SaslPlain{"alice", "s3cret"};
  IrcClientSession session(config);
  session.start();
  session.receive_line(":srv CAP * LS :sasl");
  session.receive_line(":srv CAP * ACK sasl");
  // printf 'alice\0alice\0s3cret' | base64
  BOOST_TEST(lines_of(session.receive_line("AUTHENTICATE +")) ==
                 (Lines{"AUTHENTICATE YWxpY2UAYWxpY2UAczNjcmV0\r\n"}),
             boost::test_tools::per_element());
  // A second '+' does not resend the password: it aborts.
  BOOST_TEST(lines_of(session.receive_line("AUTHENTICATE +")) == (Lines{"AUTHENTICATE *\r\n"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(sasl_failure_ends_negotiation) {
  for (const std::string numeric : {"902", "904", "905", "906", "907", "908"}) {
    auto config = alice_config();
    config.sasl = SaslPlain{"alice", "wrong"};
    IrcClientSession session(config);
    session.start();
    session.receive_line(":srv CAP * LS :sasl multi-prefix");
    session.receive_line(":srv CAP * ACK :multi-prefix sasl");
    session.receive_line("AUTHENTICATE +");
    const auto events = session.receive_line(":srv " + numeric + " alice :SASL failed here");
    BOOST_TEST(lines_of(events) == (Lines{"CAP END\r\n"}), boost::test_tools::per_element());
    const auto protocol = protocol_events(events);
    BOOST_REQUIRE_EQUAL(protocol.size(), 2U);
    BOOST_TEST(protocol[0].kind == Kind::sasl_failed);
    BOOST_TEST(protocol[0].numeric == numeric);
    BOOST_TEST(protocol[0].text == "SASL failed here");
    BOOST_TEST(session.state() == State::registering);
    // A late SASL numeric after the one that ended it sends no second CAP END.
    BOOST_TEST(lines_of(session.receive_line(":srv 904 alice :failed")).empty());
  }
}

BOOST_AUTO_TEST_CASE(unexpected_authenticate_challenge_aborts) {
  auto config = alice_config();
  config.sasl = SaslPlain{"alice", "pw"};
  IrcClientSession session(config);
  session.start();
  session.receive_line(":srv CAP * LS :sasl");
  session.receive_line(":srv CAP * ACK :sasl");
  BOOST_TEST(lines_of(session.receive_line("AUTHENTICATE Zm9v")) == (Lines{"AUTHENTICATE *\r\n"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(cap_nak_ends_negotiation_and_reports_sasl) {
  auto config = alice_config();
  config.sasl = SaslPlain{"alice", "pw"};
  IrcClientSession session(config);
  session.start();
  session.receive_line(":srv CAP * LS :sasl server-time");
  const auto events = session.receive_line(":srv CAP * NAK :server-time sasl");
  BOOST_TEST(lines_of(events) == (Lines{"CAP END\r\n"}), boost::test_tools::per_element());
  const auto protocol = protocol_events(events);
  BOOST_REQUIRE_EQUAL(protocol.size(), 2U);
  BOOST_TEST(protocol[0].kind == Kind::sasl_failed);
  BOOST_TEST(protocol[1].kind == Kind::caps);
  BOOST_TEST(protocol[1].params.empty());
  BOOST_TEST(session.enabled_caps().empty());
  BOOST_TEST(session.state() == State::registering);
}

BOOST_AUTO_TEST_CASE(nothing_wanted_is_offered) {
  IrcClientSession session(alice_config());
  session.start();
  const auto events = session.receive_line(":srv CAP * LS :chghost batch");
  BOOST_TEST(lines_of(events) == (Lines{"CAP END\r\n"}), boost::test_tools::per_element());
  BOOST_TEST(session.state() == State::registering);
  // A second listing after the first one ended is ignored.
  BOOST_TEST(session.receive_line(":srv CAP * LS :multi-prefix").empty());
}

BOOST_AUTO_TEST_CASE(no_sasl_requested_without_credentials) {
  IrcClientSession session(alice_config());
  session.start();
  BOOST_TEST(lines_of(session.receive_line(":srv CAP * LS :sasl away-notify")) ==
                 (Lines{"CAP REQ :away-notify\r\n"}),
             boost::test_tools::per_element());
  BOOST_TEST(lines_of(session.receive_line(":srv CAP * ACK :away-notify")) ==
                 (Lines{"CAP END\r\n"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(long_cap_req_is_split) {
  auto config = alice_config();
  for (int i = 0; i < 60; ++i) {
    config.wanted_caps.push_back("vendor.example/capability-" + std::to_string(i));
  }
  IrcClientSession session(config);
  session.start();
  // The listing comes in several CAP LS lines of ten caps, each within 512 bytes.
  for (std::size_t first = 0; first < config.wanted_caps.size(); first += 10) {
    std::string listing;
    for (std::size_t i = first; i < first + 10; ++i) {
      listing += config.wanted_caps[i] + " ";
    }
    BOOST_TEST(session.receive_line(":srv CAP * LS * :" + listing).empty());
  }
  const auto lines = lines_of(session.receive_line(":srv CAP * LS :last-one"));
  BOOST_REQUIRE_GE(lines.size(), 2U);
  for (const auto& line : lines) {
    BOOST_TEST(line.size() <= 512U);
    BOOST_TEST(line.rfind("CAP REQ :", 0) == 0U);
  }
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
    BOOST_TEST(session.receive_line(":srv CAP * ACK :x").empty());
  }
  BOOST_TEST(lines_of(session.receive_line(":srv CAP * ACK :y")) == (Lines{"CAP END\r\n"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(cap_ls_lines_are_bounded) {
  IrcClientSession session(alice_config());
  session.start();
  Lines sent;
  for (std::size_t i = 0; i < IrcClientSession::max_cap_ls_lines + 10; ++i) {
    const auto lines = lines_of(session.receive_line(":srv CAP * LS * :a b c"));
    sent.insert(sent.end(), lines.begin(), lines.end());
  }
  // The listing that never ends is cut after max_cap_ls_lines; nothing wanted.
  BOOST_TEST(sent == (Lines{"CAP END\r\n"}), boost::test_tools::per_element());
  BOOST_TEST(session.state() == State::registering);
}

BOOST_AUTO_TEST_CASE(cap_del_and_new_after_registration) {
  IrcClientSession session(alice_config());
  session.start();
  session.receive_line(":srv CAP * LS :away-notify echo-message");
  session.receive_line(":srv CAP * ACK :echo-message away-notify");
  session.receive_line(":srv 001 alice :Welcome");
  BOOST_TEST(session.echo_message());
  const auto event = only_event(session.receive_line(":srv CAP alice DEL :echo-message"));
  BOOST_TEST(event.kind == Kind::caps);
  BOOST_TEST(event.params == (Lines{"away-notify"}), boost::test_tools::per_element());
  BOOST_TEST(!session.echo_message());
}

BOOST_AUTO_TEST_CASE(nick_in_use_tries_one_alternate) {
  IrcClientSession session(alice_config());
  session.start();
  BOOST_TEST(lines_of(session.receive_line(":srv 433 * alice :Nickname is already in use")) ==
                 (Lines{"NICK alice_\r\n"}),
             boost::test_tools::per_element());
  BOOST_TEST(session.nick() == "alice_");
  const auto events = session.receive_line(":srv 433 * alice_ :Nickname is already in use");
  BOOST_TEST(lines_of(events).empty()); // No loop.
  const auto event = only_event(events);
  BOOST_TEST(event.kind == Kind::nick_rejected);
  BOOST_TEST(event.numeric == "433");
  BOOST_TEST(event.nick == "alice_");
  BOOST_TEST(event.text == "Nickname is already in use");
  // The adapter picks another one; a refusal of that one is reported again, no retry.
  BOOST_TEST(lines_of(session.nick("alice2")) == (Lines{"NICK alice2\r\n"}),
             boost::test_tools::per_element());
  BOOST_TEST(only_event(session.receive_line(":srv 432 * alice2 :Erroneous")).kind ==
             Kind::nick_rejected);
  BOOST_TEST(session.nick("bob").ok());
  BOOST_TEST(only_event(session.receive_line(":srv 001 bob :Welcome")).nick == "bob");
  BOOST_TEST(session.nick() == "bob");
}

BOOST_AUTO_TEST_CASE(nick_in_use_without_alternate) {
  auto config = alice_config();
  config.try_alternate_nick = false;
  IrcClientSession session(config);
  session.start();
  for (const std::string numeric : {"433", "432", "436"}) {
    const auto events = session.receive_line(":srv " + numeric + " * alice :No");
    BOOST_TEST(lines_of(events).empty());
    const auto event = only_event(events);
    BOOST_TEST(event.kind == Kind::nick_rejected);
    BOOST_TEST(event.numeric == numeric);
  }
}

BOOST_AUTO_TEST_CASE(nick_change_failure_after_registration) {
  auto session = registered();
  BOOST_TEST(lines_of(session.nick("bob")) == (Lines{"NICK bob\r\n"}),
             boost::test_tools::per_element());
  BOOST_TEST(session.nick() == "alice"); // Until the server confirms it.
  const auto events = session.receive_line(":srv 433 alice bob :Nickname is already in use");
  BOOST_TEST(lines_of(events).empty());
  const auto event = only_event(events);
  BOOST_TEST(event.kind == Kind::nick_change_failed);
  BOOST_TEST(event.nick == "bob");
  const auto changed = only_event(session.receive_line(":alice!~alice@host NICK :carol"));
  BOOST_TEST(changed.kind == Kind::nick_changed);
  BOOST_TEST(changed.self);
  BOOST_TEST(changed.nick == "alice");
  BOOST_TEST(changed.new_nick == "carol");
  BOOST_TEST(session.nick() == "carol");
  // 437 about a channel is an error reply, not a failed nick change.
  BOOST_TEST(
      only_event(session.receive_line(":srv 437 carol #chan :Channel is unavailable")).kind ==
      Kind::error_reply);
  BOOST_TEST(only_event(session.receive_line(":srv 437 carol dave :Nick is unavailable")).kind ==
             Kind::nick_change_failed);
}

BOOST_AUTO_TEST_CASE(ping_gets_pong_with_the_same_token) {
  auto session = registered();
  const auto before = session.lines_received();
  BOOST_TEST(lines_of(session.receive_line("PING :irc.example.net")) ==
                 (Lines{"PONG irc.example.net\r\n"}),
             boost::test_tools::per_element());
  BOOST_TEST(lines_of(session.receive_line("PING :token with space")) ==
                 (Lines{"PONG :token with space\r\n"}),
             boost::test_tools::per_element());
  BOOST_TEST(session.lines_received() == before + 2);
  BOOST_TEST(IrcClientSession::keepalive_line() == "PING :trestle\r\n");
  // PING before registration too.
  IrcClientSession early(alice_config());
  early.start();
  BOOST_TEST(lines_of(early.receive_line("PING :1234")) == (Lines{"PONG 1234\r\n"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(isupport_is_fed) {
  auto session = registered();
  // The owner hears of it, to fold names kept under the old case mapping again.
  BOOST_TEST(only_event(session.receive_line(":srv 005 alice CHANTYPES=# PREFIX=(qaohv)~&@%+ "
                                             "CASEMAPPING=ascii NICKLEN=30 :are supported by "
                                             "this server"))
                 .kind == Kind::isupport);
  BOOST_TEST((session.isupport().case_mapping() == trestle::irc::CaseMapping::ascii));
  BOOST_TEST(session.isupport().chantypes() == "#");
  BOOST_TEST(session.isupport().prefix_symbols() == "~&@%+");
  BOOST_TEST(session.isupport().nick_length().value_or(0) == 30U);
  // CHANTYPES now rules out '&' channels.
  BOOST_TEST(refused(session.join("&local")));
}

BOOST_AUTO_TEST_CASE(names_accumulate_with_multi_prefix) {
  auto session = registered();
  session.receive_line(":srv 005 alice PREFIX=(qaohv)~&@%+ :are supported");
  BOOST_TEST(session.receive_line(":srv 353 alice = #chan :~@alice @+bob carol").empty());
  BOOST_TEST(session.receive_line(":srv 353 alice = #CHAN :%dave +eve!e@h").empty());
  const auto event = only_event(session.receive_line(":srv 366 alice #chan :End of /NAMES list."));
  BOOST_TEST(event.kind == Kind::names);
  BOOST_TEST(event.channel == "#chan");
  const std::vector<NamesMember> expected{
      {"alice", "~@"}, {"bob", "@+"}, {"carol", ""}, {"dave", "%"}, {"eve", "+"}};
  BOOST_TEST((event.members == expected));
  // The accumulation is gone: a second 366 reports an empty list.
  BOOST_TEST(only_event(session.receive_line(":srv 366 alice #chan :End")).members.empty());
}

BOOST_AUTO_TEST_CASE(names_are_bounded) {
  auto session = registered();
  std::string batch;
  for (int i = 0; i < 50; ++i) {
    batch += "n" + std::to_string(i) + " ";
  }
  const std::size_t lines = IrcClientSession::max_names_members / 50 + 10;
  for (std::size_t i = 0; i < lines; ++i) {
    session.receive_line(":srv 353 alice = #big :" + batch);
  }
  const auto event = only_event(session.receive_line(":srv 366 alice #big :End"));
  BOOST_TEST(event.members.size() == IrcClientSession::max_names_members);
  // Too many channels accumulating at once: the extra ones are dropped.
  for (std::size_t i = 0; i < IrcClientSession::max_names_channels + 5; ++i) {
    session.receive_line(":srv 353 alice = #c" + std::to_string(i) + " :x");
  }
  const auto last = std::to_string(IrcClientSession::max_names_channels + 4);
  BOOST_TEST(
      only_event(session.receive_line(":srv 366 alice #c" + last + " :End")).members.empty());
  BOOST_TEST(only_event(session.receive_line(":srv 366 alice #c0 :End")).members.size() == 1U);
}

BOOST_AUTO_TEST_CASE(membership_events) {
  auto session = registered();
  auto event = only_event(session.receive_line(":alice!~alice@cloak.example JOIN #chan"));
  BOOST_TEST(event.kind == Kind::joined);
  BOOST_TEST(event.channel == "#chan");
  BOOST_TEST(event.self);
  event = only_event(session.receive_line(":bob!b@h JOIN :#chan"));
  BOOST_TEST(event.nick == "bob");
  BOOST_TEST(!event.self);

  event = only_event(session.receive_line(":bob!b@h PART #chan :see you"));
  BOOST_TEST(event.kind == Kind::parted);
  BOOST_TEST(event.nick == "bob");
  BOOST_TEST(event.text == "see you");
  BOOST_TEST(only_event(session.receive_line(":bob!b@h PART #chan")).text.empty());

  event = only_event(session.receive_line(":bob!b@h QUIT :Quit: bye"));
  BOOST_TEST(event.kind == Kind::quit);
  BOOST_TEST(event.nick == "bob");
  BOOST_TEST(event.text == "Quit: bye");

  event = only_event(session.receive_line(":op!o@h KICK #chan alice :behave"));
  BOOST_TEST(event.kind == Kind::kicked);
  BOOST_TEST(event.channel == "#chan");
  BOOST_TEST(event.nick == "alice");
  BOOST_TEST(event.by == "op");
  BOOST_TEST(event.text == "behave");
  BOOST_TEST(event.self);

  event = only_event(session.receive_line(":bob!b@h NICK robert"));
  BOOST_TEST(event.kind == Kind::nick_changed);
  BOOST_TEST(!event.self);
  BOOST_TEST(session.nick() == "alice");

  event = only_event(session.receive_line(":op!o@h INVITE alice :#secret"));
  BOOST_TEST(event.kind == Kind::invite);
  BOOST_TEST(event.by == "op");
  BOOST_TEST(event.nick == "alice");
  BOOST_TEST(event.channel == "#secret");
}

BOOST_AUTO_TEST_CASE(topic_mode_and_away_events) {
  auto session = registered();
  auto event = only_event(session.receive_line(":srv 332 alice #chan :Welcome \x02here\x02"));
  BOOST_TEST(event.kind == Kind::topic);
  BOOST_TEST(event.channel == "#chan");
  BOOST_TEST(event.text == "Welcome \x02here\x02");
  BOOST_TEST(event.by.empty());
  event = only_event(session.receive_line(":srv 331 alice #chan :No topic is set"));
  BOOST_TEST(event.kind == Kind::topic);
  BOOST_TEST(event.text.empty());
  event = only_event(session.receive_line(":bob!b@h TOPIC #chan :new topic"));
  BOOST_TEST(event.by == "bob");
  BOOST_TEST(event.text == "new topic");

  event = only_event(session.receive_line(":op!o@h MODE #chan +ov bob carol"));
  BOOST_TEST(event.kind == Kind::mode);
  BOOST_TEST(event.target == "#chan");
  BOOST_TEST(event.text == "+ov");
  BOOST_TEST(event.params == (Lines{"bob", "carol"}), boost::test_tools::per_element());
  BOOST_TEST(event.by == "op");

  event = only_event(session.receive_line(":bob!b@h AWAY :gone fishing"));
  BOOST_TEST(event.kind == Kind::away);
  BOOST_TEST(event.nick == "bob");
  BOOST_TEST(event.text == "gone fishing");
  event = only_event(session.receive_line(":bob!b@h AWAY"));
  BOOST_TEST(event.kind == Kind::away);
  BOOST_TEST(event.text.empty());
}

BOOST_AUTO_TEST_CASE(message_events) {
  auto session = registered();
  auto event = only_event(session.receive_line(
      "@time=2026-01-02T03:04:05.678Z;msgid=abc123 :bob!b@h PRIVMSG #chan :\x03"
      "04red\x03 text"));
  BOOST_TEST(event.kind == Kind::message);
  BOOST_TEST(event.message_kind == MessageKind::privmsg);
  BOOST_TEST(event.nick == "bob");
  BOOST_TEST(event.target == "#chan");
  BOOST_TEST(event.text == "\x03"
                           "04red\x03 text");
  BOOST_TEST(event.plain_text == "red text");
  BOOST_TEST(event.time == "2026-01-02T03:04:05.678Z");
  BOOST_TEST(event.msgid == "abc123");
  BOOST_TEST(!event.self);

  event = only_event(session.receive_line(":bob!b@h PRIVMSG alice :\x01"
                                          "ACTION waves\x01"));
  BOOST_TEST(event.message_kind == MessageKind::action);
  BOOST_TEST(event.text == "waves");

  event = only_event(session.receive_line(":bob!b@h PRIVMSG alice :\x01VERSION\x01"));
  BOOST_TEST(event.message_kind == MessageKind::ctcp);
  BOOST_TEST(event.text == "VERSION");

  event = only_event(session.receive_line(":bob!b@h NOTICE alice :hello"));
  BOOST_TEST(event.kind == Kind::message);
  BOOST_TEST(event.message_kind == MessageKind::notice);

  // Latin-1 bytes come out as UTF-8.
  event = only_event(session.receive_line(":bob!b@h PRIVMSG #chan :caf\xe9"));
  BOOST_TEST(event.text == "caf\xc3\xa9");
  BOOST_TEST(trestle::xmpp::is_valid_utf8(event.plain_text));

  // echo-message: our own message comes back.
  event = only_event(session.receive_line(":alice!~alice@host PRIVMSG #chan :mine"));
  BOOST_TEST(event.self);
  BOOST_TEST(event.time.empty());
}

BOOST_AUTO_TEST_CASE(server_text_errors_and_closing) {
  auto session = registered();
  auto event = only_event(session.receive_line(":irc.example.net NOTICE * :*** Looking up host"));
  BOOST_TEST(event.kind == Kind::server_text);
  BOOST_TEST(event.by == "irc.example.net");
  BOOST_TEST(event.text == "*** Looking up host");
  event = only_event(session.receive_line("NOTICE alice :no source at all"));
  BOOST_TEST(event.kind == Kind::server_text);

  for (const std::string numeric : {"375", "372", "376"}) {
    event = only_event(session.receive_line(":srv " + numeric + " alice :- motd -"));
    BOOST_TEST(event.kind == Kind::server_text);
    BOOST_TEST(event.numeric == numeric);
    BOOST_TEST(event.text == "- motd -");
  }

  event = only_event(session.receive_line(":srv 403 alice #nope :No such channel"));
  BOOST_TEST(event.kind == Kind::error_reply);
  BOOST_TEST(event.numeric == "403");
  BOOST_TEST(event.params == (Lines{"#nope"}), boost::test_tools::per_element());
  BOOST_TEST(event.text == "No such channel");
  event = only_event(session.receive_line(":srv 502 alice :Cant change mode for other users"));
  BOOST_TEST(event.kind == Kind::error_reply);

  event = only_event(session.receive_line("ERROR :Closing Link: host (Bye)"));
  BOOST_TEST(event.kind == Kind::closing);
  BOOST_TEST(event.text == "Closing Link: host (Bye)");
  BOOST_TEST(session.state() == State::closed);
  BOOST_TEST(session.receive_line("PING :x").empty());
  BOOST_TEST(session.privmsg("#chan", "hi").error == ActionError::not_registered);
}

BOOST_AUTO_TEST_CASE(malformed_and_short_lines_are_ignored) {
  auto session = registered();
  BOOST_TEST(session.receive_line("").empty());
  BOOST_TEST(session.receive_line(":only-a-source").empty());
  BOOST_TEST(session.receive_line(":bob!b@h KICK #chan").empty());
  BOOST_TEST(session.receive_line(":bob!b@h PRIVMSG #chan").empty());
  BOOST_TEST(session.receive_line(":srv 001").empty());
  BOOST_TEST(session.malformed_lines() == 5U);
  BOOST_TEST(session.receive_line(":srv FROB a b").empty()); // Unknown: ignored, not malformed.
  BOOST_TEST(session.malformed_lines() == 5U);
}

BOOST_AUTO_TEST_CASE(actions_send_exact_lines) {
  auto session = registered();
  auto check = [](const ActionResult& result, const std::string& line) {
    BOOST_TEST(result.ok());
    BOOST_TEST(lines_of(result) == (Lines{line}), boost::test_tools::per_element());
  };
  check(session.join("#chan"), "JOIN #chan\r\n");
  check(session.join("#chan", "secret"), "JOIN #chan secret\r\n");
  check(session.part("#chan"), "PART #chan\r\n");
  check(session.part("#chan", "gone away"), "PART #chan :gone away\r\n");
  check(session.privmsg("#chan", "hello world"), "PRIVMSG #chan :hello world\r\n");
  check(session.notice("bob", "hi"), "NOTICE bob hi\r\n");
  check(session.action("#chan", "waves"), "PRIVMSG #chan :\x01"
                                          "ACTION waves\x01\r\n");
  check(session.set_topic("#chan", "new topic"), "TOPIC #chan :new topic\r\n");
  check(session.set_topic("#chan", ""), "TOPIC #chan :\r\n");
  check(session.kick("#chan", "bob"), "KICK #chan bob\r\n");
  check(session.kick("#chan", "bob", "be nice"), "KICK #chan bob :be nice\r\n");
  check(session.mode("#chan", "+o", {"bob"}), "MODE #chan +o bob\r\n");
  check(session.mode("#chan", "+b", {"*!*@spam.example"}), "MODE #chan +b *!*@spam.example\r\n");
  check(session.nick("alicia"), "NICK alicia\r\n");
  check(session.away("lunch time"), "AWAY :lunch time\r\n");
  check(session.back(), "AWAY\r\n");
  check(session.raw("PRIVMSG NickServ :IDENTIFY pw"), "PRIVMSG NickServ :IDENTIFY pw\r\n");
  check(session.raw(":spoofed!x@y WHOIS bob"), "WHOIS bob\r\n");
  check(session.quit("bye now"), "QUIT :bye now\r\n");
  BOOST_TEST(session.state() == State::closing);
  BOOST_TEST(session.quit().error == ActionError::wrong_state);
  BOOST_TEST(session.join("#chan").error == ActionError::not_registered);
}

BOOST_AUTO_TEST_CASE(actions_need_registration) {
  IrcClientSession idle(alice_config());
  BOOST_TEST(idle.join("#chan").error == ActionError::not_registered);
  BOOST_TEST(idle.nick("bob").error == ActionError::wrong_state);
  BOOST_TEST(idle.quit().error == ActionError::wrong_state);
  idle.start();
  BOOST_TEST(idle.privmsg("#chan", "hi").error == ActionError::not_registered);
  BOOST_TEST(idle.raw("JOIN #chan").error == ActionError::not_registered);
  BOOST_TEST(lines_of(idle.quit()) == (Lines{"QUIT\r\n"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(multi_line_body_becomes_one_privmsg_per_line) {
  auto session = registered();
  const auto result = session.privmsg("#chan", "hi\r\nQUIT :pwned\n\nJOIN #evil");
  BOOST_TEST(lines_of(result) == (Lines{"PRIVMSG #chan hi\r\n", "PRIVMSG #chan :QUIT :pwned\r\n",
                                        "PRIVMSG #chan :JOIN #evil\r\n"}),
             boost::test_tools::per_element());
  BOOST_TEST(refused(session.privmsg("#chan", "\r\n\r\n")));
  BOOST_TEST(refused(session.privmsg("#chan", "")));
}

BOOST_AUTO_TEST_CASE(injection_attempts_are_refused) {
  auto session = registered();
  BOOST_TEST(refused(session.privmsg("#chan", std::string("nul\0byte", 8))));
  BOOST_TEST(refused(session.privmsg("#chan\r\nQUIT", "hi")));
  BOOST_TEST(refused(session.privmsg("#chan QUIT", "hi")));
  BOOST_TEST(refused(session.privmsg("#a,#b", "hi")));
  BOOST_TEST(refused(session.privmsg(":bob", "hi")));
  BOOST_TEST(refused(session.privmsg("", "hi")));
  BOOST_TEST(refused(session.notice("bob\nQUIT", "hi")));
  BOOST_TEST(refused(session.action("#chan", std::string("a\0b", 3))));
  BOOST_TEST(refused(session.join("#chan\r\nQUIT")));
  BOOST_TEST(refused(session.join("#chan", "key\r\nQUIT")));
  BOOST_TEST(refused(session.join("#chan", "key other")));
  BOOST_TEST(refused(session.join("#a,#b")));
  BOOST_TEST(refused(session.join("nochannel")));
  BOOST_TEST(refused(session.part("#chan", "bye\r\nQUIT")));
  BOOST_TEST(refused(session.part("#chan\nQUIT")));
  BOOST_TEST(refused(session.set_topic("#chan", "topic\r\nQUIT :x")));
  BOOST_TEST(refused(session.set_topic("#chan", std::string("t\0", 2))));
  BOOST_TEST(refused(session.set_topic("#chan\r", "topic")));
  BOOST_TEST(refused(session.kick("#chan", "bob", "reason\r\nQUIT")));
  BOOST_TEST(refused(session.kick("#chan", "bob\r\nQUIT")));
  BOOST_TEST(refused(session.kick("#chan", "bob carol")));
  BOOST_TEST(refused(session.mode("#chan", "+o", {"bob\r\nQUIT"})));
  BOOST_TEST(refused(session.mode("#chan", "+o x", {})));
  BOOST_TEST(refused(session.mode("#chan", "+b", {":x"})));
  BOOST_TEST(refused(session.nick("bob\r\nQUIT")));
  BOOST_TEST(refused(session.nick("bob carol")));
  BOOST_TEST(refused(session.nick("")));
  BOOST_TEST(refused(session.away("lunch\r\nQUIT")));
  BOOST_TEST(refused(session.away("")));
  BOOST_TEST(refused(session.raw("PRIVMSG #chan :hi\r\nQUIT")));
  BOOST_TEST(refused(session.raw("PRIVMSG #chan :hi\nQUIT")));
  BOOST_TEST(refused(session.raw(std::string("PRIVMSG #chan :a") + '\0' + "b")));
  BOOST_TEST(refused(session.raw("")));
  BOOST_TEST(refused(session.raw("PRIVMSG #chan :" + std::string(600, 'x'))));
  BOOST_TEST(refused(session.quit("bye\r\nJOIN #evil")));
  BOOST_TEST(session.state() == State::registered);
}

BOOST_AUTO_TEST_CASE(long_message_split_fits_512_bytes_on_utf8_boundaries) {
  auto session = registered();
  // "é" is two bytes; the leading 'a' puts the budget's end inside one.
  std::string text = "a";
  for (int i = 0; i < 700; ++i) {
    text += "\xc3\xa9";
  }
  const auto result = session.privmsg("#chan", text);
  BOOST_REQUIRE(result.ok());
  const auto lines = lines_of(result);
  BOOST_REQUIRE_GE(lines.size(), 3U);
  std::string joined;
  for (const auto& line : lines) {
    // What the server relays: ":alice!~alice@host.example " + our line.
    BOOST_TEST(std::string(":alice!~alice@host.example ").size() + line.size() <= 512U);
    // serialize() writes the trailing ':' only when needed; the budget counts it anyway.
    const std::string prefix = "PRIVMSG #chan ";
    BOOST_REQUIRE(line.rfind(prefix, 0) == 0U);
    std::string payload = line.substr(prefix.size(), line.size() - prefix.size() - 2);
    if (payload.front() == ':') {
      payload.erase(0, 1);
    }
    BOOST_TEST(trestle::xmpp::is_valid_utf8(payload));
    joined += payload;
  }
  BOOST_TEST(joined == text);
  // The first piece uses the budget from our known mask, not the conservative default.
  BOOST_TEST(std::string(":alice!~alice@host.example ").size() + lines[0].size() >= 510U);
  BOOST_TEST(lines.size() == 3U); // 1401 bytes in pieces of at most 468.
}

BOOST_AUTO_TEST_CASE(split_budget_uses_the_conservative_default_without_a_mask) {
  IrcClientSession session(alice_config());
  session.start();
  session.receive_line(":srv 001 alice :Welcome"); // No mask in the welcome text.
  const auto lines = lines_of(session.privmsg("#chan", std::string(1000, 'x')));
  BOOST_REQUIRE_GE(lines.size(), 2U);
  // 11 bytes of user and 64 of host assumed.
  const std::size_t worst_prefix = 1 + 5 + 1 + 11 + 1 + 64 + 1;
  // The 'x's need no ':' before them, one byte under the budget.
  BOOST_TEST(worst_prefix + lines[0].size() == 511U);
  // A JOIN echo teaches the real, shorter mask: pieces get longer.
  session.receive_line(":alice!~a@h JOIN #chan");
  const auto longer = lines_of(session.privmsg("#chan", std::string(1000, 'x')));
  BOOST_TEST(longer[0].size() > lines[0].size());
  BOOST_TEST(std::string(":alice!~a@h ").size() + longer[0].size() == 511U);
}

BOOST_AUTO_TEST_CASE(action_split_keeps_ctcp_framing) {
  auto session = registered();
  const auto lines = lines_of(session.action("#chan", std::string(900, 'y')));
  BOOST_REQUIRE_GE(lines.size(), 2U);
  for (const auto& line : lines) {
    BOOST_TEST(line.rfind("PRIVMSG #chan :\x01"
                          "ACTION ",
                          0) == 0U);
    BOOST_TEST(line.substr(line.size() - 3) == "\x01\r\n");
    BOOST_TEST(std::string(":alice!~alice@host.example ").size() + line.size() <= 512U);
  }
}

BOOST_AUTO_TEST_SUITE_END()
