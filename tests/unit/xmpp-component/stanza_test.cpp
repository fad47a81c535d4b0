#include "element.hpp"
#include "jid.hpp"
#include "namespaces.hpp"
#include "stanza.hpp"
#include "stanza_error.hpp"

#include <boost/test/unit_test.hpp>
#include <ostream>
#include <set>
#include <string>

namespace trestle::xmpp {
// Lets Boost.Test print the enums in failure messages.
std::ostream& boost_test_print_type(std::ostream& out, Condition condition) {
  return out << to_string(condition);
}
std::ostream& boost_test_print_type(std::ostream& out, ErrorType type) {
  return out << to_string(type);
}
} // namespace trestle::xmpp

namespace ns = trestle::xmpp::ns;
using trestle::xmpp::Condition;
using trestle::xmpp::Element;
using trestle::xmpp::ErrorType;
using trestle::xmpp::Jid;
using trestle::xmpp::StanzaError;
using trestle::xmpp::StanzaKind;
using trestle::xmpp::StanzaView;

namespace {

struct ConditionCase {
  Condition condition;
  std::string_view name;
  ErrorType type;
};

/// RFC 6120 section 8.3.3, with the type each condition SHOULD carry.
constexpr ConditionCase all_conditions[] = {
    {Condition::bad_request, "bad-request", ErrorType::modify},
    {Condition::conflict, "conflict", ErrorType::cancel},
    {Condition::feature_not_implemented, "feature-not-implemented", ErrorType::cancel},
    {Condition::forbidden, "forbidden", ErrorType::auth},
    {Condition::gone, "gone", ErrorType::cancel},
    {Condition::internal_server_error, "internal-server-error", ErrorType::cancel},
    {Condition::item_not_found, "item-not-found", ErrorType::cancel},
    {Condition::jid_malformed, "jid-malformed", ErrorType::modify},
    {Condition::not_acceptable, "not-acceptable", ErrorType::modify},
    {Condition::not_allowed, "not-allowed", ErrorType::cancel},
    {Condition::not_authorized, "not-authorized", ErrorType::auth},
    {Condition::policy_violation, "policy-violation", ErrorType::modify},
    {Condition::recipient_unavailable, "recipient-unavailable", ErrorType::wait},
    {Condition::redirect, "redirect", ErrorType::modify},
    {Condition::registration_required, "registration-required", ErrorType::auth},
    {Condition::remote_server_not_found, "remote-server-not-found", ErrorType::cancel},
    {Condition::remote_server_timeout, "remote-server-timeout", ErrorType::wait},
    {Condition::resource_constraint, "resource-constraint", ErrorType::wait},
    {Condition::service_unavailable, "service-unavailable", ErrorType::cancel},
    {Condition::subscription_required, "subscription-required", ErrorType::auth},
    {Condition::undefined_condition, "undefined-condition", ErrorType::cancel},
    {Condition::unexpected_request, "unexpected-request", ErrorType::wait},
};

Jid jid(std::string_view text) {
  auto parsed = Jid::parse(text);
  BOOST_TEST_REQUIRE(parsed.has_value(), text);
  return *parsed;
}

/// `<NAME from='romeo@…/orchard' to='juliet@…' id='id1' type=TYPE>` with a
/// payload child and a whitespace text node.
Element request(std::string name, std::string type, Element payload) {
  Element stanza(std::move(name), std::string(ns::component));
  stanza.set_attr("from", "romeo@montague.example/orchard");
  stanza.set_attr("to", "juliet@irc.example.org");
  stanza.set_attr("id", "id1");
  if (!type.empty()) {
    stanza.set_attr("type", std::move(type));
  }
  stanza.append_text("\n  ");
  stanza.append(std::move(payload));
  return stanza;
}

Element ping() {
  return Element("ping", std::string(ns::ping));
}

Element body(std::string_view text) {
  Element element("body");
  element.append_text(text);
  return element;
}

/// Checks the addressing of an error reply to request().
void check_error_addressing(const Element& reply, std::string_view name) {
  BOOST_TEST(reply.name() == name);
  BOOST_TEST(reply.xmlns() == ns::component);
  BOOST_TEST(reply.attr_or("from") == "juliet@irc.example.org");
  BOOST_TEST(reply.attr_or("to") == "romeo@montague.example/orchard");
  BOOST_TEST(reply.attr_or("id") == "id1");
  BOOST_TEST(reply.attr_or("type") == "error");
  BOOST_TEST(reply.find_all("error", ns::component).size() == 1u);
}

} // namespace

