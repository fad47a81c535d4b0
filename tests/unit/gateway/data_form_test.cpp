#include "data_form.hpp"
#include "element.hpp"
#include "namespaces.hpp"
#include "test_adapter.hpp"

#include <boost/test/unit_test.hpp>
#include <string>
#include <utility>
#include <vector>

using trestle::gateway::DataForm;
using trestle::gateway::find_form;
using trestle::gateway::FormField;
using trestle::gateway_test::stanza;
using trestle::xmpp::Element;
using trestle::xmpp::serialize;
namespace ns = trestle::xmpp::ns;

namespace {

FormField text_field(std::string var, std::string value = {}) {
  FormField field;
  field.var = std::move(var);
  if (!value.empty()) {
    field.values.push_back(std::move(value));
  }
  return field;
}

DataForm sample_form() {
  DataForm form;
  form.title = "Sign up";
  form.instructions = "Fill this in.";
  auto nick = text_field("nick", "alice");
  nick.label = "Nickname";
  nick.description = "What others see";
  nick.required = true;
  form.fields.push_back(std::move(nick));
  auto password = text_field("password");
  password.type = "text-private";
  form.fields.push_back(std::move(password));
  FormField network;
  network.var = "network";
  network.type = "list-single";
  network.values = {"libera"};
  network.options = {{"Libera.Chat", "libera"}, {"", "oftc"}};
  form.fields.push_back(std::move(network));
  return form;
}

} // namespace

BOOST_AUTO_TEST_SUITE(data_form)

BOOST_AUTO_TEST_CASE(a_form_renders_every_part) {
  const auto x = sample_form().to_element();
  BOOST_TEST(serialize(x) ==
             "<x xmlns='jabber:x:data' type='form'><title>Sign up</title>"
             "<instructions>Fill this in.</instructions>"
             "<field var='nick' type='text-single' label='Nickname'><desc>What others see</desc>"
             "<required/><value>alice</value></field>"
             "<field var='password' type='text-private'/>"
             "<field var='network' type='list-single'><value>libera</value>"
             "<option label='Libera.Chat'><value>libera</value></option>"
             "<option><value>oftc</value></option></field></x>");
}

