#include "data_form.hpp"
#include "element.hpp"
#include "namespaces.hpp"
#include "router.hpp"
#include "services.hpp"
#include "test_adapter.hpp"
#include "trestle_version.hpp"

#include <boost/test/unit_test.hpp>
#include <set>
#include <string>
#include <vector>

using trestle::gateway::answer_disco_info;
using trestle::gateway::answer_disco_items;
using trestle::gateway::answer_gateway;
using trestle::gateway::answer_ping;
using trestle::gateway::answer_register;
using trestle::gateway::answer_version;
using trestle::gateway::component_features;
using trestle::gateway::find_form;
using trestle::gateway_test::condition_of;
using trestle::gateway_test::error_text_of;
using trestle::gateway_test::jid;
using trestle::gateway_test::RouterFixture;
using trestle::gateway_test::ServiceFixture;
using trestle::gateway_test::stanza;
using trestle::xmpp::Element;
using trestle::xmpp::serialize;
namespace ns = trestle::xmpp::ns;

namespace {

const std::string alice = "alice@example.org/phone";

/// An iq from alice to the component domain carrying `payload`.
Element iq_to_domain(std::string_view type, std::string_view payload, std::string_view id = "q1") {
  return stanza("<iq type='" + std::string(type) + "' id='" + std::string(id) + "' from='" + alice +
                "' to='test.example.org'>" + std::string(payload) + "</iq>");
}

/// Checks that `reply` is an iq result to `request`.
void check_result_to(const Element& reply, const Element& request) {
  BOOST_TEST(reply.name() == "iq");
  BOOST_TEST(reply.attr_or("type") == "result");
  BOOST_TEST(reply.attr_or("id") == request.attr_or("id"));
  BOOST_TEST(reply.attr_or("to") == request.attr_or("from"));
  BOOST_TEST(reply.attr_or("from") == request.attr_or("to"));
}

/// The `var` attributes of the `<feature/>` children of `query`.
std::set<std::string> features_of(const Element& query) {
  std::set<std::string> out;
  for (const auto* feature : query.find_all("feature")) {
    out.insert(feature->attr_or("var"));
  }
  return out;
}

/// The legacy (non-form) element names of a register query, in order.
std::vector<std::string> legacy_fields_of(const Element& query) {
  std::vector<std::string> out;
  for (const auto& node : query.nodes()) {
    if (!node.is_text() && node.name() != "x" && node.name() != "instructions" &&
        node.name() != "registered") {
      out.push_back(node.name());
    }
  }
  return out;
}

const std::string legacy_register_set =
    "<query xmlns='jabber:iq:register'><username>Alice</username>"
    "<password>s3cret</password></query>";

} // namespace

BOOST_FIXTURE_TEST_SUITE(services, ServiceFixture)

