#include "server_policy.hpp"
#include "user_settings.hpp"

#include <boost/test/unit_test.hpp>
#include <string>

using trestle::gateway::FieldValues;
using trestle::irc::check_setting;
using trestle::irc::glob_match;
using trestle::irc::IrcServerSettings;
using trestle::irc::IrcSettings;
using trestle::irc::link_options;
using trestle::irc::ServerPolicy;

BOOST_AUTO_TEST_SUITE(irc_settings)

BOOST_AUTO_TEST_CASE(glob_patterns) {
  BOOST_TEST(glob_match("*", "anything.example"));
  BOOST_TEST(glob_match("*.libera.chat", "irc.libera.chat"));
  BOOST_TEST(!glob_match("*.libera.chat", "libera.chat"));
  BOOST_TEST(glob_match("irc?.example", "irc1.example"));
  BOOST_TEST(!glob_match("irc?.example", "irc.example"));
  BOOST_TEST(glob_match("a*b*c", "aXXbYYc"));
  BOOST_TEST(!glob_match("a*b*c", "aXXbYY"));
  BOOST_TEST(glob_match("", ""));
  BOOST_TEST(!glob_match("", "a"));
  // Many stars on a long miss stay linear (no exponential backtracking).
  BOOST_TEST(!glob_match("*a*a*a*a*a*a*a*a*b", std::string(5000, 'a')));
}

BOOST_AUTO_TEST_CASE(nothing_is_allowed_by_default) {
  const ServerPolicy policy(IrcSettings{});
  BOOST_TEST(policy.refusal("irc.libera.chat").has_value());
  BOOST_TEST(policy.refusal("127.0.0.1").has_value());
}

BOOST_AUTO_TEST_CASE(listed_fixed_and_pattern_servers_are_allowed_unless_denied) {
  IrcSettings settings;
  settings.fixed_server = "irc.fixed.example";
  settings.allow_servers = {"*.libera.chat"};
  settings.deny_servers = {"bad.libera.chat", "listed-but-denied.example"};
  IrcServerSettings listed;
  listed.host = "irc.listed.example";
  listed.port = 7000;
  IrcServerSettings denied;
  denied.host = "listed-but-denied.example";
  settings.servers = {listed, denied};
  settings.server_defaults.port = 6667;
  const ServerPolicy policy(settings);
  BOOST_TEST(!policy.refusal("irc.fixed.example"));
  BOOST_TEST(!policy.refusal("irc.listed.example"));
  BOOST_TEST(!policy.refusal("irc.libera.chat"));
  BOOST_TEST(policy.refusal("bad.libera.chat").has_value());
  BOOST_TEST(policy.refusal("listed-but-denied.example").has_value());
  BOOST_TEST(policy.refusal("irc.oftc.net").value().find("irc.oftc.net") != std::string::npos);

  BOOST_TEST(policy.settings_for("irc.listed.example").port == 7000);
  const auto other = policy.settings_for("irc.libera.chat");
  BOOST_TEST(other.port == 6667);
  BOOST_TEST(other.host == "irc.libera.chat");
}

BOOST_AUTO_TEST_CASE(settings_are_checked_for_line_safety) {
  BOOST_TEST(!check_setting("nick", "alice", "#&", 2));
  BOOST_TEST(check_setting("nick", "al ice", "#&", 2).has_value());
  BOOST_TEST(check_setting("nick", "#chan", "#&", 2).has_value());
  BOOST_TEST(check_setting("realname", "a\r\nQUIT", "#", 2).value().find("real name") !=
             std::string::npos);
  BOOST_TEST(check_setting("password", std::string("a\0b", 3), "#", 2).has_value());
  BOOST_TEST(check_setting("username", "a b", "#", 2).has_value());
  BOOST_TEST(check_setting("account", ":x", "#", 2).has_value());
  BOOST_TEST(!check_setting("port", "6697", "#", 2));
  BOOST_TEST(check_setting("port", "0", "#", 2).has_value());
  BOOST_TEST(check_setting("port", "70000", "#", 2).has_value());
  BOOST_TEST(check_setting("port", "66a", "#", 2).has_value());
  BOOST_TEST(!check_setting("tls", "false", "#", 2));
  BOOST_TEST(check_setting("tls", "maybe", "#", 2).has_value());
  BOOST_TEST(!check_setting("flood_lines_per_second", "1", "#", 2));
  BOOST_TEST(check_setting("flood_lines_per_second", "3", "#", 2).value().find("operator") !=
             std::string::npos);
  BOOST_TEST(!check_setting("flood_lines_per_second", "30", "#", 0));
  BOOST_TEST(!check_setting("after_connect", "PRIVMSG NickServ :IDENTIFY x\nMODE me +x", "#", 2));
  BOOST_TEST(check_setting("after_connect", "PRIVMSG\n:only-a-source", "#", 2).has_value());
  BOOST_TEST(!check_setting("anything-else", "free text", "#", 2));
}

BOOST_AUTO_TEST_CASE(link_options_layer_operator_registration_and_server_settings) {
  IrcServerSettings server;
  server.host = "irc.example.net";
  server.port = 6697;
  server.tls = true;
  server.password = "server-pass";
  server.flood_lines_per_second = 2;
  server.reconnect_min_delay_seconds = 3;
  server.reconnect_max_delay_seconds = 60;

  auto options = link_options(server, {}, {}, "fallback");
  BOOST_TEST(options.connection.host == "irc.example.net");
  BOOST_TEST(options.connection.port == 6697);
  BOOST_TEST(options.connection.tls);
  BOOST_TEST(options.client.nick == "fallback");
  BOOST_TEST(options.client.username == "fallback");
  BOOST_TEST(options.client.realname == "fallback");
  BOOST_TEST(options.client.server_password == "server-pass");
  BOOST_TEST(!options.client.sasl.has_value());
  BOOST_TEST(options.reconnect_min.count() == 3000);
  BOOST_TEST(options.reconnect_max.count() == 60000);

  const FieldValues registration{{"nick", "regnick"}, {"password", "secret"}};
  options = link_options(server, registration, {}, "fallback");
  BOOST_TEST(options.client.nick == "regnick");
  BOOST_REQUIRE(options.client.sasl.has_value());
  BOOST_TEST(options.client.sasl->account == "regnick");
  BOOST_TEST(options.client.sasl->password == "secret");

  const FieldValues per_server{
      {"nick", "srvnick"}, {"account", "acct"},         {"port", "6667"},
      {"tls", "false"},    {"after_connect", "A\n\nB"}, {"flood_lines_per_second", "1"}};
  options = link_options(server, registration, per_server, "fallback");
  BOOST_TEST(options.client.nick == "srvnick");
  BOOST_TEST(options.client.sasl->account == "acct");
  BOOST_TEST(options.connection.port == 6667);
  BOOST_TEST(!options.connection.tls);
  BOOST_TEST(options.connection.flood_lines_per_second == 1.0);
  BOOST_TEST(options.after_connect == (std::vector<std::string>{"A", "B"}),
             boost::test_tools::per_element());

  // A user cannot raise the operator's flood limit.
  options = link_options(server, {}, {{"flood_lines_per_second", "50"}}, "n");
  BOOST_TEST(options.connection.flood_lines_per_second == 2.0);
}

BOOST_AUTO_TEST_SUITE_END()
