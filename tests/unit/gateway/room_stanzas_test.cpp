#include "element.hpp"
#include "jid.hpp"
#include "room_stanzas.hpp"

#include <boost/test/unit_test.hpp>
#include <string>
#include <utility>
#include <vector>

using trestle::gateway::groupchat_message;
using trestle::gateway::MucOccupant;
using trestle::gateway::occupant_presence;
using trestle::gateway::PresenceDetails;
using trestle::gateway::room_subject;
using trestle::xmpp::Jid;
using trestle::xmpp::serialize;
namespace muc_status = trestle::gateway::muc_status;

namespace {

const Jid room = *Jid::parse("#chan%irc.example.net@irc.example.org");
const Jid user = *Jid::parse("alice@example.org/phone");

MucOccupant occupant(std::string_view nick, std::string_view role = "participant",
                     std::string_view affiliation = "none", std::string_view show = {}) {
  MucOccupant out;
  out.nick = nick;
  out.role = role;
  out.affiliation = affiliation;
  out.show = show;
  return out;
}

PresenceDetails with_codes(std::vector<int> codes) {
  PresenceDetails details;
  details.status_codes = std::move(codes);
  return details;
}

} // namespace

BOOST_AUTO_TEST_SUITE(room_stanzas)

BOOST_AUTO_TEST_CASE(self_presence_carries_role_affiliation_and_110) {
  const auto presence = occupant_presence(room, user, occupant("alice", "moderator", "admin"), true,
                                          with_codes({muc_status::self}));
  BOOST_TEST(serialize(presence) ==
             "<presence from='#chan%irc.example.net@irc.example.org/alice' "
             "to='alice@example.org/phone'><x xmlns='http://jabber.org/protocol/muc#user'>"
             "<item affiliation='admin' role='moderator'/><status code='110'/></x></presence>");
}

BOOST_AUTO_TEST_CASE(away_occupant_shows_away) {
  const auto presence =
      occupant_presence(room, user, occupant("bob", "participant", "none", "away"), true);
  BOOST_TEST(serialize(presence).find("<show>away</show>") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(part_is_unavailable_with_role_none_and_reason) {
  PresenceDetails details;
  details.status_text = "gone <for> lunch & more";
  const auto presence =
      occupant_presence(room, user, occupant("bob", "participant", "member"), false, details);
  BOOST_TEST(serialize(presence) == "<presence from='#chan%irc.example.net@irc.example.org/bob' "
                                    "to='alice@example.org/phone' type='unavailable'>"
                                    "<status>gone &lt;for&gt; lunch &amp; more</status>"
                                    "<x xmlns='http://jabber.org/protocol/muc#user'>"
                                    "<item affiliation='member' role='none'/></x></presence>");
}

BOOST_AUTO_TEST_CASE(nick_change_carries_303_and_the_new_nick) {
  auto renamed = with_codes({muc_status::nick_changed});
  renamed.new_nick = "bobby";
  const auto presence = occupant_presence(room, user, occupant("bob"), false, renamed);
  const auto text = serialize(presence);
  BOOST_TEST(text.find("type='unavailable'") != std::string::npos);
  BOOST_TEST(text.find("<item affiliation='none' role='none' nick='bobby'/>") != std::string::npos);
  BOOST_TEST(text.find("<status code='303'/>") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(kick_carries_307_actor_and_reason) {
  PresenceDetails details;
  details.status_codes = {muc_status::kicked, muc_status::self};
  details.actor = "op";
  details.reason = "flooding";
  const auto text = serialize(occupant_presence(room, user, occupant("alice"), false, details));
  BOOST_TEST(text.find("<item affiliation='none' role='none'><actor nick='op'/>"
                       "<reason>flooding</reason></item>") != std::string::npos);
  BOOST_TEST(text.find("<status code='307'/><status code='110'/>") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_nick_that_is_no_resourcepart_gives_nothing) {
  // U+0000 cannot be in a JID; an IRC server would never send it, but a
  // hostile one must not make us build a broken stanza.
  const auto presence = occupant_presence(room, user, occupant(std::string_view("a\0b", 3)), true);
  BOOST_TEST(presence.name().empty());
}

BOOST_AUTO_TEST_CASE(subject_from_the_setter_or_the_room) {
  BOOST_TEST(serialize(room_subject(room, user, "topic & more", "op")) ==
             "<message from='#chan%irc.example.net@irc.example.org/op' "
             "to='alice@example.org/phone' type='groupchat'>"
             "<subject>topic &amp; more</subject></message>");
  // An empty subject is still sent: it clears the subject.
  BOOST_TEST(serialize(room_subject(room, user, "", "")) ==
             "<message from='#chan%irc.example.net@irc.example.org' "
             "to='alice@example.org/phone' type='groupchat'><subject/></message>");
}

BOOST_AUTO_TEST_CASE(groupchat_keeps_the_id_and_adds_a_stanza_id_and_a_delay_for_server_time) {
  const auto message =
      groupchat_message(room, "bob", user, "hi", "abc-1", "2026-11-24T12:00:00.000Z");
  const auto* stanza_id = message.find("stanza-id", "urn:xmpp:sid:0");
  BOOST_TEST_REQUIRE(stanza_id != nullptr);
  BOOST_TEST(stanza_id->attr_or("by") == "#chan%irc.example.net@irc.example.org");
  const auto sid = stanza_id->attr_or("id");
  BOOST_TEST(sid.size() == 24U);
  BOOST_TEST(serialize(message) ==
             "<message from='#chan%irc.example.net@irc.example.org/bob' "
             "to='alice@example.org/phone' type='groupchat' id='abc-1'><body>hi</body>"
             "<stanza-id xmlns='urn:xmpp:sid:0' by='#chan%irc.example.net@irc.example.org' id='" +
                 sid +
                 "'/><delay xmlns='urn:xmpp:delay' from='#chan%irc.example.net@irc.example.org' "
                 "stamp='2026-11-24T12:00:00.000Z'/></message>");
  // Without an id of its own a message takes its stanza-id, so that clients
  // can react and reply to it; each message has a new one.
  const auto plain = groupchat_message(room, "bob", user, "hi", "");
  BOOST_TEST(plain.attr_or("id") == plain.find("stanza-id", "urn:xmpp:sid:0")->attr_or("id"));
  BOOST_TEST(plain.attr_or("id") != sid);
  BOOST_TEST(plain.find("delay", "urn:xmpp:delay") == nullptr);
}

BOOST_AUTO_TEST_SUITE_END()