BOOST_AUTO_TEST_SUITE(stanza_errors)

BOOST_AUTO_TEST_CASE(every_condition_has_its_name_and_default_type) {
  std::set<std::string_view> names;
  for (const auto& [condition, name, type] : all_conditions) {
    BOOST_TEST(trestle::xmpp::to_string(condition) == name);
    BOOST_TEST((trestle::xmpp::condition_from_string(name) == condition));
    const StanzaError error = trestle::xmpp::make_stanza_error(condition, "why");
    BOOST_TEST(error.condition == condition);
    BOOST_TEST(error.type == type, name);
    BOOST_TEST(error.text == "why");
    names.insert(name);
  }
  BOOST_TEST(names.size() == 22u);
}

BOOST_AUTO_TEST_CASE(unknown_names_are_rejected) {
  BOOST_TEST(!trestle::xmpp::condition_from_string("bogus"));
  BOOST_TEST(!trestle::xmpp::condition_from_string(""));
  BOOST_TEST(!trestle::xmpp::condition_from_string("Bad-Request"));
  BOOST_TEST(!trestle::xmpp::condition_from_string("text"));
  BOOST_TEST(!trestle::xmpp::error_type_from_string("Cancel"));
  BOOST_TEST(!trestle::xmpp::error_type_from_string(""));
  BOOST_TEST(!trestle::xmpp::error_type_from_string("continue_"));
}

BOOST_AUTO_TEST_CASE(error_types_round_trip) {
  const std::pair<ErrorType, std::string_view> types[] = {
      {ErrorType::auth, "auth"},          {ErrorType::cancel, "cancel"},
      {ErrorType::continue_, "continue"}, {ErrorType::modify, "modify"},
      {ErrorType::wait, "wait"},
  };
  for (const auto& [type, name] : types) {
    BOOST_TEST(trestle::xmpp::to_string(type) == name);
    BOOST_TEST((trestle::xmpp::error_type_from_string(name) == type));
  }
}

BOOST_AUTO_TEST_CASE(to_element_serializes_as_rfc6120) {
  const auto with_text = trestle::xmpp::to_element(
      trestle::xmpp::make_stanza_error(Condition::service_unavailable, "IRC server <down> & out"));
  BOOST_TEST(trestle::xmpp::serialize(with_text) ==
             "<error type='cancel'>"
             "<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
             "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' xml:lang='en'>"
             "IRC server &lt;down&gt; &amp; out</text></error>");

  const auto without_text =
      trestle::xmpp::to_element(trestle::xmpp::make_stanza_error(Condition::forbidden));
  BOOST_TEST(trestle::xmpp::serialize(without_text) ==
             "<error type='auth'><forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>");
}

BOOST_AUTO_TEST_CASE(every_condition_round_trips_through_an_element) {
  for (const auto& [condition, name, type] : all_conditions) {
    for (const std::string_view text : {std::string_view{}, std::string_view{"details"}}) {
      const StanzaError error = trestle::xmpp::make_stanza_error(condition, std::string(text));
      const Element element = trestle::xmpp::to_element(error);
      BOOST_TEST(element.name() == "error");
      BOOST_TEST(element.attr_or("type") == trestle::xmpp::to_string(type));
      const Element* condition_element = element.first_element();
      BOOST_TEST_REQUIRE(condition_element != nullptr);
      BOOST_TEST(condition_element->name() == name);
      BOOST_TEST(condition_element->xmlns() == ns::stanza_errors);
      BOOST_TEST((element.find("text", ns::stanza_errors) != nullptr) == !text.empty());

      Element stanza("message", std::string(ns::component));
      stanza.set_attr("type", "error");
      stanza.append(element);
      const auto parsed = trestle::xmpp::stanza_error_from(stanza);
      BOOST_TEST_REQUIRE(parsed.has_value());
      BOOST_TEST(parsed->condition == condition);
      BOOST_TEST(parsed->type == type);
      BOOST_TEST(parsed->text == text);
    }
  }
}

