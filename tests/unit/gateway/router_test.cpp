#include "activity.hpp"
#include "element.hpp"
#include "namespaces.hpp"
#include "router.hpp"
#include "stanza_error.hpp"
#include "test_adapter.hpp"

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <string>
#include <vector>

using trestle::gateway::ActivityTracker;
using trestle::gateway::UserMessage;
using trestle::gateway_test::condition_of;
using trestle::gateway_test::RouterFixture;
using trestle::gateway_test::stanza;
namespace ns = trestle::xmpp::ns;
using namespace std::chrono_literals;

namespace {

const std::string alice = "alice@example.org/phone";
const std::string mallory = "mallory@example.org/x";

std::string message(const std::string& from, const std::string& to, std::string type = {}) {
  return "<message id='m1'" + (from.empty() ? std::string() : " from='" + from + "'") +
         (to.empty() ? std::string() : " to='" + to + "'") +
         (type.empty() ? std::string() : " type='" + type + "'") + "><body>hi</body></message>";
}

std::string presence(const std::string& from, const std::string& to, std::string type = {}) {
  return "<presence from='" + from + "' to='" + to + "'" +
         (type.empty() ? std::string() : " type='" + type + "'") + "/>";
}

const std::string register_get = "<iq type='get' id='r1' from='" + alice +
                                 "' to='test.example.org'>"
                                 "<query xmlns='jabber:iq:register'/></iq>";

/// Every kind of stanza of type error a user could send, to any address.
std::vector<std::string> error_stanzas(const std::string& from, const std::string& to) {
  const std::string error = "<error type='cancel'><item-not-found "
                            "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>";
  return {
      "<message type='error' id='e1' from='" + from + "' to='" + to + "'>" + error + "</message>",
      "<presence type='error' id='e2' from='" + from + "' to='" + to + "'>" + error + "</presence>",
      "<iq type='error' id='e3' from='" + from + "' to='" + to + "'>" + error + "</iq>",
  };
}

/// The users active within an hour of now, as the tracker sees them.
std::vector<std::string> active(const ActivityTracker& activity) {
  return activity.active(1h, ActivityTracker::Clock::now());
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(router, RouterFixture)

BOOST_AUTO_TEST_CASE(a_stanza_without_a_valid_from_is_dropped) {
  BOOST_TEST(route(message("", "bob@test.example.org")).empty());
  BOOST_TEST(route(message("not@a@jid", "bob@test.example.org")).empty());
  BOOST_TEST(route("<iq type='get' id='x' to='test.example.org'>"
                   "<ping xmlns='urn:xmpp:ping'/></iq>")
                 .empty());
  BOOST_TEST(sent.empty());
  BOOST_TEST(adapter.received.empty());
  BOOST_TEST(activity.size() == 0U);
  BOOST_TEST(log.text().find("without a valid from") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_stanza_for_another_domain_is_jid_malformed) {
  for (const auto& to :
       {std::string("bob@other.example.org"), std::string("example.org"), std::string()}) {
    BOOST_TEST_CONTEXT("to='" << to << "'") {
      const auto out = route(message(alice, to));
      BOOST_TEST_REQUIRE(out.size() == 1U);
      BOOST_TEST(condition_of(out[0]) == "jid-malformed");
      BOOST_TEST(out[0].name() == "message");
      BOOST_TEST(out[0].attr_or("to") == alice);
      BOOST_TEST(out[0].attr_or("id") == "m1");
    }
  }
  BOOST_TEST(adapter.received.empty());
}

BOOST_AUTO_TEST_CASE(a_refused_user_is_told_so) {
  for (const auto& from : {mallory, std::string("stranger@elsewhere.net/y")}) {
    BOOST_TEST_CONTEXT(from) {
      const std::vector<std::string> requests = {
          message(from, "bob@test.example.org"),
          message(from, "test.example.org"),
          presence(from, "test.example.org", "subscribe"),
          presence(from, "bob@test.example.org"),
          "<iq type='get' id='i1' from='" + from +
              "' to='test.example.org'><query xmlns='jabber:iq:register'/></iq>",
          "<iq type='set' id='i2' from='" + from +
              "' to='bob@test.example.org'><query xmlns='jabber:iq:version'/></iq>",
      };
      for (const auto& request : requests) {
        BOOST_TEST_CONTEXT(request) {
          const auto out = route(request);
          BOOST_TEST_REQUIRE(out.size() == 1U);
          BOOST_TEST(condition_of(out[0]) == "forbidden");
          BOOST_TEST(out[0].attr_or("to") == from);
        }
      }
    }
  }
  BOOST_TEST(adapter.received.empty());
  BOOST_TEST(activity.size() == 0U);
}

BOOST_AUTO_TEST_CASE(a_refused_user_gets_no_answer_where_none_is_allowed) {
  // Unavailable presence and iq results expect no answer, not even an error.
  BOOST_TEST(route(presence(mallory, "test.example.org", "unavailable")).empty());
  BOOST_TEST(
      route("<iq type='result' id='i' from='" + mallory + "' to='test.example.org'/>").empty());
  BOOST_TEST(adapter.received.empty());
}

BOOST_AUTO_TEST_CASE(the_admin_is_allowed_even_from_another_domain) {
  auto config = trestle::gateway_test::test_access();
  config.admins = {"root@other.net"};
  access.reload(config);
  const auto out = route("<iq type='get' id='a' from='root@other.net/x' to='test.example.org'>"
                         "<ping xmlns='urn:xmpp:ping'/></iq>");
  BOOST_TEST_REQUIRE(out.size() == 1U);
  BOOST_TEST(out[0].attr_or("type") == "result");
}

BOOST_AUTO_TEST_CASE(require_registration_refuses_an_unregistered_user_but_not_registration) {
  auto config = trestle::gateway_test::test_access();
  config.require_registration = true;
  access.reload(config);

  const auto refused = route(message(alice, "bob@test.example.org"));
  BOOST_TEST_REQUIRE(refused.size() == 1U);
  BOOST_TEST(condition_of(refused[0]) == "registration-required");
  const auto refused_presence = route(presence(alice, "bob@test.example.org", "subscribe"));
  BOOST_TEST_REQUIRE(refused_presence.size() == 1U);
  BOOST_TEST(condition_of(refused_presence[0]) == "registration-required");
  const auto refused_iq = route("<iq type='get' id='u' from='" + alice +
                                "' to='bob@test.example.org'><query xmlns='urn:example:x'/></iq>");
  BOOST_TEST_REQUIRE(refused_iq.size() == 1U);
  BOOST_TEST(condition_of(refused_iq[0]) == "registration-required");
  // A request to the domain that no service takes is answered as such.
  const auto unknown = route("<iq type='get' id='u2' from='" + alice +
                             "' to='test.example.org'><query xmlns='urn:example:x'/></iq>");
  BOOST_TEST_REQUIRE(unknown.size() == 1U);
  BOOST_TEST(condition_of(unknown[0]) == "service-unavailable");
  BOOST_TEST(adapter.received.empty());

  // Registration itself and discovery stay open.
  const auto form = route(register_get);
  BOOST_TEST_REQUIRE(form.size() == 1U);
  BOOST_TEST(form[0].attr_or("type") == "result");
  const auto info =
      route("<iq type='get' id='d' from='" + alice +
            "' to='test.example.org'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
  BOOST_TEST_REQUIRE(info.size() == 1U);
  BOOST_TEST(info[0].attr_or("type") == "result");
  const auto registered = route("<iq type='set' id='r2' from='" + alice +
                                "' to='test.example.org'><query xmlns='jabber:iq:register'>"
                                "<username>alice</username><password>pw</password></query></iq>");
  BOOST_TEST_REQUIRE(registered.size() == 1U);
  BOOST_TEST(registered[0].attr_or("type") == "result");

  // Now the same message goes through.
  BOOST_TEST(route(message(alice, "bob@test.example.org")).empty());
  BOOST_TEST(adapter.received.size() == 1U);
}

BOOST_AUTO_TEST_CASE(require_registration_answers_even_when_the_store_fails) {
  auto config = trestle::gateway_test::test_access();
  config.require_registration = true;
  access.reload(config);
  register_user("alice@example.org", {{"username", "alice"}, {"password", "pw"}});
  store.fail_reads = true;
  const auto out = route(message(alice, "bob@test.example.org"));
  BOOST_TEST_REQUIRE(out.size() == 1U);
  BOOST_TEST(out[0].attr_or("type") == "error");
  // The user is registered: the failure is the gateway's, not theirs.
  const auto error = trestle::xmpp::stanza_error_from(out[0]);
  BOOST_TEST_REQUIRE(error.has_value());
  BOOST_TEST(trestle::xmpp::to_string(error->condition) == "internal-server-error");
  BOOST_TEST(adapter.received.empty());
  BOOST_TEST(log.text().find("store error") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(subscribing_to_the_domain_subscribes_back) {
  const auto out = route(presence(alice, "test.example.org", "subscribe"));
  BOOST_TEST_REQUIRE(out.size() == 3U);
  const std::vector<std::string> types = {"subscribed", "subscribe", ""};
  for (std::size_t i = 0; i < out.size(); ++i) {
    BOOST_TEST_CONTEXT("presence " << i) {
      BOOST_TEST(out[i].name() == "presence");
      BOOST_TEST(out[i].attr_or("type") == types[i]);
      BOOST_TEST(out[i].attr_or("from") == "test.example.org");
      BOOST_TEST(out[i].attr_or("to") == "alice@example.org"); // bare: a roster item
    }
  }
  BOOST_TEST(adapter.received.empty());
}

BOOST_AUTO_TEST_CASE(a_probe_of_the_domain_gets_its_availability) {
  const auto out = route(presence(alice, "test.example.org", "probe"));
  BOOST_TEST_REQUIRE(out.size() == 1U);
  BOOST_TEST(out[0].name() == "presence");
  BOOST_TEST(!out[0].attr("type"));
  BOOST_TEST(out[0].attr_or("from") == "test.example.org");
  BOOST_TEST(out[0].attr_or("to") == alice);
}

BOOST_AUTO_TEST_CASE(presence_to_the_domain_tracks_availability_silently) {
  BOOST_TEST(route(presence(alice, "test.example.org")).empty());
  const auto later = ActivityTracker::Clock::now() + 24h;
  BOOST_TEST(activity.active(1min, later) == std::vector<std::string>{"alice@example.org"},
             boost::test_tools::per_element());
  BOOST_TEST(route(presence(alice, "test.example.org", "unavailable")).empty());
  BOOST_TEST(activity.active(1min, later).empty());
  for (const auto* type : {"subscribed", "unsubscribe", "unsubscribed"}) {
    BOOST_TEST(route(presence(alice, "test.example.org", type)).empty());
  }
  BOOST_TEST(adapter.received.empty());
}

BOOST_AUTO_TEST_CASE(a_message_to_the_domain_is_service_unavailable) {
  const auto out = route(message(alice, "test.example.org", "chat"));
  BOOST_TEST_REQUIRE(out.size() == 1U);
  BOOST_TEST(condition_of(out[0]) == "service-unavailable");
  BOOST_TEST(out[0].name() == "message");
  BOOST_TEST(out[0].attr_or("from") == "test.example.org");
  BOOST_TEST(out[0].attr_or("to") == alice);
  BOOST_TEST(adapter.received.empty());
}

BOOST_AUTO_TEST_CASE(stanzas_to_contacts_go_to_the_adapter) {
  const std::vector<std::string> inbound = {
      message(alice, "bob@test.example.org", "chat"),
      presence(alice, "bob@test.example.org", "subscribe"),
      presence(alice, "#room@test.example.org/alice"),
      "<iq type='get' id='v' from='" + alice +
          "' to='bob@test.example.org'><query xmlns='jabber:iq:version'/></iq>",
      "<iq type='result' id='w' from='" + alice + "' to='bob@test.example.org'/>",
      message(alice, "bob@test.example.org", "error"),
  };
  for (const auto& text : inbound) {
    BOOST_TEST(route(text).empty());
  }
  // All but the iq result and the message error, which ask nothing.
  BOOST_TEST_REQUIRE(adapter.received.size() == inbound.size() - 2);
  for (const auto& event : adapter.received) {
    BOOST_TEST(trestle::gateway::sender_of(event).to_string() == alice);
  }
  BOOST_TEST(sent.empty());
  BOOST_TEST(active(activity) == std::vector<std::string>{"alice@example.org"},
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(errors_are_never_answered_with_errors) {
  auto config = trestle::gateway_test::test_access();
  config.require_registration = true;
  access.reload(config);
  std::vector<std::string> inbound;
  // Refused by access control, to a foreign domain, to the domain itself, and
  // to a contact while unregistered: every refusal path.
  for (const auto& [from, to] :
       std::vector<std::pair<std::string, std::string>>{{mallory, "bob@test.example.org"},
                                                        {alice, "bob@other.example.org"},
                                                        {alice, "test.example.org"},
                                                        {alice, "bob@test.example.org"}}) {
    const auto errors = error_stanzas(from, to);
    inbound.insert(inbound.end(), errors.begin(), errors.end());
  }
  for (const auto& text : inbound) {
    BOOST_TEST_CONTEXT(text) {
      BOOST_TEST(route(text).empty());
    }
  }
  BOOST_TEST(sent.empty());
  BOOST_TEST(adapter.received.empty());
}

BOOST_AUTO_TEST_CASE(commands_reach_the_command_service_with_the_admin_flag) {
  const std::string command = "<command xmlns='http://jabber.org/protocol/commands' "
                              "node='uptime' action='execute'/>";
  const auto user = route("<iq type='set' id='c1' from='" + alice + "' to='test.example.org'>" +
                          command + "</iq>");
  BOOST_TEST_REQUIRE(user.size() == 1U);
  BOOST_TEST(condition_of(user[0]) == "forbidden");
  const auto admin = route("<iq type='set' id='c2' from='admin@example.org/desk' "
                           "to='test.example.org'>" +
                           command + "</iq>");
  BOOST_TEST_REQUIRE(admin.size() == 1U);
  BOOST_TEST(admin[0].attr_or("type") == "result");
  const auto* answer = admin[0].find("command", ns::commands);
  BOOST_TEST_REQUIRE(answer != nullptr);
  BOOST_TEST(answer->attr_or("status") == "completed");
}

BOOST_AUTO_TEST_CASE(disco_shows_commands_to_admins_only) {
  const std::string items = "<query xmlns='http://jabber.org/protocol/disco#items' "
                            "node='http://jabber.org/protocol/commands'/>";
  const auto user =
      route("<iq type='get' id='d1' from='" + alice + "' to='test.example.org'>" + items + "</iq>");
  BOOST_TEST_REQUIRE(user.size() == 1U);
  BOOST_TEST(user[0].find("query", ns::disco_items)->find_all("item").empty());
  const auto admin = route("<iq type='get' id='d2' from='admin@example.org/desk' "
                           "to='test.example.org'>" +
                           items + "</iq>");
  BOOST_TEST_REQUIRE(admin.size() == 1U);
  BOOST_TEST(admin[0].find("query", ns::disco_items)->find_all("item").size() == 3U);
}

BOOST_AUTO_TEST_CASE(end_to_end_encrypted_messages_are_refused_before_the_adapter) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"<encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='1'/></encrypted>"
       "<body>I sent you an OMEMO encrypted message but your client doesn't seem to support "
       "that.</body>",
       "OMEMO"},
      {"<encrypted xmlns='urn:xmpp:omemo:2'><header sid='1'/></encrypted><body>x</body>",
       "OMEMO 2"},
      {"<encrypted xmlns='urn:xmpp:omemo:1'><header sid='1'/></encrypted>", "OMEMO"},
      {"<openpgp xmlns='urn:xmpp:openpgp:0'>BASE64</openpgp><body>x</body>", "OpenPGP for XMPP"},
      {"<x xmlns='jabber:x:encrypted'>PGP</x><body>This message is encrypted.</body>",
       "legacy OpenPGP"},
      {"<body>?OTR:AAMDJ+MVmSfjFZcAAAAAAQAAAAIAAADA</body>", "OTR"},
      {"<body>?OTRv23? Alice has requested an Off-the-Record private conversation.</body>", "OTR"},
      {"<encryption xmlns='urn:xmpp:eme:0' namespace='urn:xmpp:omemo:1'/><body>x</body>", "OMEMO"},
      {"<encryption xmlns='urn:xmpp:eme:0' namespace='urn:example:new'/><body>x</body>",
       "end-to-end encryption"},
  };
  for (const auto& [payload, scheme] : cases) {
    BOOST_TEST_CONTEXT(scheme) {
      const auto out = route("<message id='e1' type='chat' from='" + alice +
                             "' to='bob@test.example.org'>" + payload + "</message>");
      BOOST_TEST_REQUIRE(out.size() == 1U);
      BOOST_TEST(condition_of(out[0]) == "not-acceptable");
      BOOST_TEST(out[0].attr_or("id") == "e1");
      const auto error = trestle::xmpp::stanza_error_from(out[0]);
      BOOST_TEST_REQUIRE(error.has_value());
      BOOST_TEST(error->text.find("(" + scheme + ")") != std::string::npos, error->text);
      BOOST_TEST(error->text.find("not sent") != std::string::npos);
    }
  }
  BOOST_TEST(adapter.received.empty());
  BOOST_TEST(router.encrypted_refused() == cases.size());
}

BOOST_AUTO_TEST_CASE(encrypted_messages_to_the_domain_itself_are_refused_too) {
  adapter.domain_messages = true;
  const auto out = route("<message id='e2' type='chat' from='" + alice +
                         "' to='test.example.org'><body>?OTRv3? let us talk</body></message>");
  BOOST_TEST_REQUIRE(out.size() == 1U);
  BOOST_TEST(condition_of(out[0]) == "not-acceptable");
  BOOST_TEST(adapter.received.empty());
  BOOST_TEST(router.encrypted_refused() == 1U);
  // A plain command to the domain still reaches the adapter.
  BOOST_TEST(route("<message id='e3' type='chat' from='" + alice +
                   "' to='test.example.org'><body>LIST</body></message>")
                 .empty());
  BOOST_TEST(adapter.received.size() == 1U);
}

BOOST_AUTO_TEST_CASE(plain_messages_and_errors_pass_the_border) {
  // A body that merely mentions OTR, and an encrypted error (never answered).
  BOOST_TEST(route("<message id='p1' from='" + alice +
                   "' to='bob@test.example.org'><body>what is ?OTR anyway</body></message>")
                 .empty());
  BOOST_TEST(route("<message id='p2' type='error' from='" + alice +
                   "' to='bob@test.example.org'><encrypted "
                   "xmlns='eu.siacs.conversations.axolotl'/></message>")
                 .empty());
  // The error is not refused as encrypted; like every error it asks nothing
  // of the adapter.
  BOOST_TEST(adapter.received.size() == 1U);
  BOOST_TEST(router.encrypted_refused() == 0U);
}

BOOST_AUTO_TEST_CASE(messages_cross_as_the_network_takes_them_with_one_notice) {
  const std::string xhtml = "<html xmlns='http://jabber.org/protocol/xhtml-im'><body "
                            "xmlns='http://www.w3.org/1999/xhtml'><b>hi</b></body></html>";
  const auto first = route("<message id='f1' type='chat' from='" + alice +
                           "' to='bob@test.example.org'><body>hi</body>" + xhtml + "</message>");
  BOOST_TEST_REQUIRE(first.size() == 1U);
  BOOST_TEST(first[0].attr_or("from") == "bob@test.example.org");
  BOOST_TEST(first[0].attr_or("to") == alice);
  BOOST_TEST(first[0].attr_or("type") == "chat");
  BOOST_TEST(first[0].child_text("body").starts_with("[gateway] formatting does not reach the "
                                                     "test network"));
  // The next formatted message goes without another notice.
  BOOST_TEST(route("<message id='f2' type='chat' from='" + alice +
                   "' to='bob@test.example.org'><body>again</body>" + xhtml + "</message>")
                 .empty());
  BOOST_TEST_REQUIRE(adapter.received.size() == 2U);
  BOOST_TEST(std::get<UserMessage>(adapter.received[0]).body == "hi");
  BOOST_TEST(router.border_notices() == 1U);
}

BOOST_AUTO_TEST_CASE(a_reaction_quotes_what_the_gateway_sent_and_a_retraction_is_answered) {
  router.remember_sent(stanza("<message id='in1' type='groupchat' to='" + alice +
                              "' from='#room@test.example.org/bob'><body>pizza?</body>"
                              "<stanza-id xmlns='urn:xmpp:sid:0' by='#room@test.example.org' "
                              "id='sid-1'/></message>"));
  BOOST_TEST(route("<message id='r1' type='groupchat' from='" + alice +
                   "' to='#room@test.example.org'><reactions xmlns='urn:xmpp:reactions:0' "
                   "id='sid-1'><reaction>🍕</reaction></reactions></message>")
                 .empty());
  BOOST_TEST_REQUIRE(adapter.received.size() == 1U);
  BOOST_TEST(std::get<UserMessage>(adapter.received[0]).body == "reacted 🍕 to \"pizza?\"");

  const auto retraction = route("<message id='x1' type='groupchat' from='" + alice +
                                "' to='#room@test.example.org'><retract "
                                "xmlns='urn:xmpp:message-retract:1' id='r1'/><body>retracted"
                                "</body></message>");
  BOOST_TEST(adapter.received.size() == 1U);
  BOOST_TEST_REQUIRE(retraction.size() == 1U);
  // In a room the notice comes from the room itself.
  BOOST_TEST(retraction[0].attr_or("from") == "#room@test.example.org");
  BOOST_TEST(retraction[0].attr_or("type") == "groupchat");
  BOOST_TEST(retraction[0].child_text("body").find("cannot be taken back") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(router_events, RouterFixture)

BOOST_AUTO_TEST_CASE(the_adapter_gets_the_message_as_an_event_after_the_border) {
  const auto replies =
      route("<message id='m1' from='" + alice +
            "' to='bob@test.example.org' type='chat'><body>hi</body>"
            "<html xmlns='http://jabber.org/protocol/xhtml-im'><body "
            "xmlns='http://www.w3.org/1999/xhtml'><b>hi</b></body></html></message>");
  BOOST_TEST(replies.size() == 1u); // the formatting notice
  BOOST_REQUIRE(adapter.received.size() == 1u);
  const auto& message = std::get<UserMessage>(adapter.received[0]);
  BOOST_TEST(message.body == "hi");
  BOOST_TEST(message.from.to_string() == alice);
  BOOST_TEST(message.to.to_string() == "bob@test.example.org");
}

BOOST_AUTO_TEST_CASE(a_users_events_wait_in_a_bounded_lane_and_the_rest_are_refused) {
  // Routed before the loop runs: the lane holds four, the fifth is refused.
  for (int i = 0; i < 5; ++i) {
    router.route(stanza(presence(alice, "bob@test.example.org")));
  }
  router.route(stanza(presence("carol@example.org/x", "bob@test.example.org")));
  io.restart();
  io.run();
  BOOST_REQUIRE(sent.size() == 1u);
  BOOST_TEST(condition_of(sent[0]) == "resource-constraint");
  BOOST_TEST(sent[0].attr_or("to") == alice);
  BOOST_TEST(adapter.received.size() == 5u); // alice's four and carol's one
  // Once the lane has drained, the user is served again.
  route(presence(alice, "bob@test.example.org"));
  BOOST_TEST(adapter.received.size() == 6u);
}

BOOST_AUTO_TEST_CASE(an_adapters_command_is_answered_from_its_typed_answer) {
  adapter.commands.push_back({"report", "A report", true});
  const auto command = [](const std::string& from) {
    return "<iq type='set' id='c1' from='" + from +
           "' to='test.example.org'><command xmlns='http://jabber.org/protocol/commands' "
           "node='report' action='execute'/></iq>";
  };
  const auto refused = route(command(alice));
  BOOST_REQUIRE(refused.size() == 1u);
  BOOST_TEST(condition_of(refused[0]) == "forbidden");
  const auto answered = route(command("admin@example.org/pc"));
  BOOST_REQUIRE(answered.size() == 1u);
  BOOST_TEST(answered[0].attr_or("type") == "result");
  const auto* reply = answered[0].find("command", ns::commands);
  BOOST_REQUIRE(reply != nullptr);
  BOOST_TEST(reply->attr_or("status") == "completed");
  BOOST_TEST(reply->attr_or("node") == "report");
  BOOST_TEST(!reply->attr_or("sessionid").empty());
  BOOST_TEST(reply->child_text("note") == "ran report");
  BOOST_TEST(adapter.commands_run == std::vector<std::string>{"admin@example.org/pc"},
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()
