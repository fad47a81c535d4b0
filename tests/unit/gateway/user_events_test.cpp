#include "bridge.hpp"
#include "test_adapter.hpp"
#include "user_events.hpp"

#include <boost/test/unit_test.hpp>
#include <variant>

using trestle::gateway::ContactRequest;
using trestle::gateway::MessageType;
using trestle::gateway::read_user_event;
using trestle::gateway::UserMessage;
using trestle::gateway::UserPresence;
using trestle::gateway_test::stanza;

BOOST_AUTO_TEST_SUITE(user_events)

BOOST_AUTO_TEST_CASE(a_message_is_read_once_into_its_parts) {
  const auto event = read_user_event(stanza(
      "<message from='alice@example.org/phone' to='bob@test.example.org' type='chat' id='m1'>"
      "<body>hi</body><subject>topic</subject><thread>t1</thread>"
      "<request xmlns='urn:xmpp:receipts'/></message>"));
  BOOST_REQUIRE(event.has_value());
  const auto* message = std::get_if<UserMessage>(&*event);
  BOOST_REQUIRE(message != nullptr);
  BOOST_TEST(message->from.to_string() == "alice@example.org/phone");
  BOOST_TEST(message->to.to_string() == "bob@test.example.org");
  BOOST_TEST((message->type == MessageType::chat));
  BOOST_TEST(message->id == "m1");
  BOOST_TEST(message->body == "hi");
  BOOST_TEST(message->subject.value_or("") == "topic");
  BOOST_TEST(message->thread == "t1");
  BOOST_TEST(message->receipt_requested);
}

BOOST_AUTO_TEST_CASE(an_empty_subject_is_kept_apart_from_none) {
  const auto with = read_user_event(
      stanza("<message from='a@example.org/r' to='#c@test.example.org' type='groupchat'>"
             "<subject/></message>"));
  BOOST_TEST(std::get<UserMessage>(*with).subject.has_value());
  const auto without = read_user_event(
      stanza("<message from='a@example.org/r' to='#c@test.example.org' type='groupchat'>"
             "<body>x</body></message>"));
  BOOST_TEST(!std::get<UserMessage>(*without).subject.has_value());
}

BOOST_AUTO_TEST_CASE(an_unknown_message_type_is_normal_and_an_error_is_nothing) {
  const auto odd = read_user_event(
      stanza("<message from='a@example.org/r' to='b@test.example.org' type='weird'/>"));
  BOOST_TEST((std::get<UserMessage>(*odd).type == MessageType::normal));
  BOOST_TEST(!read_user_event(
      stanza("<message from='a@example.org/r' to='b@test.example.org' type='error'/>")));
}

BOOST_AUTO_TEST_CASE(presence_types_are_read_and_unknown_ones_are_nothing) {
  const auto away =
      read_user_event(stanza("<presence from='a@example.org/r' to='b@test.example.org'>"
                             "<show>away</show><status>lunch</status></presence>"));
  const auto& presence = std::get<UserPresence>(*away);
  BOOST_TEST((presence.type == UserPresence::Type::available));
  BOOST_TEST(presence.show == "away");
  BOOST_TEST(presence.status == "lunch");
  const auto probe = read_user_event(
      stanza("<presence from='a@example.org/r' to='b@test.example.org' type='probe'/>"));
  BOOST_TEST((std::get<UserPresence>(*probe).type == UserPresence::Type::probe));
  BOOST_TEST(!read_user_event(
      stanza("<presence from='a@example.org/r' to='b@test.example.org' type='bogus'/>")));
  // A client's refusal of a room's presence means it is not in the room.
  const auto refused = read_user_event(
      stanza("<presence from='a@example.org/r' to='b@test.example.org' type='error'/>"));
  BOOST_TEST((std::get<UserPresence>(*refused).type == UserPresence::Type::error));
}

BOOST_AUTO_TEST_CASE(a_room_join_carries_its_password_and_history_request) {
  const auto event = read_user_event(
      stanza("<presence from='a@example.org/r' to='#c@test.example.org/al'>"
             "<x xmlns='http://jabber.org/protocol/muc'><password>pw</password>"
             "<history maxstanzas='20' seconds='x' since='2026-12-01T00:00:00Z'/></x></presence>"));
  const auto& presence = std::get<UserPresence>(*event);
  BOOST_REQUIRE(presence.join.has_value());
  BOOST_TEST(presence.join->password == "pw");
  BOOST_TEST(presence.join->max_stanzas.value_or(-1) == 20);
  BOOST_TEST(!presence.join->seconds.has_value()); // not a number: as if not asked
  BOOST_TEST(!presence.join->max_chars.has_value());
  BOOST_TEST(presence.join->since == "2026-12-01T00:00:00Z");
  const auto plain =
      read_user_event(stanza("<presence from='a@example.org/r' to='#c@test.example.org/al'/>"));
  BOOST_TEST(!std::get<UserPresence>(*plain).join.has_value());
}

