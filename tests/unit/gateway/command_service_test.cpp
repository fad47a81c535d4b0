#include "command_service.hpp"
#include "data_form.hpp"
#include "element.hpp"
#include "namespaces.hpp"
#include "test_adapter.hpp"

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <string>
#include <vector>

using trestle::gateway::CommandService;
using trestle::gateway::find_form;
using trestle::gateway_test::condition_of;
using trestle::gateway_test::jid;
using trestle::gateway_test::ServiceFixture;
using trestle::gateway_test::stanza;
using trestle::xmpp::Element;
namespace ns = trestle::xmpp::ns;
using namespace std::chrono_literals;

namespace {

const std::string admin = "admin@example.org/desk";
const std::string second_admin = "root@example.org/desk";

/// A command service over a ServiceFixture, with a helper to run commands.
struct CommandFixture : ServiceFixture {
  CommandFixture() {
    auto config = trestle::gateway_test::test_access();
    config.admins.push_back("root@example.org");
    access.reload(config);
  }

  /// Sends `<command node=… [action=…] [sessionid=…]>inner</command>` from `from`.
  Element run(const std::string& from, const std::string& node, const std::string& action = {},
              const std::string& session = {}, const std::string& inner = {}) {
    const std::string xml =
        "<iq type='set' id='c" + std::to_string(++requests) + "' from='" + from +
        "' to='test.example.org'><command xmlns='http://jabber.org/protocol/commands' node='" +
        node + "'" + (action.empty() ? std::string() : " action='" + action + "'") +
        (session.empty() ? std::string() : " sessionid='" + session + "'") + ">" + inner +
        "</command></iq>";
    const auto from_jid = jid(from);
    const auto request = stanza(xml);
    if (!CommandService::is_adapter_command(adapter, request)) {
      return service.execute(context(), request, from_jid, access.admin(from_jid));
    }
    std::vector<Element> replies;
    boost::asio::co_spawn(io,
                          CommandService::run_adapter_command(adapter, request, from_jid,
                                                              access.admin(from_jid),
                                                              [&replies](const Element& reply) {
                                                                replies.push_back(reply);
                                                                return true;
                                                              }),
                          boost::asio::detached);
    io.restart();
    io.run();
    BOOST_TEST_REQUIRE(replies.size() == 1u);
    return replies.front();
  }

