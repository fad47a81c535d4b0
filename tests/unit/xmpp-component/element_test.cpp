#include "element.hpp"
#include "namespaces.hpp"

#include <boost/test/unit_test.hpp>
#include <string>

using trestle::xmpp::Element;
using trestle::xmpp::escape_xml;
using trestle::xmpp::serialize;
using trestle::xmpp::serialize_to;
namespace ns = trestle::xmpp::ns;

BOOST_AUTO_TEST_SUITE(element)

BOOST_AUTO_TEST_CASE(attributes_keep_order_and_replace_in_place) {
  Element e("message");
  e.set_attr("to", "a@b").set_attr("type", "chat").set_attr("to", "c@d");
  BOOST_TEST(e.attributes().size() == 2u);
  BOOST_TEST(e.attributes()[0].first == "to");
  BOOST_TEST(e.attributes()[0].second == "c@d");
  BOOST_TEST(e.attributes()[1].first == "type");
  BOOST_TEST(*e.attr("type") == "chat");
  BOOST_TEST(!e.attr("from").has_value());
  BOOST_TEST(e.attr_or("from", "x") == "x");
  BOOST_TEST(e.attr_or("from").empty());
  BOOST_TEST(e.attr_or("type", "x") == "chat");
  BOOST_TEST(e.remove_attr("to"));
  BOOST_TEST(!e.remove_attr("to"));
  BOOST_TEST(e.attributes().size() == 1u);
}

BOOST_AUTO_TEST_CASE(present_but_empty_attribute_is_not_missing) {
  Element e("iq");
  e.set_attr("id", "");
  BOOST_TEST(e.attr("id").has_value());
  BOOST_TEST(e.attr_or("id", "fallback").empty());
}

BOOST_AUTO_TEST_CASE(text_nodes_merge_and_concatenate) {
  Element body("body");
  body.append_text("Hello, ").append_text("world");
  BOOST_TEST(body.nodes().size() == 1u);
  BOOST_TEST(body.nodes()[0].is_text());
  BOOST_TEST(body.text() == "Hello, world");
  body.append("br");
  body.append_text("!");
  BOOST_TEST(body.nodes().size() == 3u);
  BOOST_TEST(body.text() == "Hello, world!");
  body.append_text("");
  BOOST_TEST(body.nodes().size() == 3u);
  BOOST_TEST(Element::text_node("raw").text() == "raw");
  BOOST_TEST(Element::text_node("raw").is_text());
  BOOST_TEST(!body.is_text());
  body.clear_children();
  BOOST_TEST(body.nodes().empty());
  BOOST_TEST(body.text().empty());
}

BOOST_AUTO_TEST_CASE(find_matches_name_and_effective_namespace) {
  Element message("message", std::string(ns::component));
  message.append("body").append_text("inherited");
  message.append("body", std::string(ns::component)).append_text("explicit");
  message.append("request", std::string(ns::receipts));
  message.append_text("stray");

  BOOST_TEST(message.find("body")->text() == "inherited");
  // An empty xmlns inherits the parent's, so both bodies are in the component namespace.
  BOOST_TEST(message.find("body", ns::component)->text() == "inherited");
  BOOST_TEST(message.find_all("body", ns::component).size() == 2u);
  BOOST_TEST(message.find("body", ns::receipts) == nullptr);
  BOOST_TEST(message.find("request", ns::receipts) != nullptr);
  BOOST_TEST(message.find("request", ns::component) == nullptr);
  BOOST_TEST(message.find("missing") == nullptr);
  BOOST_TEST(message.child_text("body") == "inherited");
  BOOST_TEST(message.child_text("missing").empty());
  BOOST_TEST(message.first_element()->name() == "body");

  Element* mutable_body = message.find("body");
  mutable_body->set_attr("xml:lang", "en");
  BOOST_TEST(*message.find("body")->attr("xml:lang") == "en");
}

BOOST_AUTO_TEST_CASE(first_element_skips_text_and_may_be_absent) {
  Element iq("iq");
  iq.append_text("  ");
  BOOST_TEST(iq.first_element() == nullptr);
  iq.append("query", std::string(ns::disco_info));
  BOOST_TEST(iq.first_element()->xmlns() == ns::disco_info);
}