BOOST_AUTO_TEST_CASE(explicit_type_survives_a_round_trip) {
  StanzaError error{Condition::policy_violation, ErrorType::wait, "slow down"};
  Element stanza("iq");
  stanza.set_attr("type", "error");
  stanza.append(trestle::xmpp::to_element(error));
  const auto parsed = trestle::xmpp::stanza_error_from(stanza);
  BOOST_TEST_REQUIRE(parsed.has_value());
  BOOST_TEST(parsed->type == ErrorType::wait);
  BOOST_TEST(parsed->condition == Condition::policy_violation);
}

BOOST_AUTO_TEST_CASE(stanza_error_from_needs_an_error_stanza) {
  Element not_error("message");
  not_error.set_attr("type", "chat");
  not_error.append(
      trestle::xmpp::to_element(trestle::xmpp::make_stanza_error(Condition::bad_request)));
  BOOST_TEST(!trestle::xmpp::stanza_error_from(not_error));

  Element no_type("message");
  no_type.append(
      trestle::xmpp::to_element(trestle::xmpp::make_stanza_error(Condition::bad_request)));
  BOOST_TEST(!trestle::xmpp::stanza_error_from(no_type));

  Element no_child("message");
  no_child.set_attr("type", "error");
  BOOST_TEST(!trestle::xmpp::stanza_error_from(no_child));

  // An application element called "error" is not the stanza error.
  Element foreign("message");
  foreign.set_attr("type", "error");
  foreign.append("error", "urn:example:app");
  BOOST_TEST(!trestle::xmpp::stanza_error_from(foreign));
}

BOOST_AUTO_TEST_CASE(stanza_error_from_is_lenient) {
  Element stanza("presence", std::string(ns::component));
  stanza.set_attr("type", "error");
  Element& error = stanza.append("error");
  error.set_attr("type", "bogus");
  error.append("not-a-condition", std::string(ns::stanza_errors));
  error.append("item-not-found", "urn:example:wrong-namespace");
  auto parsed = trestle::xmpp::stanza_error_from(stanza);
  BOOST_TEST_REQUIRE(parsed.has_value());
  BOOST_TEST(parsed->condition == Condition::undefined_condition);
  BOOST_TEST(parsed->type == ErrorType::cancel);
  BOOST_TEST(parsed->text.empty());

  // Missing type: the condition's usual one. The application condition that
  // may follow the defined one is skipped.
  Element iq("iq", std::string(ns::component));
  iq.set_attr("type", "error");
  Element& iq_error = iq.append("error", std::string(ns::component));
  iq_error.append("resource-constraint", std::string(ns::stanza_errors));
  iq_error.append("too-many", "urn:example:app");
  parsed = trestle::xmpp::stanza_error_from(iq);
  BOOST_TEST_REQUIRE(parsed.has_value());
  BOOST_TEST(parsed->condition == Condition::resource_constraint);
  BOOST_TEST(parsed->type == ErrorType::wait);
}

