#include "fake_adapter_context.hpp"
#include "sms_adapter.hpp"
#include "stanza.hpp"

#include <boost/test/unit_test.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

using trestle::gateway::Adapter;
using trestle::gateway::AdapterContext;
using trestle::gateway::ComponentConfig;
using trestle::protocols_test::FakeAdapterContext;
using trestle::xmpp::Condition;
using trestle::xmpp::Element;
using trestle::xmpp::Jid;
using trestle::xmpp::stanza_error_from;

namespace {

/// One adapter under test, with what it says when asked to deliver.
struct Case {
  std::string domain;
  std::string contact;
  std::string text;
  std::function<std::unique_ptr<Adapter>(AdapterContext&)> make;
};

std::vector<Case> cases() {
  return {
      {"sms.example.org", "+15551234567@sms.example.org",
       "this SMS gateway has no provider configured, so it cannot send or receive messages",
       [](AdapterContext& context) {
         return std::make_unique<trestle::sms::SmsAdapter>(ComponentConfig{},
                                                           trestle::sms::SmsSettings{}, context);
       }},
  };
}

const char* const user = "alice@example.org/phone";

Element stanza(std::string name, const Case& c, std::string type = {}) {
  Element element(std::move(name), "jabber:component:accept");
  element.set_attr("from", user);
  element.set_attr("to", c.contact);
  element.set_attr("id", "s1");
  if (!type.empty()) {
    element.set_attr("type", std::move(type));
  }
  return element;
}

/// Feeds `element` to a fresh adapter and returns what it sent.
std::vector<Element> replies(const Case& c, const Element& element) {
  FakeAdapterContext context(c.domain);
  const auto adapter = c.make(context);
  context.deliver(*adapter, element);
  return context.sent;
}

/// Checks that `sent` is one service-unavailable error answering `request`.
void check_unavailable(const std::vector<Element>& sent, const Element& request, const Case& c) {
  BOOST_REQUIRE(sent.size() == 1u);
  const Element& reply = sent.front();
  BOOST_TEST(reply.name() == request.name());
  BOOST_TEST(reply.attr_or("type") == "error");
  BOOST_TEST(reply.attr_or("to") == user);
  BOOST_TEST(reply.attr_or("from") == c.contact);
  BOOST_TEST(reply.attr_or("id") == "s1");
  const auto error = stanza_error_from(reply);
  BOOST_REQUIRE(error);
  BOOST_TEST((error->condition == Condition::service_unavailable));
  BOOST_TEST(error->text == c.text);
}

} // namespace

BOOST_AUTO_TEST_SUITE(adapter_unavailable)

BOOST_AUTO_TEST_CASE(message_with_body_gets_service_unavailable) {
  for (const auto& c : cases()) {
    for (const std::string type : {"", "chat", "normal", "groupchat"}) {
      auto message = stanza("message", c, type);
      message.append("body").append_text("hello");
      check_unavailable(replies(c, message), message, c);
    }
  }
}

BOOST_AUTO_TEST_CASE(message_without_body_is_dropped) {
  for (const auto& c : cases()) {
    auto message = stanza("message", c, "chat");
    message.append("active", "http://jabber.org/protocol/chatstates");
    BOOST_TEST(replies(c, message).empty(), c.domain);
  }
}

BOOST_AUTO_TEST_CASE(stanza_of_type_error_is_never_answered) {
  for (const auto& c : cases()) {
    for (const std::string name : {"message", "presence", "iq"}) {
      auto element = stanza(name, c, "error");
      element.append("body").append_text("bounced");
      BOOST_TEST(replies(c, element).empty(), c.domain << " " << name);
    }
  }
}

BOOST_AUTO_TEST_CASE(iq_requests_get_service_unavailable) {
  for (const auto& c : cases()) {
    for (const std::string type : {"get", "set"}) {
      auto iq = stanza("iq", c, type);
      iq.append("query", "jabber:iq:version");
      check_unavailable(replies(c, iq), iq, c);
    }
  }
}

BOOST_AUTO_TEST_CASE(iq_results_are_dropped) {
  for (const auto& c : cases()) {
    BOOST_TEST(replies(c, stanza("iq", c, "result")).empty(), c.domain);
  }
}

BOOST_AUTO_TEST_CASE(available_and_subscribe_presence_get_service_unavailable) {
  for (const auto& c : cases()) {
    for (const std::string type : {"", "subscribe"}) {
      const auto presence = stanza("presence", c, type);
      check_unavailable(replies(c, presence), presence, c);
    }
  }
}

BOOST_AUTO_TEST_CASE(other_presence_is_dropped) {
  for (const auto& c : cases()) {
    for (const std::string type :
         {"unavailable", "subscribed", "unsubscribe", "unsubscribed", "probe"}) {
      BOOST_TEST(replies(c, stanza("presence", c, type)).empty(), c.domain << " " << type);
    }
  }
}

BOOST_AUTO_TEST_CASE(other_elements_are_dropped) {
  for (const auto& c : cases()) {
    BOOST_TEST(replies(c, stanza("handshake", c)).empty(), c.domain);
  }
}

BOOST_AUTO_TEST_CASE(full_send_queue_is_logged) {
  for (const auto& c : cases()) {
    FakeAdapterContext context(c.domain);
    context.accept_sends = false;
    const auto adapter = c.make(context);
    auto message = stanza("message", c, "chat");
    message.append("body").append_text("hello");
    context.deliver(*adapter, message);
    BOOST_TEST(context.sent.empty());
    BOOST_TEST(context.log_text().find("send queue full") != std::string::npos, c.domain);
  }
}

BOOST_AUTO_TEST_SUITE_END()
