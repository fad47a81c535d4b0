#include "fake_adapter_context.hpp"
#include "irc_adapter.hpp"
#include "plain_text_network.hpp"
#include "stanza.hpp"

#include <boost/test/unit_test.hpp>
#include <stdexcept>
#include <string>

using trestle::gateway::ComponentConfig;
using trestle::gateway::FieldValues;
using trestle::irc::IrcAdapter;
using trestle::protocols_test::check_plain_text_network;
using trestle::protocols_test::FakeAdapterContext;
using trestle::xmpp::Condition;
using trestle::xmpp::Jid;
using trestle::xmpp::StanzaError;

namespace {

ComponentConfig component() {
  ComponentConfig config;
  config.domain = "irc.example.org";
  config.adapter = "irc";
  return config;
}

trestle::irc::IrcSettings irc_config(std::string fixed_server = {}) {
  trestle::irc::IrcSettings settings;
  settings.fixed_server = std::move(fixed_server);
  return settings;
}

const Jid& alice() {
  static const Jid jid = Jid::parse("alice@example.org").value();
  return jid;
}

/// A stanza from alice's phone to `to`.
trestle::xmpp::Element stanza(std::string name, std::string to, std::string type = {}) {
  trestle::xmpp::Element element(std::move(name), "jabber:component:accept");
  element.set_attr("from", "alice@example.org/phone");
  element.set_attr("to", std::move(to));
  element.set_attr("id", "s1");
  if (!type.empty()) {
    element.set_attr("type", std::move(type));
  }
  return element;
}

/// The condition of the only stanza sent, which must be an error.
std::string sent_error(const FakeAdapterContext& context) {
  BOOST_REQUIRE_EQUAL(context.sent.size(), 1u);
  BOOST_TEST(context.sent[0].attr_or("type") == "error");
  const auto error = trestle::xmpp::stanza_error_from(context.sent[0]);
  BOOST_REQUIRE(error);
  return std::string(trestle::xmpp::to_string(error->condition));
}

} // namespace

BOOST_AUTO_TEST_SUITE(irc_adapter)

BOOST_AUTO_TEST_CASE(no_server_is_reachable_by_default) {
  FakeAdapterContext context("irc.example.org");
  IrcAdapter adapter(component(), irc_config(), context);
  context.deliver(adapter, stanza("presence", "#chan%irc.libera.chat@irc.example.org/alice"));
  BOOST_TEST(sent_error(context) == "not-allowed");
  BOOST_TEST(adapter.connection_count() == 0u);
  context.sent.clear();
  auto pm = stanza("message", "bob%irc.libera.chat@irc.example.org", "chat");
  pm.append("body").append_text("hi");
  context.deliver(adapter, pm);
  BOOST_TEST(sent_error(context) == "not-allowed");
}

BOOST_AUTO_TEST_CASE(what_irc_carries) {
  FakeAdapterContext context("irc.example.org");
  IrcAdapter adapter(component(), irc_config(), context);
  // "/me" lines are CTCP ACTIONs, so reactions are written as actions.
  check_plain_text_network(adapter.abilities(), "IRC", "* ", true);
}