BOOST_AUTO_TEST_CASE(remove_children_by_name_and_namespace) {
  Element message("message", std::string(ns::component));
  message.append("body");
  message.append("x", "jabber:x:oob");
  message.append("x", "jabber:x:data");
  message.append("body", "urn:other");
  BOOST_TEST(message.remove_children("x", "jabber:x:oob") == 1u);
  BOOST_TEST(message.remove_children("body", ns::component) == 1u);
  BOOST_TEST(message.nodes().size() == 2u);
  BOOST_TEST(message.remove_children("missing") == 0u);
  BOOST_TEST(message.remove_children("body") == 1u);
  BOOST_TEST(message.nodes().size() == 1u);
  BOOST_TEST(message.nodes()[0].xmlns() == "jabber:x:data");
}

BOOST_AUTO_TEST_CASE(escape_covers_the_five_markup_characters) {
  BOOST_TEST(escape_xml("a&b<c>d'e\"f") == "a&amp;b&lt;c&gt;d&apos;e&quot;f");
  BOOST_TEST(escape_xml("plain é 日本") == "plain é 日本");
  BOOST_TEST(escape_xml("&amp;") == "&amp;amp;");
  BOOST_TEST(escape_xml("") == "");
  // A raw CR would come back as LF after parsing.
  BOOST_TEST(escape_xml("a\r\nb") == "a&#13;\nb");
}

BOOST_AUTO_TEST_CASE(serialize_empty_element_self_closes) {
  BOOST_TEST(serialize(Element("handshake")) == "<handshake/>");
  BOOST_TEST(serialize(Element("ping", std::string(ns::ping))) == "<ping xmlns='urn:xmpp:ping'/>");
}

BOOST_AUTO_TEST_CASE(serialize_escapes_text_and_single_quoted_attributes) {
  Element message("message");
  message.set_attr("to", "a'b\"c&d<e>f").set_attr("id", "tab\there\nnl");
  message.append("body").append_text("<&>'\"");
  BOOST_TEST(serialize(message) ==
             "<message to='a&apos;b&quot;c&amp;d&lt;e&gt;f' id='tab&#9;here&#10;nl'>"
             "<body>&lt;&amp;&gt;&apos;&quot;</body></message>");
}

BOOST_AUTO_TEST_CASE(serialize_writes_xmlns_only_where_it_changes) {
  Element iq("iq", std::string(ns::component));
  iq.set_attr("type", "result");
  Element& query = iq.append("query", std::string(ns::disco_info));
  query.append("identity", std::string(ns::disco_info)).set_attr("category", "gateway");
  query.append("feature").set_attr("var", "urn:xmpp:ping");
  iq.append("error", std::string(ns::component));

  BOOST_TEST(serialize(iq, ns::component) ==
             "<iq type='result'><query xmlns='http://jabber.org/protocol/disco#info'>"
             "<identity category='gateway'/><feature var='urn:xmpp:ping'/></query>"
             "<error/></iq>");
  BOOST_TEST(serialize(iq) == "<iq xmlns='jabber:component:accept' type='result'>"
                              "<query xmlns='http://jabber.org/protocol/disco#info'>"
                              "<identity category='gateway'/><feature var='urn:xmpp:ping'/></query>"
                              "<error/></iq>");
}

BOOST_AUTO_TEST_CASE(serialize_of_text_node_is_escaped_text) {
  BOOST_TEST(serialize(Element::text_node("a<b")) == "a&lt;b");
}

BOOST_AUTO_TEST_CASE(serialize_to_appends) {
  std::string out = "<stream>";
  serialize_to(out, Element("a", "urn:a"), "urn:a");
  serialize_to(out, Element("b", "urn:b"), "urn:a");
  BOOST_TEST(out == "<stream><a/><b xmlns='urn:b'/>");
}

BOOST_AUTO_TEST_CASE(serialize_keeps_node_order) {
  Element p("p");
  p.append_text("one ");
  p.append("b").append_text("two");
  p.append_text(" three");
  BOOST_TEST(serialize(p) == "<p>one <b>two</b> three</p>");
}

BOOST_AUTO_TEST_SUITE_END()
