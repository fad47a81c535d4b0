#include "element.hpp"
#include "namespaces.hpp"
#include "stream_error.hpp"

#include <boost/test/unit_test.hpp>
#include <set>
#include <string>

using trestle::xmpp::Element;
using trestle::xmpp::serialize;
using trestle::xmpp::stream_condition_from_string;
using trestle::xmpp::stream_error_from_element;
using trestle::xmpp::StreamCondition;
using trestle::xmpp::StreamError;
namespace ns = trestle::xmpp::ns;

BOOST_AUTO_TEST_SUITE(stream_error)

BOOST_AUTO_TEST_CASE(every_condition_has_a_distinct_name_that_parses_back) {
  std::set<std::string> names;
  constexpr int count = static_cast<int>(StreamCondition::unsupported_version) + 1;
  BOOST_TEST(count == 25);
  for (int i = 0; i < count; ++i) {
    const auto condition = static_cast<StreamCondition>(i);
    const std::string name(to_string(condition));
    BOOST_TEST(!name.empty());
    BOOST_TEST(name.find('_') == std::string::npos);
    names.insert(name);
    const auto back = stream_condition_from_string(name);
    BOOST_TEST_REQUIRE(back.has_value());
    BOOST_TEST(static_cast<int>(*back) == i);
  }
  BOOST_TEST(names.size() == static_cast<std::size_t>(count));
}

BOOST_AUTO_TEST_CASE(names_follow_rfc_6120) {
  BOOST_TEST(to_string(StreamCondition::not_well_formed) == "not-well-formed");
  BOOST_TEST(to_string(StreamCondition::restricted_xml) == "restricted-xml");
  BOOST_TEST(to_string(StreamCondition::policy_violation) == "policy-violation");
  BOOST_TEST(to_string(StreamCondition::bad_namespace_prefix) == "bad-namespace-prefix");
  BOOST_TEST(to_string(StreamCondition::see_other_host) == "see-other-host");
  BOOST_TEST(to_string(StreamCondition::reset) == "reset");
  BOOST_TEST(to_string(StreamCondition::unsupported_stanza_type) == "unsupported-stanza-type");
}

BOOST_AUTO_TEST_CASE(unknown_names_do_not_parse) {
  BOOST_TEST(!stream_condition_from_string("").has_value());
  BOOST_TEST(!stream_condition_from_string("not_well_formed").has_value());
  BOOST_TEST(!stream_condition_from_string("Conflict").has_value());
  BOOST_TEST(!stream_condition_from_string("text").has_value());
}

BOOST_AUTO_TEST_CASE(to_element_with_text) {
  const Element error = to_element(StreamError{StreamCondition::not_well_formed, "bad <xml> & co"});
  BOOST_TEST(error.name() == "error");
  BOOST_TEST(error.xmlns() == ns::streams);
  BOOST_TEST(serialize(error, ns::streams) ==
             "<error><not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
             "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>bad &lt;xml&gt; &amp; co</text>"
             "</error>");
}

BOOST_AUTO_TEST_CASE(to_element_without_text_has_only_the_condition) {
  const Element error = to_element(StreamError{StreamCondition::conflict, ""});
  BOOST_TEST(serialize(error) == "<error xmlns='http://etherx.jabber.org/streams'>"
                                 "<conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></error>");
}

BOOST_AUTO_TEST_CASE(from_element_reads_condition_and_text) {
  for (const auto condition : {StreamCondition::host_unknown, StreamCondition::system_shutdown,
                               StreamCondition::undefined_condition}) {
    const StreamError parsed = stream_error_from_element(to_element(StreamError{condition, "why"}));
    BOOST_TEST(static_cast<int>(parsed.condition) == static_cast<int>(condition));
    BOOST_TEST(parsed.text == "why");
  }
}

BOOST_AUTO_TEST_CASE(from_element_maps_unknown_condition_to_undefined) {
  Element error("error", std::string(ns::streams));
  error.append("shiny-new-condition", std::string(ns::stream_errors));
  error.append("text", std::string(ns::stream_errors)).append_text("later spec");
  const StreamError parsed = stream_error_from_element(error);
  BOOST_TEST(static_cast<int>(parsed.condition) ==
             static_cast<int>(StreamCondition::undefined_condition));
  BOOST_TEST(parsed.text == "later spec");
}

BOOST_AUTO_TEST_CASE(from_element_ignores_application_specific_children) {
  Element error("error", std::string(ns::streams));
  error.append("escape-your-data", "urn:example:app");
  error.append_text(" ");
  error.append("text", "urn:example:app").append_text("not this one");
  error.append("invalid-from", std::string(ns::stream_errors));
  const StreamError parsed = stream_error_from_element(error);
  BOOST_TEST(static_cast<int>(parsed.condition) == static_cast<int>(StreamCondition::invalid_from));
  BOOST_TEST(parsed.text.empty());
}

BOOST_AUTO_TEST_CASE(from_empty_element_is_undefined_condition) {
  const StreamError parsed = stream_error_from_element(Element("error", std::string(ns::streams)));
  BOOST_TEST(static_cast<int>(parsed.condition) ==
             static_cast<int>(StreamCondition::undefined_condition));
  BOOST_TEST(parsed.text.empty());
}

BOOST_AUTO_TEST_SUITE_END()