BOOST_AUTO_TEST_CASE(requests_that_need_no_connection_are_answered_or_refused) {
  FakeAdapterContext context("irc.example.org");
  IrcAdapter adapter(component(), irc_config(), context);
  // A groupchat message to a room the user is not in.
  auto groupchat = stanza("message", "#chan%irc.libera.chat@irc.example.org", "groupchat");
  groupchat.append("body").append_text("hello");
  context.deliver(adapter, groupchat);
  BOOST_TEST(sent_error(context) == "not-acceptable");
  // A join without a nickname, and with one IRC cannot carry.
  context.sent.clear();
  context.deliver(adapter, stanza("presence", "#chan%irc.libera.chat@irc.example.org"));
  BOOST_TEST(sent_error(context) == "jid-malformed");
  context.sent.clear();
  context.deliver(adapter, stanza("presence", "#chan%irc.libera.chat@irc.example.org/9lives"));
  BOOST_TEST(sent_error(context) == "jid-malformed");
  // Leaving a room never joined says nothing.
  context.sent.clear();
  context.deliver(adapter,
                  stanza("presence", "#chan%irc.libera.chat@irc.example.org/a", "unavailable"));
  BOOST_TEST(context.sent.empty());
  // disco#info on a room: a conference of type irc, joinable before joining.
  auto disco = stanza("iq", "#chan%irc.libera.chat@irc.example.org", "get");
  disco.append("query", "http://jabber.org/protocol/disco#info");
  context.deliver(adapter, disco);
  BOOST_REQUIRE_EQUAL(context.sent.size(), 1u);
  BOOST_TEST(context.sent[0].attr_or("type") == "result");
  const auto* identity = context.sent[0].first_element()->find("identity");
  BOOST_REQUIRE(identity);
  BOOST_TEST(identity->attr_or("category") == "conference");
  // Self-ping (XEP-0410) from a resource that is not in the room.
  context.sent.clear();
  auto ping = stanza("iq", "#chan%irc.libera.chat@irc.example.org/alice", "get");
  ping.append("ping", "urn:xmpp:ping");
  context.deliver(adapter, ping);
  BOOST_TEST(sent_error(context) == "not-acceptable");
  // An address that is not an IRC address.
  context.sent.clear();
  context.deliver(adapter, stanza("presence", "#a\\20b%irc.libera.chat@irc.example.org/alice"));
  BOOST_TEST(sent_error(context) == "jid-malformed");
}

BOOST_AUTO_TEST_CASE(names) {
  FakeAdapterContext context("irc.example.org");
  IrcAdapter adapter(component(), irc_config(), context);
  BOOST_TEST(adapter.name() == "irc");
  BOOST_TEST(adapter.identity_type() == "irc");
  BOOST_TEST(adapter.gateway_prompt() == "IRC channel, nickname or server");
  BOOST_TEST(adapter.gateway_description().find("#channel%irc.example.net") != std::string::npos);
  BOOST_TEST(adapter.address_rules().fixed_server.empty());
}

BOOST_AUTO_TEST_CASE(jid_for_channel_user_and_server) {
  FakeAdapterContext context("irc.example.org");
  IrcAdapter adapter(component(), irc_config(), context);
  StanzaError error;
  const auto channel = adapter.jid_for_address("#chan%irc.libera.chat", error);
  BOOST_REQUIRE(channel);
  BOOST_TEST(channel->bare_string() == "#chan%irc.libera.chat@irc.example.org");
  const auto local = adapter.jid_for_address("&local%irc.libera.chat", error);
  BOOST_REQUIRE(local);
  BOOST_TEST(local->local() == "\\26local%irc.libera.chat");
  const auto user = adapter.jid_for_address("nick%irc.libera.chat", error);
  BOOST_REQUIRE(user);
  BOOST_TEST(user->bare_string() == "nick%irc.libera.chat@irc.example.org");
  const auto server = adapter.jid_for_address("irc.libera.chat", error);
  BOOST_REQUIRE(server);
  BOOST_TEST(server->bare_string() == "irc.libera.chat@irc.example.org");
}