  CommandService service;
  int requests = 0;
};

/// The `<command/>` child of a reply; fails the test if there is none.
const Element& command_of(const Element& reply) {
  const auto* command = reply.find("command", ns::commands);
  BOOST_TEST_REQUIRE(command != nullptr);
  return *command;
}

std::string jid_form(const std::string& value) {
  return "<x xmlns='jabber:x:data' type='submit'><field var='jid'><value>" + value +
         "</value></field></x>";
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(command_service, CommandFixture)

BOOST_AUTO_TEST_CASE(admins_see_every_command_and_users_none) {
  const auto all = CommandService::commands(adapter, true);
  std::vector<std::string> nodes;
  for (const auto& command : all) {
    nodes.emplace_back(command.node);
    BOOST_TEST(command.admin_only);
    BOOST_TEST(!command.name.empty());
  }
  BOOST_TEST(nodes == (std::vector<std::string>{"uptime", "users", "disconnect-user"}),
             boost::test_tools::per_element());
  BOOST_TEST(CommandService::commands(adapter, false).empty());
  BOOST_TEST(CommandService::has_command(adapter, "users", true));
  BOOST_TEST(!CommandService::has_command(adapter, "users", false));
  BOOST_TEST(!CommandService::has_command(adapter, "nope", true));
  BOOST_TEST(CommandService::command_name(adapter, "disconnect-user") == "Disconnect a user");
  BOOST_TEST(CommandService::command_name(adapter, "nope").empty());
}

BOOST_AUTO_TEST_CASE(the_adapters_domain_commands_are_for_every_user) {
  adapter.commands.push_back({"configure", "Configure the connection"});
  const auto visible = CommandService::commands(adapter, false);
  BOOST_TEST_REQUIRE(visible.size() == 1u);
  BOOST_TEST(visible[0].node == "configure");
  BOOST_TEST(visible[0].name == "Configure the connection");
  BOOST_TEST(!visible[0].admin_only);
  BOOST_TEST(CommandService::commands(adapter, true).size() == 4u);
  const auto reply = run("alice@example.org/phone", "configure");
  BOOST_TEST(reply.attr_or("type") == "result");
  BOOST_TEST(command_of(reply).attr_or("status") == "completed");
  BOOST_TEST(adapter.commands_run == std::vector<std::string>{"alice@example.org/phone"},
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_non_admin_is_forbidden_to_execute) {
  for (const auto* node : {"uptime", "users", "disconnect-user"}) {
    BOOST_TEST_CONTEXT(node) {
      const auto reply = run("alice@example.org/phone", node);
      BOOST_TEST(condition_of(reply) == "forbidden");
      BOOST_TEST(reply.attr_or("to") == "alice@example.org/phone");
    }
  }
  BOOST_TEST(status.disconnected.empty());
}

BOOST_AUTO_TEST_CASE(an_unknown_node_is_item_not_found) {
  BOOST_TEST(condition_of(run(admin, "reboot")) == "item-not-found");
  BOOST_TEST(condition_of(run("alice@example.org/phone", "reboot")) == "item-not-found");
}

BOOST_AUTO_TEST_CASE(uptime_reports_uptime_and_statistics) {
  status.uptime_value = 24h + 2h + 3min + 4s + 500ms;
  status.stats = {{"Components", "3"}, {"Stanzas in", "42"}};
  const auto reply = run(admin, "uptime");
  BOOST_TEST(reply.attr_or("type") == "result");
  const auto& command = command_of(reply);
  BOOST_TEST(command.attr_or("node") == "uptime");
  BOOST_TEST(command.attr_or("status") == "completed");
  BOOST_TEST(!command.attr_or("sessionid").empty());
  const auto form = find_form(command);
  BOOST_TEST_REQUIRE(form.has_value());
  BOOST_TEST(form->type == "result");
  BOOST_TEST(form->value("uptime") == "1d 2h 3m 4s");
  BOOST_TEST(form->value("Components") == "3");
  BOOST_TEST(form->value("Stanzas in") == "42");
  BOOST_TEST(log.text().find("admin@example.org runs uptime") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(users_lists_the_active_users) {
  status.users = {"alice@example.org", "bob@example.org"};
  const auto reply = run(admin, "users", "execute");
  const auto& command = command_of(reply);
  BOOST_TEST(command.attr_or("status") == "completed");
  BOOST_TEST(command.child_text("note") == "2 active users");
  const auto form = find_form(command);
  BOOST_TEST_REQUIRE(form.has_value());
  const auto* users = form->field("users");
  BOOST_TEST_REQUIRE(users != nullptr);
  BOOST_TEST(users->type == "jid-multi");
  BOOST_TEST(users->values == status.users, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(disconnect_user_takes_two_steps) {
  status.users = {"bob@example.org"};
  const auto first = run(admin, "disconnect-user");
  BOOST_TEST(first.attr_or("type") == "result");
  const auto& step = command_of(first);
  BOOST_TEST(step.attr_or("status") == "executing");
  const auto session = step.attr_or("sessionid");
  BOOST_TEST_REQUIRE(!session.empty());
  const auto* actions = step.find("actions");
  BOOST_TEST_REQUIRE(actions != nullptr);
  BOOST_TEST(actions->attr_or("execute") == "complete");
  BOOST_TEST(actions->find("complete") != nullptr);
  const auto form = find_form(step);
  BOOST_TEST_REQUIRE(form.has_value());
  BOOST_TEST(form->type == "form");
  const auto* field = form->field("jid");
  BOOST_TEST_REQUIRE(field != nullptr);
  BOOST_TEST(field->type == "jid-single");
  BOOST_TEST(field->required);
  BOOST_TEST(status.disconnected.empty()); // nothing happens before the second step

  const auto second =
      run(admin, "disconnect-user", "complete", session, jid_form("Bob@example.org/laptop"));
  BOOST_TEST(second.attr_or("type") == "result");
  const auto& done = command_of(second);
  BOOST_TEST(done.attr_or("status") == "completed");
  BOOST_TEST(done.attr_or("sessionid") == session);
  BOOST_TEST(done.child_text("note") == "bob@example.org was disconnected");
  BOOST_TEST(status.disconnected == std::vector<std::string>{"bob@example.org"},
             boost::test_tools::per_element());
  BOOST_TEST(log.text().find("admin@example.org disconnected bob@example.org") !=
             std::string::npos);

  // The session is used up.
  const auto again =
      run(admin, "disconnect-user", "complete", session, jid_form("bob@example.org"));
  BOOST_TEST(condition_of(again) == "bad-request");
  BOOST_TEST(status.disconnected.size() == 1U);
}

BOOST_AUTO_TEST_CASE(disconnecting_an_inactive_user_says_so) {
  const auto session = command_of(run(admin, "disconnect-user")).attr_or("sessionid");
  const auto reply = run(admin, "disconnect-user", "", session, jid_form("carol@example.org"));
  BOOST_TEST(command_of(reply).child_text("note") == "carol@example.org had no active session");
  BOOST_TEST(status.disconnected == std::vector<std::string>{"carol@example.org"},
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(each_step_one_opens_a_new_session) {
  const auto a = command_of(run(admin, "disconnect-user")).attr_or("sessionid");
  const auto b = command_of(run(admin, "disconnect-user")).attr_or("sessionid");
  BOOST_TEST(a != b);
}

BOOST_AUTO_TEST_CASE(a_second_step_without_a_valid_jid_is_a_bad_request) {
  for (const auto& inner : {std::string(), jid_form(""), jid_form("not@a@jid"),
                            std::string("<x xmlns='jabber:x:data' type='submit'/>")}) {
    BOOST_TEST_CONTEXT("inner: " << inner) {
      const auto session = command_of(run(admin, "disconnect-user")).attr_or("sessionid");
      BOOST_TEST(condition_of(run(admin, "disconnect-user", "complete", session, inner)) ==
                 "bad-request");
    }
  }
  BOOST_TEST(status.disconnected.empty());
}

BOOST_AUTO_TEST_CASE(an_unknown_session_is_a_bad_request) {
  const auto reply =
      run(admin, "disconnect-user", "complete", "disconnect-999", jid_form("bob@example.org"));
  BOOST_TEST(condition_of(reply) == "bad-request");
  BOOST_TEST(status.disconnected.empty());
}

BOOST_AUTO_TEST_CASE(a_session_belongs_to_the_admin_who_opened_it) {
  const auto session = command_of(run(admin, "disconnect-user")).attr_or("sessionid");
  const auto stolen =
      run(second_admin, "disconnect-user", "complete", session, jid_form("bob@example.org"));
  BOOST_TEST(condition_of(stolen) == "bad-request");
  BOOST_TEST(status.disconnected.empty());

  // The owner, from any resource, can still finish it.
  const auto finished = run("admin@example.org/other", "disconnect-user", "complete", session,
                            jid_form("bob@example.org"));
  BOOST_TEST(command_of(finished).attr_or("status") == "completed");
  BOOST_TEST(status.disconnected.size() == 1U);
}

BOOST_AUTO_TEST_CASE(cancel_ends_a_session) {
  const auto session = command_of(run(admin, "disconnect-user")).attr_or("sessionid");
  const auto canceled = run(admin, "disconnect-user", "cancel", session);
  BOOST_TEST(canceled.attr_or("type") == "result");
  BOOST_TEST(command_of(canceled).attr_or("status") == "canceled");
  BOOST_TEST(command_of(canceled).attr_or("sessionid") == session);
  const auto after =
      run(admin, "disconnect-user", "complete", session, jid_form("bob@example.org"));
  BOOST_TEST(condition_of(after) == "bad-request");
  BOOST_TEST(status.disconnected.empty());
}

BOOST_AUTO_TEST_CASE(only_the_owner_can_cancel_a_session) {
  const auto session = command_of(run(admin, "disconnect-user")).attr_or("sessionid");
  const auto canceled = run(second_admin, "disconnect-user", "cancel", session);
  BOOST_TEST(command_of(canceled).attr_or("status") == "canceled");
  const auto finished =
      run(admin, "disconnect-user", "complete", session, jid_form("bob@example.org"));
  BOOST_TEST(command_of(finished).attr_or("status") == "completed");
  BOOST_TEST(status.disconnected.size() == 1U);
}

BOOST_AUTO_TEST_CASE(a_non_admin_cannot_cancel_either) {
  const auto session = command_of(run(admin, "disconnect-user")).attr_or("sessionid");
  BOOST_TEST(condition_of(run("alice@example.org/phone", "disconnect-user", "cancel", session)) ==
             "forbidden");
  const auto finished =
      run(admin, "disconnect-user", "complete", session, jid_form("bob@example.org"));
  BOOST_TEST(command_of(finished).attr_or("status") == "completed");
}

BOOST_AUTO_TEST_CASE(open_sessions_are_bounded) {
  // The bound is 256; one more is refused, and a finished one frees a place.
  std::string first;
  for (int i = 0; i < 256; ++i) {
    const auto reply = run(admin, "disconnect-user");
    BOOST_TEST_REQUIRE(condition_of(reply).empty());
    if (i == 0) {
      first = command_of(reply).attr_or("sessionid");
    }
  }
  BOOST_TEST(condition_of(run(admin, "disconnect-user")) == "resource-constraint");
  BOOST_TEST(command_of(run(admin, "disconnect-user", "cancel", first)).attr_or("status") ==
             "canceled");
  BOOST_TEST(condition_of(run(admin, "disconnect-user")).empty());
}

BOOST_AUTO_TEST_SUITE_END()