BOOST_AUTO_TEST_CASE(a_submitted_form_carries_no_types_and_no_required_flags) {
  auto form = sample_form();
  form.type = "submit";
  form.title.clear();
  form.instructions.clear();
  const auto text = serialize(form.to_element());
  BOOST_TEST(text.find("type='text-single'") == std::string::npos);
  BOOST_TEST(text.find("type='list-single'") == std::string::npos);
  BOOST_TEST(text.find("<required/>") == std::string::npos);
  BOOST_TEST(text.find("<title") == std::string::npos);
  BOOST_TEST(text.find("<x xmlns='jabber:x:data' type='submit'>") == 0U);
  BOOST_TEST(text.find("<field var='nick' label='Nickname'>") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_result_form_carries_no_required_flags) {
  auto form = sample_form();
  form.type = "result";
  const auto text = serialize(form.to_element());
  BOOST_TEST(text.find("<required/>") == std::string::npos);
  BOOST_TEST(text.find("type='text-single'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(form_type_is_the_first_hidden_field) {
  auto form = sample_form();
  form.with_form_type(ns::register_);
  BOOST_TEST_REQUIRE(form.fields.size() == 4U);
  BOOST_TEST(form.fields.front().var == "FORM_TYPE");
  BOOST_TEST(form.fields.front().type == "hidden");
  BOOST_TEST(form.value("FORM_TYPE") == "jabber:iq:register");
  BOOST_TEST(serialize(form.to_element())
                 .find("<field var='FORM_TYPE' type='hidden'><value>jabber:iq:register</value>") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(value_and_field_look_fields_up_by_var) {
  auto form = sample_form();
  form.fields.push_back(text_field("nick", "second"));
  BOOST_TEST(form.value("nick") == "alice"); // the first field and value win
  BOOST_TEST(form.value("password").empty());
  BOOST_TEST(form.value("missing").empty());
  BOOST_TEST(form.field("missing") == nullptr);
  BOOST_TEST_REQUIRE(form.field("network") != nullptr);
  BOOST_TEST(form.field("network")->type == "list-single");
}

BOOST_AUTO_TEST_CASE(parse_reads_a_received_form) {
  const auto iq =
      stanza("<iq type='set' id='1'><query xmlns='jabber:iq:register'>"
             "<x xmlns='jabber:x:data' type='submit'>"
             "<field var='FORM_TYPE' type='hidden'><value>jabber:iq:register</value>"
             "</field>"
             "<field var='nick'><value>alice</value></field>"
             "<field var='rooms' type='text-multi' label='Rooms'><desc>One a line</desc>"
             "<required/><value>#a</value><value>#b</value></field>"
             "<field var='empty'/>"
             "</x></query></iq>");
  const auto form = find_form(*iq.first_element());
  BOOST_TEST_REQUIRE(form.has_value());
  BOOST_TEST(form->type == "submit");
  BOOST_TEST_REQUIRE(form->fields.size() == 4U);
  BOOST_TEST(form->value("FORM_TYPE") == "jabber:iq:register");
  BOOST_TEST(form->value("nick") == "alice");
  const auto* rooms = form->field("rooms");
  BOOST_TEST_REQUIRE(rooms != nullptr);
  BOOST_TEST(rooms->type == "text-multi");
  BOOST_TEST(rooms->label == "Rooms");
  BOOST_TEST(rooms->description == "One a line");
  BOOST_TEST(rooms->required);
  BOOST_TEST(rooms->values == (std::vector<std::string>{"#a", "#b"}),
             boost::test_tools::per_element());
  BOOST_TEST(!form->field("nick")->required);
  BOOST_TEST(form->field("empty")->values.empty());
}

BOOST_AUTO_TEST_CASE(parse_defaults_a_missing_type_to_form) {
  const auto form = DataForm::parse(Element("x", std::string(ns::data_forms)));
  BOOST_TEST_REQUIRE(form.has_value());
  BOOST_TEST(form->type == "form");
  BOOST_TEST(form->fields.empty());
}

BOOST_AUTO_TEST_CASE(parse_refuses_what_is_not_a_data_form) {
  BOOST_TEST(!DataForm::parse(Element("x", "jabber:x:oob")).has_value());
  BOOST_TEST(!DataForm::parse(Element("form", std::string(ns::data_forms))).has_value());
}

BOOST_AUTO_TEST_CASE(a_form_survives_a_round_trip) {
  const auto original = sample_form();
  const auto parsed = DataForm::parse(original.to_element());
  BOOST_TEST_REQUIRE(parsed.has_value());
  BOOST_TEST(parsed->title == original.title);
  BOOST_TEST(parsed->instructions == original.instructions);
  BOOST_TEST_REQUIRE(parsed->fields.size() == original.fields.size());
  for (std::size_t i = 0; i < original.fields.size(); ++i) {
    const auto& want = original.fields[i];
    const auto& got = parsed->fields[i];
    BOOST_TEST_CONTEXT("field " << want.var) {
      BOOST_TEST(got.var == want.var);
      BOOST_TEST(got.type == want.type);
      BOOST_TEST(got.label == want.label);
      BOOST_TEST(got.description == want.description);
      BOOST_TEST(got.required == want.required);
      BOOST_TEST(got.values == want.values, boost::test_tools::per_element());
      BOOST_TEST_REQUIRE(got.options.size() == want.options.size());
      for (std::size_t j = 0; j < want.options.size(); ++j) {
        BOOST_TEST(got.options[j].first == want.options[j].first);
        BOOST_TEST(got.options[j].second == want.options[j].second);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(find_form_needs_the_data_forms_namespace) {
  const auto with = stanza("<message><x xmlns='jabber:x:oob'><url>u</url></x>"
                           "<x xmlns='jabber:x:data' type='result'/></message>");
  const auto form = find_form(with);
  BOOST_TEST_REQUIRE(form.has_value());
  BOOST_TEST(form->type == "result");
  BOOST_TEST(!find_form(stanza("<message><x xmlns='jabber:x:oob'/></message>")).has_value());
  BOOST_TEST(!find_form(stanza("<message><body>x</body></message>")).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