BOOST_AUTO_TEST_CASE(jid_for_a_bad_address_is_jid_malformed) {
  FakeAdapterContext context("irc.example.org");
  IrcAdapter adapter(component(), irc_config(), context);
  StanzaError error;
  BOOST_TEST(!adapter.jid_for_address("#chan", error));
  BOOST_TEST((error.condition == Condition::jid_malformed));
  BOOST_TEST(error.text.find("needs its server") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(jid_the_jid_library_refuses_is_jid_malformed) {
  FakeAdapterContext context("irc.example.org");
  IrcAdapter adapter(component(), irc_config(), context);
  StanzaError error;
  // U+00A0 (no-break space) is valid in a channel name but nodeprep prohibits it.
  BOOST_TEST(!adapter.jid_for_address("#a\xc2\xa0z%irc.libera.chat", error));
  BOOST_TEST((error.condition == Condition::jid_malformed));
  BOOST_TEST(error.text.find("cannot be written as a JID") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(fixed_server_mode) {
  FakeAdapterContext context("irc.example.org");
  IrcAdapter adapter(component(), irc_config("IRC.Libera.Chat"), context);
  BOOST_TEST(adapter.address_rules().fixed_server == "irc.libera.chat");
  BOOST_TEST(adapter.gateway_prompt() == "IRC channel or nickname");
  BOOST_TEST(adapter.gateway_description().find("irc.libera.chat") != std::string::npos);
  StanzaError error;
  const auto channel = adapter.jid_for_address("#chan", error);
  BOOST_REQUIRE(channel);
  BOOST_TEST(channel->bare_string() == "#chan@irc.example.org");
  const auto server = adapter.jid_for_address("irc.libera.chat", error);
  BOOST_REQUIRE(server);
  BOOST_TEST(server->bare_string() == "irc.example.org");
  BOOST_TEST(!adapter.jid_for_address("nick%irc.libera.chat", error));
  BOOST_TEST((error.condition == Condition::jid_malformed));
  BOOST_TEST(adapter.registration_instructions().find("irc.libera.chat") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(invalid_fixed_server_is_a_startup_error) {
  FakeAdapterContext context("irc.example.org");
  BOOST_CHECK_THROW(IrcAdapter(component(), irc_config("not a host"), context),
                    std::invalid_argument);
  try {
    IrcAdapter adapter(component(), irc_config("irc_x.net"), context);
    BOOST_ERROR("no exception");
  } catch (const std::invalid_argument& e) {
    BOOST_TEST(std::string(e.what()).find("irc.fixed_server") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(registration_fields) {
  FakeAdapterContext context("irc.example.org");
  IrcAdapter adapter(component(), irc_config(), context);
  const auto fields = context.run(adapter.registration_fields());
  BOOST_REQUIRE(fields.size() == 4u);
  BOOST_TEST(fields[0].var == "nick");
  BOOST_TEST(fields[0].required);
  BOOST_TEST(!fields[0].secret);
  BOOST_TEST(fields[1].var == "username");
  BOOST_TEST(!fields[1].required);
  BOOST_TEST(fields[2].var == "realname");
  BOOST_TEST(fields[3].var == "password");
  BOOST_TEST(fields[3].secret);
  BOOST_TEST(!fields[3].required);
  BOOST_TEST(adapter.registration_instructions().find("SASL") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(valid_registration_is_normalised) {
  FakeAdapterContext context("irc.example.org");
  IrcAdapter adapter(component(), irc_config(), context);
  FieldValues values{{"nick", "  Alice "},
                     {"username", " alice "},
                     {"realname", "Alice Liddell"},
                     {"password", "p@ss word"}};
  BOOST_TEST(!context.run(adapter.validate_registration(alice(), values)).has_value());
  BOOST_TEST(values["nick"] == "Alice");
  BOOST_TEST(values["username"] == "alice");
  BOOST_TEST(values["realname"] == "Alice Liddell");
  BOOST_TEST(values["password"] == "p@ss word");
  FieldValues nick_only{{"nick", "bob"}};
  BOOST_TEST(!context.run(adapter.validate_registration(alice(), nick_only)).has_value());
  FieldValues empty_optional{{"nick", "bob"}, {"username", ""}, {"password", ""}};
  BOOST_TEST(!context.run(adapter.validate_registration(alice(), empty_optional)).has_value());
}

BOOST_AUTO_TEST_CASE(registration_errors) {
  FakeAdapterContext context("irc.example.org");
  IrcAdapter adapter(component(), irc_config(), context);
  const auto check = [&](FieldValues values, std::string_view expected) {
    const auto error = context.run(adapter.validate_registration(alice(), values));
    BOOST_REQUIRE(error);
    BOOST_TEST((error->condition == Condition::not_acceptable));
    BOOST_TEST(error->text.find(expected) != std::string::npos, error->text);
  };
  check({}, "nickname is required");
  check({{"nick", "   "}}, "nickname is required");
  check({{"nick", "9lives"}}, "digit");
  check({{"nick", "a b"}}, "space");
  check({{"nick", "#chan"}}, "channel prefix");
  check({{"nick", "bob"}, {"username", "a b"}}, "username");
  check({{"nick", "bob"}, {"username", "a@b"}}, "'@'");
  check({{"nick", "bob"}, {"username", ":ab"}}, "':'");
  check({{"nick", "bob"}, {"realname", "a\r\nQUIT"}}, "real name");
  check({{"nick", "bob"}, {"password", "x\ny"}}, "password");
  check({{"nick", "bob"}, {"password", std::string("x\0y", 3)}}, "password");
}

BOOST_AUTO_TEST_SUITE_END()