BOOST_AUTO_TEST_CASE(disco_info_names_the_gateway_and_its_features) {
  const auto request =
      iq_to_domain("get", "<query xmlns='http://jabber.org/protocol/disco#info'/>");
  const auto reply = answer_disco_info(context(), request, false);
  check_result_to(reply, request);
  const auto* query = reply.find("query", ns::disco_info);
  BOOST_TEST_REQUIRE(query != nullptr);
  BOOST_TEST(!query->attr("node"));
  const auto identities = query->find_all("identity");
  BOOST_TEST_REQUIRE(identities.size() == 1U);
  BOOST_TEST(identities[0]->attr_or("category") == "gateway");
  BOOST_TEST(identities[0]->attr_or("type") == "test");
  BOOST_TEST(identities[0]->attr_or("name") == "Test gateway");
  const std::set<std::string> expected = {
      "http://jabber.org/protocol/disco#info",
      "http://jabber.org/protocol/disco#items",
      "jabber:iq:version",
      "urn:xmpp:ping",
      "jabber:iq:register",
      "jabber:iq:gateway",
      "http://jabber.org/protocol/commands",
  };
  BOOST_TEST(features_of(*query) == expected, boost::test_tools::per_element());
  BOOST_TEST(query->find_all("feature").size() == expected.size()); // no duplicates
  const auto advertised = component_features();
  BOOST_TEST(std::set<std::string>(advertised.begin(), advertised.end()) == expected,
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(disco_info_states_the_border) {
  adapter.carries.network = "IRC";
  const auto request =
      iq_to_domain("get", "<query xmlns='http://jabber.org/protocol/disco#info'/>");
  const auto reply = answer_disco_info(context(), request, false);
  const auto* query = reply.find("query", ns::disco_info);
  BOOST_TEST_REQUIRE(query != nullptr);
  const auto form = find_form(*query);
  BOOST_TEST_REQUIRE(form.has_value());
  BOOST_TEST(form->type == "result");
  BOOST_TEST(form->value("FORM_TYPE") == "http://jabber.org/network/serverinfo");
  BOOST_TEST(form->value("x-gateway-network") == "IRC");
  const auto* border = form->field("x-gateway-border");
  BOOST_TEST_REQUIRE(border != nullptr);
  BOOST_TEST_REQUIRE(border->values.size() == 2U);
  BOOST_TEST(border->values[0].find("leave XMPP here") != std::string::npos);
  BOOST_TEST(border->values[0].find("IRC carries them without end-to-end encryption") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(disco_info_on_the_commands_node) {
  const auto request = iq_to_domain("get", "<query xmlns='http://jabber.org/protocol/disco#info' "
                                           "node='http://jabber.org/protocol/commands'/>");
  for (const bool admin : {false, true}) {
    const auto reply = answer_disco_info(context(), request, admin);
    check_result_to(reply, request);
    const auto* query = reply.find("query", ns::disco_info);
    BOOST_TEST_REQUIRE(query != nullptr);
    BOOST_TEST(query->attr_or("node") == "http://jabber.org/protocol/commands");
    const auto* identity = query->find("identity");
    BOOST_TEST_REQUIRE(identity != nullptr);
    BOOST_TEST(identity->attr_or("category") == "automation");
    BOOST_TEST(identity->attr_or("type") == "command-list");
  }
}

BOOST_AUTO_TEST_CASE(disco_info_on_a_command_node_is_for_admins_only) {
  const auto request =
      iq_to_domain("get", "<query xmlns='http://jabber.org/protocol/disco#info' node='uptime'/>");
  const auto reply = answer_disco_info(context(), request, true);
  check_result_to(reply, request);
  const auto* query = reply.find("query", ns::disco_info);
  BOOST_TEST_REQUIRE(query != nullptr);
  BOOST_TEST(query->attr_or("node") == "uptime");
  const auto* identity = query->find("identity");
  BOOST_TEST_REQUIRE(identity != nullptr);
  BOOST_TEST(identity->attr_or("type") == "command-node");
  BOOST_TEST(identity->attr_or("name") == "Uptime and statistics");
  BOOST_TEST(features_of(*query) ==
                 (std::set<std::string>{"http://jabber.org/protocol/commands", "jabber:x:data"}),
             boost::test_tools::per_element());

  BOOST_TEST(condition_of(answer_disco_info(context(), request, false)) == "item-not-found");
}

BOOST_AUTO_TEST_CASE(disco_info_on_an_unknown_node_is_item_not_found) {
  const auto request =
      iq_to_domain("get", "<query xmlns='http://jabber.org/protocol/disco#info' node='nope'/>");
  const auto reply = answer_disco_info(context(), request, true);
  BOOST_TEST(condition_of(reply) == "item-not-found");
  BOOST_TEST(reply.attr_or("id") == "q1");
  BOOST_TEST(reply.attr_or("to") == alice);
}

BOOST_AUTO_TEST_CASE(disco_items_of_the_domain_are_empty) {
  const auto request =
      iq_to_domain("get", "<query xmlns='http://jabber.org/protocol/disco#items'/>");
  const auto reply = answer_disco_items(context(), request, true);
  check_result_to(reply, request);
  const auto* query = reply.find("query", ns::disco_items);
  BOOST_TEST_REQUIRE(query != nullptr);
  BOOST_TEST(query->find_all("item").empty());
  BOOST_TEST(!query->attr("node"));
}

BOOST_AUTO_TEST_CASE(disco_items_of_the_commands_node_depend_on_admin) {
  const auto request = iq_to_domain("get", "<query xmlns='http://jabber.org/protocol/disco#items' "
                                           "node='http://jabber.org/protocol/commands'/>");
  const auto admin_reply = answer_disco_items(context(), request, true);
  check_result_to(admin_reply, request);
  const auto* query = admin_reply.find("query", ns::disco_items);
  BOOST_TEST_REQUIRE(query != nullptr);
  BOOST_TEST(query->attr_or("node") == "http://jabber.org/protocol/commands");
  std::vector<std::string> nodes;
  for (const auto* item : query->find_all("item")) {
    BOOST_TEST(item->attr_or("jid") == "test.example.org");
    BOOST_TEST(!item->attr_or("name").empty());
    nodes.push_back(item->attr_or("node"));
  }
  BOOST_TEST(nodes == (std::vector<std::string>{"uptime", "users", "disconnect-user"}),
             boost::test_tools::per_element());

  const auto user_reply = answer_disco_items(context(), request, false);
  check_result_to(user_reply, request);
  BOOST_TEST(user_reply.find("query", ns::disco_items)->find_all("item").empty());
}

BOOST_AUTO_TEST_CASE(the_adapters_domain_commands_are_listed_for_everyone) {
  adapter.commands.push_back({"configure", "Configure the connection"});
  const auto request = iq_to_domain("get", "<query xmlns='http://jabber.org/protocol/disco#items' "
                                           "node='http://jabber.org/protocol/commands'/>");
  const auto reply = answer_disco_items(context(), request, false);
  const auto items = reply.find("query", ns::disco_items)->find_all("item");
  BOOST_TEST_REQUIRE(items.size() == 1u);
  BOOST_TEST(items[0]->attr_or("node") == "configure");
  BOOST_TEST(items[0]->attr_or("name") == "Configure the connection");
  const auto info = answer_disco_info(
      context(),
      iq_to_domain("get",
                   "<query xmlns='http://jabber.org/protocol/disco#info' node='configure'/>"),
      false);
  const auto* identity = info.find("query", ns::disco_info)->find("identity");
  BOOST_TEST_REQUIRE(identity != nullptr);
  BOOST_TEST(identity->attr_or("type") == "command-node");
  BOOST_TEST(identity->attr_or("name") == "Configure the connection");
}

BOOST_AUTO_TEST_CASE(disco_items_of_an_unknown_node_is_item_not_found) {
  const auto request =
      iq_to_domain("get", "<query xmlns='http://jabber.org/protocol/disco#items' node='nope'/>");
  BOOST_TEST(condition_of(answer_disco_items(context(), request, true)) == "item-not-found");
}

BOOST_AUTO_TEST_CASE(version_names_trestle) {
  const auto request = iq_to_domain("get", "<query xmlns='jabber:iq:version'/>");
  const auto reply = answer_version(request);
  check_result_to(reply, request);
  const auto* query = reply.find("query", ns::version);
  BOOST_TEST_REQUIRE(query != nullptr);
  BOOST_TEST(query->child_text("name") == "trestle");
  BOOST_TEST(query->child_text("version") == TRESTLE_VERSION);
  BOOST_TEST(!query->child_text("version").empty());
}

BOOST_AUTO_TEST_CASE(ping_is_an_empty_result) {
  const auto request = iq_to_domain("get", "<ping xmlns='urn:xmpp:ping'/>", "ping-7");
  const auto reply = answer_ping(request);
  check_result_to(reply, request);
  BOOST_TEST(reply.nodes().empty());
  BOOST_TEST(reply.attr_or("id") == "ping-7");
}

BOOST_AUTO_TEST_CASE(register_get_for_a_new_user_shows_an_empty_form) {
  const auto request = iq_to_domain("get", "<query xmlns='jabber:iq:register'/>");
  const auto reply = run(answer_register(context(), request, jid(alice)));
  check_result_to(reply, request);
  const auto* query = reply.find("query", ns::register_);
  BOOST_TEST_REQUIRE(query != nullptr);
  BOOST_TEST(query->child_text("instructions") == "Choose a test user name.");
  BOOST_TEST(query->find("registered") == nullptr);
  // `server` is not an XEP-0077 element: only the form carries it.
  BOOST_TEST(legacy_fields_of(*query) == (std::vector<std::string>{"username", "password"}),
             boost::test_tools::per_element());
  BOOST_TEST(query->child_text("username").empty());

  const auto form = find_form(*query);
  BOOST_TEST_REQUIRE(form.has_value());
  BOOST_TEST(form->type == "form");
  BOOST_TEST(form->title == "Registration with Test gateway");
  BOOST_TEST(form->instructions == "Choose a test user name.");
  BOOST_TEST_REQUIRE(form->fields.size() == 4U);
  BOOST_TEST(form->fields[0].var == "FORM_TYPE");
  BOOST_TEST(form->fields[0].type == "hidden");
  BOOST_TEST(form->value("FORM_TYPE") == "jabber:iq:register");
  const auto* username = form->field("username");
  BOOST_TEST_REQUIRE(username != nullptr);
  BOOST_TEST(username->type == "text-single");
  BOOST_TEST(username->label == "User name");
  BOOST_TEST(username->required);
  BOOST_TEST(username->values.empty());
  const auto* password = form->field("password");
  BOOST_TEST_REQUIRE(password != nullptr);
  BOOST_TEST(password->type == "text-private");
  BOOST_TEST(password->required);
  const auto* server = form->field("server");
  BOOST_TEST_REQUIRE(server != nullptr);
  BOOST_TEST(!server->required);
  BOOST_TEST(server->description == "The test server to use");
}

BOOST_AUTO_TEST_CASE(register_get_for_a_registered_user_shows_values_but_never_secrets) {
  register_user("alice@example.org",
                {{"username", "alice"}, {"password", "s3cret"}, {"server", "srv.example"}});
  const auto request = iq_to_domain("get", "<query xmlns='jabber:iq:register'/>");
  const auto reply = run(answer_register(context(), request, jid(alice)));
  check_result_to(reply, request);
  const auto* query = reply.find("query", ns::register_);
  BOOST_TEST_REQUIRE(query != nullptr);
  BOOST_TEST(query->find("registered") != nullptr);
  BOOST_TEST(query->child_text("username") == "alice");
  BOOST_TEST(query->find("password") != nullptr);
  BOOST_TEST(query->child_text("password").empty());
  const auto form = find_form(*query);
  BOOST_TEST_REQUIRE(form.has_value());
  BOOST_TEST(form->value("username") == "alice");
  BOOST_TEST(form->value("server") == "srv.example");
  BOOST_TEST(form->field("password")->values.empty());
  BOOST_TEST(serialize(reply).find("s3cret") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(register_set_with_legacy_fields_stores_the_validated_values) {
  const auto request = iq_to_domain("set", legacy_register_set);
  const auto reply = run(answer_register(context(), request, jid(alice)));
  check_result_to(reply, request);
  BOOST_TEST(reply.nodes().empty());
  BOOST_TEST(adapter.validated_for == std::vector<std::string>{"alice@example.org"},
             boost::test_tools::per_element());
  const auto stored = registration_of("alice@example.org");
  BOOST_TEST_REQUIRE(stored.has_value());
  BOOST_TEST(stored->fields.at("username") == "alice"); // lower-cased by validation
  BOOST_TEST(stored->fields.at("password") == "s3cret");
  BOOST_TEST(!stored->fields.contains("server"));
  BOOST_TEST(stored->updated_at > 0);
  BOOST_TEST(log.text().find("alice@example.org registered") != std::string::npos);
  BOOST_TEST(log.text().find("s3cret") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(register_set_with_a_form_uses_the_form) {
  // When both are present the form wins; the legacy element is ignored.
  const auto request =
      iq_to_domain("set", "<query xmlns='jabber:iq:register'><username>ignored</username>"
                          "<x xmlns='jabber:x:data' type='submit'>"
                          "<field var='FORM_TYPE'><value>jabber:iq:register</value></field>"
                          "<field var='username'><value>bob</value></field>"
                          "<field var='password'><value>pw</value></field>"
                          "<field var='server'><value>srv.example</value></field>"
                          "<field var='unknown'><value>dropped</value></field>"
                          "</x></query>");
  const auto reply = run(answer_register(context(), request, jid(alice)));
  check_result_to(reply, request);
  const auto stored = registration_of("alice@example.org");
  BOOST_TEST_REQUIRE(stored.has_value());
  BOOST_TEST(stored->fields.at("username") == "bob");
  BOOST_TEST(stored->fields.at("password") == "pw");
  BOOST_TEST(stored->fields.at("server") == "srv.example");
  BOOST_TEST(stored->fields.size() == 3U); // `unknown` was not a field of the form
}

BOOST_AUTO_TEST_CASE(re_registering_with_an_empty_secret_keeps_the_stored_one) {
  register_user("alice@example.org", {{"username", "alice"}, {"password", "old"}});
  const auto legacy = iq_to_domain("set", "<query xmlns='jabber:iq:register'>"
                                          "<username>alice2</username><password/></query>");
  BOOST_TEST(condition_of(run(answer_register(context(), legacy, jid(alice)))).empty());
  auto stored = registration_of("alice@example.org");
  BOOST_TEST_REQUIRE(stored.has_value());
  BOOST_TEST(stored->fields.at("username") == "alice2");
  BOOST_TEST(stored->fields.at("password") == "old");

  const auto form = iq_to_domain("set", "<query xmlns='jabber:iq:register'>"
                                        "<x xmlns='jabber:x:data' type='submit'>"
                                        "<field var='username'><value>alice3</value></field>"
                                        "</x></query>");
  BOOST_TEST(condition_of(run(answer_register(context(), form, jid(alice)))).empty());
  stored = registration_of("alice@example.org");
  BOOST_TEST(stored->fields.at("username") == "alice3");
  BOOST_TEST(stored->fields.at("password") == "old");
  BOOST_TEST(log.text().find("alice@example.org re-registered") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(re_registering_with_a_new_secret_replaces_it) {
  register_user("alice@example.org", {{"username", "alice"}, {"password", "old"}});
  const auto request = iq_to_domain("set", legacy_register_set);
  BOOST_TEST(condition_of(run(answer_register(context(), request, jid(alice)))).empty());
  BOOST_TEST(registration_of("alice@example.org")->fields.at("password") == "s3cret");
}

BOOST_AUTO_TEST_CASE(a_missing_required_field_is_not_acceptable) {
  const std::vector<std::string> payloads = {
      "<query xmlns='jabber:iq:register'><password>pw</password></query>",
      "<query xmlns='jabber:iq:register'><username/><password>pw</password></query>",
      "<query xmlns='jabber:iq:register'><username>alice</username></query>",
      "<query xmlns='jabber:iq:register'/>",
      "<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='submit'>"
      "<field var='username'><value>alice</value></field></x></query>",
  };
  for (const auto& payload : payloads) {
    BOOST_TEST_CONTEXT(payload) {
      const auto reply = run(answer_register(context(), iq_to_domain("set", payload), jid(alice)));
      BOOST_TEST(condition_of(reply) == "not-acceptable");
      BOOST_TEST(error_text_of(reply).find("required") != std::string::npos);
    }
  }
  BOOST_TEST(!registration_of("alice@example.org").has_value());
  BOOST_TEST(adapter.validated_for.empty());
}

BOOST_AUTO_TEST_CASE(a_refusal_from_the_adapter_is_passed_on) {
  const auto request = iq_to_domain("set", "<query xmlns='jabber:iq:register'>"
                                           "<username>taken</username><password>pw</password>"
                                           "</query>");
  const auto reply = run(answer_register(context(), request, jid(alice)));
  BOOST_TEST(condition_of(reply) == "conflict");
  BOOST_TEST(error_text_of(reply) == "that user name is taken");
  BOOST_TEST(!registration_of("alice@example.org").has_value());
}

BOOST_AUTO_TEST_CASE(remove_deletes_the_registration_and_tells_the_adapter) {
  register_user("alice@example.org", {{"username", "alice"}, {"password", "pw"}});
  register_user("bob@example.org", {{"username", "bob"}, {"password", "pw"}});
  const auto request = iq_to_domain("set", "<query xmlns='jabber:iq:register'><remove/></query>");
  const auto reply = run(answer_register(context(), request, jid(alice)));
  check_result_to(reply, request);
  BOOST_TEST(!registration_of("alice@example.org").has_value());
  BOOST_TEST(registration_of("bob@example.org").has_value());
  BOOST_TEST(adapter.unregistered == std::vector<std::string>{"alice@example.org"},
             boost::test_tools::per_element());
  BOOST_TEST(log.text().find("alice@example.org unregistered") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(remove_when_not_registered_is_registration_required) {
  const auto request = iq_to_domain("set", "<query xmlns='jabber:iq:register'><remove/></query>");
  const auto reply = run(answer_register(context(), request, jid(alice)));
  BOOST_TEST(condition_of(reply) == "registration-required");
  BOOST_TEST(adapter.unregistered.empty());
}

BOOST_AUTO_TEST_CASE(a_failed_store_read_is_an_internal_server_error) {
  store.fail_reads = true;
  for (const auto* payload : {"<query xmlns='jabber:iq:register'/>",
                              "<query xmlns='jabber:iq:register'><remove/></query>"}) {
    for (const auto* type : {"get", "set"}) {
      BOOST_TEST_CONTEXT(type << " " << payload) {
        const auto reply = run(answer_register(context(), iq_to_domain(type, payload), jid(alice)));
        BOOST_TEST(condition_of(reply) == "internal-server-error");
      }
    }
  }
  BOOST_TEST(log.text().find("store error reading a registration") != std::string::npos);
  BOOST_TEST(adapter.validated_for.empty());
  BOOST_TEST(adapter.unregistered.empty());
}

BOOST_AUTO_TEST_CASE(a_failed_store_write_is_an_internal_server_error) {
  register_user("alice@example.org", {{"username", "alice"}, {"password", "old"}});
  store.fail_writes = true;
  const auto update =
      run(answer_register(context(), iq_to_domain("set", legacy_register_set), jid(alice)));
  BOOST_TEST(condition_of(update) == "internal-server-error");
  BOOST_TEST(log.text().find("store error saving a registration") != std::string::npos);
  const auto remove = run(answer_register(
      context(), iq_to_domain("set", "<query xmlns='jabber:iq:register'><remove/></query>"),
      jid(alice)));
  BOOST_TEST(condition_of(remove) == "internal-server-error");
  BOOST_TEST(log.text().find("store error removing a registration") != std::string::npos);
  BOOST_TEST(adapter.unregistered.empty());
  store.fail_writes = false;
  BOOST_TEST(registration_of("alice@example.org")->fields.at("password") == "old");
}

BOOST_AUTO_TEST_CASE(a_first_registration_that_cannot_be_saved_is_undone_at_the_adapter) {
  store.fail_writes = true;
  const auto reply =
      run(answer_register(context(), iq_to_domain("set", legacy_register_set), jid(alice)));
  BOOST_TEST(condition_of(reply) == "internal-server-error");
  BOOST_TEST(adapter.validated_for.size() == 1U);
  BOOST_TEST(adapter.unregistered == std::vector<std::string>{"alice@example.org"},
             boost::test_tools::per_element());
  store.fail_writes = false;
}

BOOST_AUTO_TEST_CASE(gateway_get_gives_the_prompt) {
  const auto request = iq_to_domain("get", "<query xmlns='jabber:iq:gateway'/>");
  const auto reply = answer_gateway(context(), request);
  check_result_to(reply, request);
  const auto* query = reply.find("query", ns::gateway);
  BOOST_TEST_REQUIRE(query != nullptr);
  BOOST_TEST(query->child_text("desc") == "Enter a test network address");
  BOOST_TEST(query->child_text("prompt") == "Test address");
}

BOOST_AUTO_TEST_CASE(gateway_set_translates_an_address) {
  const auto request =
      iq_to_domain("set", "<query xmlns='jabber:iq:gateway'><prompt>x</prompt></query>");
  const auto reply = answer_gateway(context(), request);
  check_result_to(reply, request);
  const auto* query = reply.find("query", ns::gateway);
  BOOST_TEST_REQUIRE(query != nullptr);
  BOOST_TEST(query->child_text("jid") == "x@test.example.org");
  BOOST_TEST(query->child_text("prompt") == "x@test.example.org");
}

BOOST_AUTO_TEST_CASE(gateway_set_passes_on_a_malformed_address) {
  const auto request =
      iq_to_domain("set", "<query xmlns='jabber:iq:gateway'><prompt>no such</prompt></query>");
  const auto reply = answer_gateway(context(), request);
  BOOST_TEST(condition_of(reply) == "jid-malformed");
  BOOST_TEST(error_text_of(reply) == "a test address has no spaces");
  BOOST_TEST(reply.attr_or("id") == "q1");
}

BOOST_AUTO_TEST_CASE(gateway_set_without_a_prompt_is_a_bad_request) {
  for (const auto* payload : {"<query xmlns='jabber:iq:gateway'/>",
                              "<query xmlns='jabber:iq:gateway'><prompt/></query>"}) {
    BOOST_TEST_CONTEXT(payload) {
      BOOST_TEST(condition_of(answer_gateway(context(), iq_to_domain("set", payload))) ==
                 "bad-request");
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

// The dispatch of iqs to the component domain, through the router.
BOOST_FIXTURE_TEST_SUITE(services_dispatch, RouterFixture)

BOOST_AUTO_TEST_CASE(each_service_is_reached_through_the_router) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"<query xmlns='http://jabber.org/protocol/disco#info'/>", std::string(ns::disco_info)},
      {"<query xmlns='http://jabber.org/protocol/disco#items'/>", std::string(ns::disco_items)},
      {"<query xmlns='jabber:iq:version'/>", std::string(ns::version)},
      {"<query xmlns='jabber:iq:register'/>", std::string(ns::register_)},
      {"<query xmlns='jabber:iq:gateway'/>", std::string(ns::gateway)},
  };
  for (const auto& [payload, xmlns] : cases) {
    BOOST_TEST_CONTEXT(payload) {
      const auto out = route("<iq type='get' id='d1' from='" + alice + "' to='test.example.org'>" +
                             payload + "</iq>");
      BOOST_TEST_REQUIRE(out.size() == 1U);
      BOOST_TEST(out[0].attr_or("type") == "result");
      BOOST_TEST(out[0].find("query", xmlns) != nullptr);
    }
  }
  const auto pong = route("<iq type='get' id='p1' from='" + alice +
                          "' to='test.example.org'><ping xmlns='urn:xmpp:ping'/></iq>");
  BOOST_TEST_REQUIRE(pong.size() == 1U);
  BOOST_TEST(pong[0].attr_or("type") == "result");
  BOOST_TEST(pong[0].attr_or("id") == "p1");
  BOOST_TEST(adapter.received.empty());
}

BOOST_AUTO_TEST_CASE(register_set_through_the_router_registers) {
  const auto out = route("<iq type='set' id='r1' from='" + alice + "' to='test.example.org'>" +
                         legacy_register_set + "</iq>");
  BOOST_TEST_REQUIRE(out.size() == 1U);
  BOOST_TEST(out[0].attr_or("type") == "result");
  BOOST_TEST(registration_of("alice@example.org").has_value());
}

BOOST_AUTO_TEST_CASE(an_unknown_iq_is_service_unavailable) {
  const std::vector<std::string> requests = {
      "<iq type='get' id='u1' from='" + alice +
          "' to='test.example.org'><query xmlns='urn:example:unknown'/></iq>",
      // Known namespaces with the wrong type.
      "<iq type='set' id='u2' from='" + alice +
          "' to='test.example.org'><query xmlns='jabber:iq:version'/></iq>",
      "<iq type='set' id='u3' from='" + alice +
          "' to='test.example.org'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
      "<iq type='get' id='u4' from='" + alice +
          "' to='test.example.org'><command xmlns='http://jabber.org/protocol/commands' "
          "node='uptime'/></iq>",
      // Known namespace, wrong element.
      "<iq type='get' id='u5' from='" + alice +
          "' to='test.example.org'><other xmlns='jabber:iq:register'/></iq>",
  };
  for (const auto& request : requests) {
    BOOST_TEST_CONTEXT(request) {
      const auto out = route(request);
      BOOST_TEST_REQUIRE(out.size() == 1U);
      BOOST_TEST(condition_of(out[0]) == "service-unavailable");
      BOOST_TEST(out[0].attr_or("to") == alice);
    }
  }
  BOOST_TEST(adapter.received.empty());
}

BOOST_AUTO_TEST_CASE(an_iq_without_payload_is_a_bad_request) {
  const auto out = route("<iq type='get' id='e1' from='" + alice + "' to='test.example.org'/>");
  BOOST_TEST_REQUIRE(out.size() == 1U);
  BOOST_TEST(condition_of(out[0]) == "bad-request");
}

BOOST_AUTO_TEST_CASE(iq_results_and_errors_to_the_domain_are_not_answered) {
  const std::vector<std::string> answers = {
      "<iq type='result' id='a1' from='" + alice + "' to='test.example.org'/>",
      "<iq type='result' id='a2' from='" + alice +
          "' to='test.example.org'><query xmlns='jabber:iq:version'/></iq>",
      "<iq type='error' id='a3' from='" + alice +
          "' to='test.example.org'><ping xmlns='urn:xmpp:ping'/>"
          "<error type='cancel'><service-unavailable "
          "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
      "<iq type='bogus' id='a4' from='" + alice +
          "' to='test.example.org'><ping xmlns='urn:xmpp:ping'/></iq>",
  };
  for (const auto& answer : answers) {
    BOOST_TEST_CONTEXT(answer) {
      BOOST_TEST(route(answer).empty());
    }
  }
  BOOST_TEST(adapter.received.empty());
}

BOOST_AUTO_TEST_SUITE_END()