BOOST_AUTO_TEST_CASE(invitations_are_read_with_their_addresses) {
  const auto mediated = read_user_event(
      stanza("<message from='a@example.org/r' to='#c@test.example.org'>"
             "<x xmlns='http://jabber.org/protocol/muc#user'><invite to='bob@test.example.org'/>"
             "</x></message>"));
  const auto& invite = std::get<UserMessage>(*mediated).invite;
  BOOST_REQUIRE(invite.has_value());
  BOOST_TEST(invite->jid.value().to_string() == "bob@test.example.org");
  const auto direct =
      read_user_event(stanza("<message from='a@example.org/r' to='bob@test.example.org'>"
                             "<x xmlns='jabber:x:conference' jid='@@'/></message>"));
  const auto& room = std::get<UserMessage>(*direct).room_invitation;
  BOOST_REQUIRE(room.has_value());
  BOOST_TEST(!room->jid.has_value()); // present, but no valid JID
}

BOOST_AUTO_TEST_CASE(a_command_step_and_role_changes_are_read) {
  const auto command = read_user_event(
      stanza("<iq type='set' id='c1' from='a@example.org/r' to='irc.example.net@test.example.org'>"
             "<command xmlns='http://jabber.org/protocol/commands' node='configure' "
             "sessionid='s1' action='complete'><x xmlns='jabber:x:data' type='submit'>"
             "<field var='nick'><value>al</value></field></x></command></iq>"));
  const auto& step = std::get<ContactRequest>(*command);
  BOOST_TEST((step.asks == ContactRequest::Asks::command));
  BOOST_TEST(step.node == "configure");
  BOOST_TEST(step.action == "complete");
  BOOST_TEST(step.session_id == "s1");
  BOOST_REQUIRE(step.form.has_value());
  BOOST_TEST(step.form->value("nick") == "al");
  const auto admin = read_user_event(
      stanza("<iq type='set' id='a1' from='a@example.org/r' to='#c@test.example.org'>"
             "<query xmlns='http://jabber.org/protocol/muc#admin'>"
             "<item nick='bob' role='none'><reason>spam</reason></item>"
             "<item nick='eve' affiliation='outcast'/></query></iq>"));
  const auto& changes = std::get<ContactRequest>(*admin).role_changes;
  BOOST_REQUIRE(changes.size() == 2u);
  BOOST_TEST(changes[0].nick == "bob");
  BOOST_TEST(changes[0].role == "none");
  BOOST_TEST(changes[0].reason == "spam");
  BOOST_TEST(!changes[0].affiliation);
  BOOST_TEST(changes[1].affiliation);
}

BOOST_AUTO_TEST_CASE(requests_say_what_they_ask_and_answers_are_nothing) {
  const auto disco = read_user_event(
      stanza("<iq from='a@example.org/r' to='b@test.example.org' type='get' id='q1'>"
             "<query xmlns='http://jabber.org/protocol/disco#info' node='n'/></iq>"));
  const auto& request = std::get<ContactRequest>(*disco);
  BOOST_TEST((request.asks == ContactRequest::Asks::disco_info));
  BOOST_TEST(request.node == "n");
  BOOST_TEST(!request.set);
  BOOST_TEST(request.id == "q1");
  const auto other = read_user_event(
      stanza("<iq from='a@example.org/r' to='b@test.example.org' type='set' id='q2'>"
             "<query xmlns='urn:example:unknown'/></iq>"));
  BOOST_TEST((std::get<ContactRequest>(*other).asks == ContactRequest::Asks::other));
  BOOST_TEST(std::get<ContactRequest>(*other).set);
  BOOST_TEST(!read_user_event(
      stanza("<iq from='a@example.org/r' to='b@test.example.org' type='result' id='q3'/>")));
  BOOST_TEST(!read_user_event(
      stanza("<iq from='a@example.org/r' to='b@test.example.org' type='get' id='q4'/>")));
}

BOOST_AUTO_TEST_CASE(an_event_without_valid_addresses_is_nothing) {
  BOOST_TEST(!read_user_event(stanza("<message to='b@test.example.org'><body>x</body></message>")));
  BOOST_TEST(
      !read_user_event(stanza("<message from='a@example.org/r' to='@@'><body>x</body></message>")));
}

BOOST_AUTO_TEST_CASE(error_replies_come_from_the_address_with_the_id_and_the_body) {
  const auto event = read_user_event(
      stanza("<message from='alice@example.org/phone' to='bob@test.example.org' type='chat' "
             "id='m1'><body>hi</body></message>"));
  const auto reply = trestle::gateway::Bridge::error_reply(
      *event, trestle::xmpp::make_stanza_error(trestle::xmpp::Condition::not_acceptable, "no"));
  BOOST_TEST(reply.name() == "message");
  BOOST_TEST(reply.attr_or("type") == "error");
  BOOST_TEST(reply.attr_or("from") == "bob@test.example.org");
  BOOST_TEST(reply.attr_or("to") == "alice@example.org/phone");
  BOOST_TEST(reply.attr_or("id") == "m1");
  BOOST_TEST(reply.child_text("body") == "hi");
  BOOST_TEST(trestle::gateway_test::condition_of(reply) == "not-acceptable");
}

BOOST_AUTO_TEST_SUITE_END()