BOOST_AUTO_TEST_CASE(stanza_error_from_prefers_english_text) {
  Element stanza("message");
  stanza.set_attr("type", "error");
  Element& error = stanza.append("error");
  error.set_attr("type", "cancel");
  error.append("gone", std::string(ns::stanza_errors));
  Element& german = error.append("text", std::string(ns::stanza_errors));
  german.set_attr("xml:lang", "de");
  german.append_text("weg");
  Element& english = error.append("text", std::string(ns::stanza_errors));
  english.set_attr("xml:lang", "en");
  english.append_text("gone");
  auto parsed = trestle::xmpp::stanza_error_from(stanza);
  BOOST_TEST_REQUIRE(parsed.has_value());
  BOOST_TEST(parsed->text == "gone");

  error.remove_children("text", ns::stanza_errors);
  Element& only_german = error.append("text", std::string(ns::stanza_errors));
  only_german.set_attr("xml:lang", "de");
  only_german.append_text("weg");
  parsed = trestle::xmpp::stanza_error_from(stanza);
  BOOST_TEST_REQUIRE(parsed.has_value());
  BOOST_TEST(parsed->text == "weg");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(stanzas)

BOOST_AUTO_TEST_CASE(kind_of_names_the_three_stanzas) {
  BOOST_TEST((trestle::xmpp::kind_of(Element("message")) == StanzaKind::message));
  BOOST_TEST((trestle::xmpp::kind_of(Element("presence")) == StanzaKind::presence));
  BOOST_TEST((trestle::xmpp::kind_of(Element("iq")) == StanzaKind::iq));
  BOOST_TEST((trestle::xmpp::kind_of(Element("handshake")) == StanzaKind::other));
  BOOST_TEST((trestle::xmpp::kind_of(Element("IQ")) == StanzaKind::other));
  BOOST_TEST((trestle::xmpp::kind_of(Element::text_node("iq")) == StanzaKind::other));
}

BOOST_AUTO_TEST_CASE(view_reads_attributes_and_addresses) {
  const Element iq = request("iq", "get", ping());
  const StanzaView view(iq);
  BOOST_TEST((view.kind() == StanzaKind::iq));
  BOOST_TEST(view.type() == "get");
  BOOST_TEST(view.id() == "id1");
  BOOST_TEST_REQUIRE(view.from().has_value());
  BOOST_TEST(view.from()->to_string() == "romeo@montague.example/orchard");
  BOOST_TEST_REQUIRE(view.to().has_value());
  BOOST_TEST(view.to()->to_string() == "juliet@irc.example.org");
  BOOST_TEST_REQUIRE(view.payload() != nullptr);
  BOOST_TEST(view.payload()->name() == "ping");
  BOOST_TEST(&view.element() == &iq);

  Element bare("message");
  bare.set_attr("from", "not a jid@example.com");
  const StanzaView bare_view(bare);
  BOOST_TEST(!bare_view.from().has_value());
  BOOST_TEST(!bare_view.to().has_value());
  BOOST_TEST(bare_view.type().empty());
  BOOST_TEST(bare_view.id().empty());
  BOOST_TEST(bare_view.payload() == nullptr);
}

BOOST_AUTO_TEST_CASE(is_iq_request_only_for_get_and_set) {
  BOOST_TEST(StanzaView(request("iq", "get", ping())).is_iq_request());
  BOOST_TEST(StanzaView(request("iq", "set", ping())).is_iq_request());
  BOOST_TEST(!StanzaView(request("iq", "result", ping())).is_iq_request());
  BOOST_TEST(!StanzaView(request("iq", "error", ping())).is_iq_request());
  BOOST_TEST(!StanzaView(request("iq", "", ping())).is_iq_request());
  BOOST_TEST(!StanzaView(request("message", "get", body("x"))).is_iq_request());
}

BOOST_AUTO_TEST_CASE(builders_set_addresses_and_type) {
  const Jid from = jid("irc.example.org");
  const Jid to = jid("romeo@montague.example/orchard");

  const Element iq = trestle::xmpp::make_iq("get", from, to, "q1");
  BOOST_TEST(trestle::xmpp::serialize(iq) ==
             "<iq from='irc.example.org' to='romeo@montague.example/orchard' type='get' id='q1'/>");

  const Element chat = trestle::xmpp::make_message(from, to, "chat", "hi & bye");
  BOOST_TEST(trestle::xmpp::serialize(chat) ==
             "<message from='irc.example.org' to='romeo@montague.example/orchard' type='chat'>"
             "<body>hi &amp; bye</body></message>");
  const Element normal = trestle::xmpp::make_message(from, to, "");
  BOOST_TEST(!normal.attr("type"));
  BOOST_TEST(normal.nodes().empty());

  const Element available = trestle::xmpp::make_presence(from, to);
  BOOST_TEST(trestle::xmpp::serialize(available) ==
             "<presence from='irc.example.org' to='romeo@montague.example/orchard'/>");
  BOOST_TEST(trestle::xmpp::make_presence(from, to, "unavailable").attr_or("type") ==
             "unavailable");
}

BOOST_AUTO_TEST_CASE(iq_result_swaps_addresses_and_drops_payload) {
  const Element result = trestle::xmpp::make_iq_result(request("iq", "get", ping()));
  BOOST_TEST(result.name() == "iq");
  BOOST_TEST(result.attr_or("from") == "juliet@irc.example.org");
  BOOST_TEST(result.attr_or("to") == "romeo@montague.example/orchard");
  BOOST_TEST(result.attr_or("id") == "id1");
  BOOST_TEST(result.attr_or("type") == "result");
  BOOST_TEST(result.nodes().empty());

  // Missing addresses stay missing.
  Element anonymous("iq");
  anonymous.set_attr("type", "get");
  anonymous.set_attr("id", "x");
  const Element reply = trestle::xmpp::make_iq_result(anonymous);
  BOOST_TEST(!reply.attr("from"));
  BOOST_TEST(!reply.attr("to"));
  BOOST_TEST(reply.attr_or("id") == "x");
}

BOOST_AUTO_TEST_CASE(error_reply_to_a_message_keeps_the_body) {
  const Element original = request("message", "chat", body("hello"));
  const Element reply = trestle::xmpp::make_error_reply(
      original, trestle::xmpp::make_stanza_error(Condition::recipient_unavailable, "IRC down"));
  check_error_addressing(reply, "message");
  BOOST_TEST(reply.child_text("body") == "hello");
  BOOST_TEST(reply.nodes().size() == 3u); // text node, body, error
  const auto error = trestle::xmpp::stanza_error_from(reply);
  BOOST_TEST_REQUIRE(error.has_value());
  BOOST_TEST(error->condition == Condition::recipient_unavailable);
  BOOST_TEST(error->type == ErrorType::wait);
  BOOST_TEST(error->text == "IRC down");
}

BOOST_AUTO_TEST_CASE(error_reply_to_a_presence_keeps_its_children) {
  Element status("status");
  status.append_text("away");
  const Element original = request("presence", "", std::move(status));
  const Element reply = trestle::xmpp::make_error_reply(
      original, trestle::xmpp::make_stanza_error(Condition::registration_required));
  check_error_addressing(reply, "presence");
  BOOST_TEST(reply.child_text("status") == "away");
  const auto error = trestle::xmpp::stanza_error_from(reply);
  BOOST_TEST_REQUIRE(error.has_value());
  BOOST_TEST(error->condition == Condition::registration_required);
  BOOST_TEST(error->type == ErrorType::auth);
}

BOOST_AUTO_TEST_CASE(error_reply_to_iq_get_and_set_keeps_the_payload) {
  for (const char* type : {"get", "set"}) {
    const Element reply = trestle::xmpp::make_error_reply(
        request("iq", type, ping()),
        trestle::xmpp::make_stanza_error(Condition::feature_not_implemented));
    check_error_addressing(reply, "iq");
    BOOST_TEST(reply.find("ping", ns::ping) != nullptr);
    const auto error = trestle::xmpp::stanza_error_from(reply);
    BOOST_TEST_REQUIRE(error.has_value());
    BOOST_TEST(error->condition == Condition::feature_not_implemented);
  }
}

BOOST_AUTO_TEST_CASE(error_reply_to_iq_result_has_only_the_error) {
  const Element reply = trestle::xmpp::make_error_reply(
      request("iq", "result", ping()),
      trestle::xmpp::make_stanza_error(Condition::unexpected_request));
  check_error_addressing(reply, "iq");
  BOOST_TEST(reply.nodes().size() == 1u);
  BOOST_TEST(reply.find("ping", ns::ping) == nullptr);
}

BOOST_AUTO_TEST_CASE(error_reply_to_an_error_still_has_one_error) {
  // Callers must not do this; the function does not check, and the reply
  // it builds is still well formed.
  Element original = request("message", "error", body("x"));
  original.append(
      trestle::xmpp::to_element(trestle::xmpp::make_stanza_error(Condition::item_not_found)));
  original.append("error", "urn:example:app");
  const Element reply = trestle::xmpp::make_error_reply(
      original, trestle::xmpp::make_stanza_error(Condition::bad_request));
  check_error_addressing(reply, "message");
  const auto error = trestle::xmpp::stanza_error_from(reply);
  BOOST_TEST_REQUIRE(error.has_value());
  BOOST_TEST(error->condition == Condition::bad_request);
  // The application element that is merely called "error" is kept.
  BOOST_TEST(reply.find("error", "urn:example:app") != nullptr);
}

BOOST_AUTO_TEST_CASE(error_reply_without_addresses) {
  Element original("message");
  original.append(body("x"));
  const Element reply = trestle::xmpp::make_error_reply(
      original, trestle::xmpp::make_stanza_error(Condition::jid_malformed));
  BOOST_TEST(!reply.attr("from"));
  BOOST_TEST(!reply.attr("to"));
  BOOST_TEST(!reply.attr("id"));
  BOOST_TEST(reply.attr_or("type") == "error");
  BOOST_TEST(trestle::xmpp::serialize(reply) ==
             "<message type='error'><body>x</body><error type='modify'>"
             "<jid-malformed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>");
}

BOOST_AUTO_TEST_SUITE_END()
