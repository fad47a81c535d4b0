#include "border_crossing.hpp"
#include "border_notices.hpp"
#include "element.hpp"
#include "network_abilities.hpp"
#include "recent_messages.hpp"
#include "test_adapter.hpp"

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <string>
#include <vector>

using trestle::gateway::BorderNotices;
using trestle::gateway::Carry;
using trestle::gateway::cross_border;
using trestle::gateway::Crossing;
using trestle::gateway::NetworkAbilities;
using trestle::gateway::RecentMessages;
using trestle::gateway_test::stanza;
using Verdict = Crossing::Verdict;
using namespace std::chrono_literals;

namespace {

const std::string user = "alice@example.org";

/// The networks as their adapters declare them.
const NetworkAbilities irc{.network = "IRC", .correction_marker = "* ", .actions = true};
const NetworkAbilities email{.network = "email",
                             .correction_marker = "Correction of my last message:\n\n"};
const NetworkAbilities sms{.network = "SMS", .correction_marker = "* "};

std::string message(const std::string& id, const std::string& payload,
                    const std::string& type = "chat") {
  return "<message id='" + id + "' type='" + type +
         "' from='alice@example.org/phone' to='bob@test.example.org'>" + payload + "</message>";
}

struct Border {
  Crossing cross(const std::string& xml, const NetworkAbilities& abilities = irc) {
    return cross_border(stanza(xml), abilities, recent, user);
  }
  RecentMessages recent{16};
};

std::string body(const Crossing& crossing) {
  return crossing.message.child_text("body");
}

std::vector<std::string> topics(const Crossing& crossing) {
  std::vector<std::string> out;
  for (const auto& notice : crossing.notices) {
    out.push_back(notice.topic);
  }
  return out;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(border_crossing, Border)

BOOST_AUTO_TEST_CASE(a_plain_message_passes_unchanged) {
  const auto crossing = cross(message("m1", "<body>hello</body><active "
                                            "xmlns='http://jabber.org/protocol/chatstates'/>"));
  BOOST_TEST((crossing.verdict == Verdict::pass));
  BOOST_TEST(body(crossing) == "hello");
  BOOST_TEST(crossing.notices.empty());
  // A chat state beside text is left in place; the adapters send only the text.
  BOOST_TEST(crossing.message.find("active", "http://jabber.org/protocol/chatstates") != nullptr);
}

BOOST_AUTO_TEST_CASE(a_reaction_that_also_claims_to_correct_or_reply_goes_as_the_line_only) {
  (void)cross(message("m1", "<body>lunch?</body>"));
  const auto crossing = cross(
      message("m2", "<replace xmlns='urn:xmpp:message-correct:0' id='m1'/>"
                    "<reply xmlns='urn:xmpp:reply:0' id='m1'/><reactions "
                    "xmlns='urn:xmpp:reactions:0' id='m1'><reaction>👍</reaction></reactions>"));
  BOOST_TEST((crossing.verdict == Verdict::pass));
  BOOST_TEST(body(crossing) == "/me reacted 👍 to \"lunch?\"");
  BOOST_TEST(crossing.message.find("replace", "urn:xmpp:message-correct:0") == nullptr);
  BOOST_TEST(crossing.message.find("reply", "urn:xmpp:reply:0") == nullptr);
}

BOOST_AUTO_TEST_CASE(chat_states_markers_and_receipts_alone_are_dropped_quietly) {
  for (const std::string payload :
       {"<composing xmlns='http://jabber.org/protocol/chatstates'/>",
        "<displayed xmlns='urn:xmpp:chat-markers:0' id='x1'/>",
        "<received xmlns='urn:xmpp:receipts' id='x1'/>", "<body></body>",
        "<replace xmlns='urn:xmpp:message-correct:0' id='m0'/>"}) {
    for (const auto* network : {&irc, &email, &sms}) {
      const auto crossing = cross(message("m1", payload), *network);
      BOOST_TEST((crossing.verdict == Verdict::drop), payload);
      BOOST_TEST(crossing.notices.empty(), payload);
    }
    const auto in_room = cross(message("m1", payload, "groupchat"));
    BOOST_TEST((in_room.verdict == Verdict::drop), payload);
  }
}

BOOST_AUTO_TEST_CASE(a_subject_or_an_invitation_without_a_body_passes) {
  for (const std::string payload :
       {"<subject>new topic</subject>", "<subject/>",
        "<x xmlns='http://jabber.org/protocol/muc#user'><invite to='bob@test.example.org'/></x>",
        "<x xmlns='jabber:x:conference' jid='#room@test.example.org'/>"}) {
    const auto crossing = cross(message("m1", payload, "groupchat"));
    BOOST_TEST((crossing.verdict == Verdict::pass), payload);
  }
  // A muc#user element that invites nobody is no content.
  BOOST_TEST((cross(message("m1", "<x xmlns='http://jabber.org/protocol/muc#user'/>")).verdict ==
              Verdict::drop));
}

BOOST_AUTO_TEST_CASE(formatting_is_dropped_and_the_body_wins) {
  const auto crossing = cross(message("m1", "<body>plain *bold*</body><html "
                                            "xmlns='http://jabber.org/protocol/xhtml-im'><body "
                                            "xmlns='http://www.w3.org/1999/xhtml'><b>other</b>"
                                            "</body></html>"));
  BOOST_TEST((crossing.verdict == Verdict::pass));
  BOOST_TEST(body(crossing) == "plain *bold*");
  BOOST_TEST(crossing.message.find("html", "http://jabber.org/protocol/xhtml-im") == nullptr);
  BOOST_TEST(topics(crossing) == std::vector<std::string>{"formatting"});
  BOOST_TEST(crossing.notices[0].text.find("IRC") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(formatting_without_a_body_is_refused) {
  const auto crossing = cross(message("m1", "<html xmlns='http://jabber.org/protocol/xhtml-im'>"
                                            "<body xmlns='http://www.w3.org/1999/xhtml'>x</body>"
                                            "</html>"),
                              sms);
  BOOST_TEST((crossing.verdict == Verdict::refuse));
  BOOST_TEST((crossing.condition == trestle::xmpp::Condition::not_acceptable));
  BOOST_TEST(crossing.error_text.find("SMS") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(native_formatting_is_left_to_the_adapter) {
  auto rich = email;
  rich.formatting = Carry::native;
  const auto crossing = cross(message("m1", "<body>x</body><html "
                                            "xmlns='http://jabber.org/protocol/xhtml-im'/>"),
                              rich);
  BOOST_TEST(crossing.message.find("html", "http://jabber.org/protocol/xhtml-im") != nullptr);
  BOOST_TEST(crossing.notices.empty());
}

BOOST_AUTO_TEST_CASE(a_correction_goes_as_a_new_marked_message) {
  (void)cross(message("m1", "<body>helo</body>"));
  const std::string replace = "<replace xmlns='urn:xmpp:message-correct:0' id='m1'/>";
  const auto on_irc = cross(message("m2", "<body>hello</body>" + replace));
  BOOST_TEST((on_irc.verdict == Verdict::pass));
  BOOST_TEST(body(on_irc) == "* hello");
  BOOST_TEST(on_irc.message.find("replace", "urn:xmpp:message-correct:0") == nullptr);
  BOOST_TEST(topics(on_irc) == std::vector<std::string>{"correction"});
  BOOST_TEST(on_irc.notices[0].text.find("\"*\"") != std::string::npos, on_irc.notices[0].text);
  // The corrected text is what a later reaction quotes.
  BOOST_TEST(*recent.excerpt(user, "m1") == "hello");

  BOOST_TEST(body(cross(message("m3", "<body>hello</body>" + replace), email)) ==
             "Correction of my last message:\n\nhello");
  BOOST_TEST(body(cross(message("m4", "<body>hello</body>" + replace), sms)) == "* hello");
  // An IRC action stays an action.
  BOOST_TEST(body(cross(message("m5", "<body>/me waves</body>" + replace))) == "/me * waves");
}

BOOST_AUTO_TEST_CASE(a_network_may_refuse_corrections) {
  auto strict = sms;
  strict.corrections = Carry::refused;
  const auto crossing = cross(
      message("m2", "<body>x</body><replace xmlns='urn:xmpp:message-correct:0' id='m1'/>"), strict);
  BOOST_TEST((crossing.verdict == Verdict::refuse));
  BOOST_TEST(crossing.error_text.find("cannot be corrected") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_reaction_becomes_a_line_quoting_the_message) {
  (void)cross(message("m1", "<body>lunch at noon?\nsecond line</body>"));
  const auto crossing =
      cross(message("r1", "<reactions xmlns='urn:xmpp:reactions:0' id='m1'>"
                          "<reaction>👍</reaction></reactions><body>👍</body><fallback "
                          "xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reactions:0'/>"));
  BOOST_TEST((crossing.verdict == Verdict::pass));
  BOOST_TEST(body(crossing) == "/me reacted 👍 to \"lunch at noon? second line\"");
  BOOST_TEST(crossing.message.find("reactions", "urn:xmpp:reactions:0") == nullptr);
  BOOST_TEST(crossing.message.find("fallback", "urn:xmpp:fallback:0") == nullptr);
  BOOST_TEST(crossing.notices.empty());
}

BOOST_AUTO_TEST_CASE(a_reaction_to_a_received_message_quotes_it) {
  // What the gateway sent to the user (Router::remember_sent).
  recent.remember(user, stanza("<message id='in1' type='chat' to='alice@example.org/phone' "
                               "from='bob@test.example.org'><body>see you</body></message>"));
  const auto crossing = cross(message("r1", "<reactions xmlns='urn:xmpp:reactions:0' id='in1'>"
                                            "<reaction>❤️</reaction></reactions>"),
                              email);
  BOOST_TEST(body(crossing) == "reacted ❤️ to \"see you\"");
}

BOOST_AUTO_TEST_CASE(a_reaction_line_leaves_the_formatting_and_attachments_behind) {
  const auto crossing = cross(message("r1", "<reactions xmlns='urn:xmpp:reactions:0' id='m1'>"
                                            "<reaction>👍</reaction></reactions><html "
                                            "xmlns='http://jabber.org/protocol/xhtml-im'/><x "
                                            "xmlns='jabber:x:oob'><url>https://a.example/x</url>"
                                            "</x>"));
  BOOST_TEST((crossing.verdict == Verdict::pass));
  BOOST_TEST(crossing.message.find("html", "http://jabber.org/protocol/xhtml-im") == nullptr);
  BOOST_TEST(crossing.message.find("x", "jabber:x:oob") == nullptr);
}

BOOST_AUTO_TEST_CASE(only_new_reactions_go_and_taking_one_back_is_told) {
  const std::string head = "<reactions xmlns='urn:xmpp:reactions:0' id='gone'>";
  const auto first = cross(message("r1", head + "<reaction>👍</reaction></reactions>"), sms);
  BOOST_TEST(body(first) == "reacted 👍 to an earlier message");
  // XEP-0444 sends the whole set: only the new one goes.
  const auto second =
      cross(message("r2", head + "<reaction>👍</reaction><reaction>🎉</reaction></reactions>"), sms);
  BOOST_TEST(body(second) == "reacted 🎉 to an earlier message");
  const auto same =
      cross(message("r3", head + "<reaction>👍</reaction><reaction>🎉</reaction></reactions>"), sms);
  BOOST_TEST((same.verdict == Verdict::drop));
  BOOST_TEST(same.notices.empty());
  const auto removed = cross(message("r4", head + "</reactions>"), sms);
  BOOST_TEST((removed.verdict == Verdict::drop));
  BOOST_TEST(topics(removed) == std::vector<std::string>{"reaction-removed"});
}

BOOST_AUTO_TEST_CASE(reactions_a_network_refuses_are_dropped_with_a_notice) {
  auto plain = sms;
  plain.reactions = Carry::refused;
  const auto crossing = cross(message("r1", "<reactions xmlns='urn:xmpp:reactions:0' id='m1'>"
                                            "<reaction>👍</reaction></reactions>"),
                              plain);
  BOOST_TEST((crossing.verdict == Verdict::drop));
  BOOST_TEST(topics(crossing) == std::vector<std::string>{"reaction"});
}

BOOST_AUTO_TEST_CASE(a_reply_keeps_the_clients_quote) {
  (void)cross(message("m1", "<body>original</body>"));
  const auto crossing =
      cross(message("m2", "<reply xmlns='urn:xmpp:reply:0' to='bob@test.example.org' id='m1'/>"
                          "<body>&gt; original\nanswer</body><fallback xmlns='urn:xmpp:fallback:0' "
                          "for='urn:xmpp:reply:0'><body start='0' end='11'/></fallback>"));
  BOOST_TEST(body(crossing) == "> original\nanswer");
  BOOST_TEST(crossing.message.find("reply", "urn:xmpp:reply:0") == nullptr);
}

BOOST_AUTO_TEST_CASE(a_reply_without_a_quote_gets_a_short_one) {
  (void)cross(message("m1", "<body>a rather long message that goes on and on and on, well past "
                            "the length that a quote should ever have in a reply</body>"));
  const auto crossing =
      cross(message("m2", "<reply xmlns='urn:xmpp:reply:0' id='m1'/><body>agreed</body>"));
  const auto text = body(crossing);
  BOOST_TEST(text.starts_with("> a rather long message"));
  BOOST_TEST(text.ends_with("…\nagreed"), text);
  BOOST_TEST(text.size() <= RecentMessages::excerpt_bytes + 2 + 7);
  // An unknown message cannot be quoted: the answer goes as it is.
  BOOST_TEST(body(cross(message("m3", "<reply xmlns='urn:xmpp:reply:0' id='nope'/>"
                                      "<body>ok</body>"))) == "ok");
}

BOOST_AUTO_TEST_CASE(a_retraction_never_goes_and_the_sender_is_told) {
  (void)cross(message("m1", "<body>oops</body>"));
  for (const auto& payload :
       {std::string("<retract xmlns='urn:xmpp:message-retract:1' id='m1'/><body>This person "
                    "attempted to retract a previous message</body><fallback "
                    "xmlns='urn:xmpp:fallback:0' for='urn:xmpp:message-retract:1'/>"),
        std::string("<apply-to xmlns='urn:xmpp:fasten:0' id='m1'><retract "
                    "xmlns='urn:xmpp:message-retract:0'/></apply-to><body>retracted</body>")}) {
    const auto crossing = cross(message("x1", payload), email);
    BOOST_TEST((crossing.verdict == Verdict::drop));
    BOOST_TEST(topics(crossing) == std::vector<std::string>{"retraction:m1"});
    BOOST_TEST(crossing.notices[0].text ==
               "your message \"oops\" was delivered to email already and cannot be taken back "
               "there");
  }
  BOOST_TEST(cross(message("x2", "<retract xmlns='urn:xmpp:message-retract:1' id='nope'/>"))
                 .notices[0]
                 .text == "the message you retracted was delivered to IRC already and cannot be "
                          "taken back there");
}

BOOST_AUTO_TEST_CASE(out_of_band_urls_are_written_into_the_body) {
  const std::string url = "https://upload.example.org/a/cat.jpg";
  const std::string oob = "<x xmlns='jabber:x:oob'><url>" + url + "</url></x>";
  // Conversations puts the URL in the body too: it is not doubled.
  const auto same = cross(message("m1", "<body>" + url + "</body>" + oob));
  BOOST_TEST(body(same) == url);
  BOOST_TEST(same.message.find("x", "jabber:x:oob") == nullptr);
  BOOST_TEST(body(cross(message("m2", "<body>look</body>" + oob))) == "look\n" + url);
  BOOST_TEST(body(cross(message("m3", oob))) == url);
}

BOOST_AUTO_TEST_CASE(recent_messages_are_bounded) {
  RecentMessages small(3);
  for (int i = 0; i < 5; ++i) {
    small.remember(user, "m" + std::to_string(i), "text " + std::to_string(i));
  }
  BOOST_TEST(small.size() == 3U);
  BOOST_TEST(small.excerpt(user, "m0") == nullptr);
  BOOST_TEST(*small.excerpt(user, "m4") == "text 4");
  BOOST_TEST(small.excerpt("bob@example.org", "m4") == nullptr);
}

BOOST_AUTO_TEST_CASE(notices_come_once_per_interval_and_topic) {
  BorderNotices notices(1h, 2);
  const auto t0 = BorderNotices::Clock::time_point{} + 10h;
  BOOST_TEST(notices.allow(user, "bob@irc", "formatting", t0));
  BOOST_TEST(!notices.allow(user, "bob@irc", "formatting", t0 + 59min));
  BOOST_TEST(notices.allow(user, "bob@irc", "correction", t0));
  BOOST_TEST(notices.allow(user, "bob@irc", "formatting", t0 + 61min));
  // Bounded: a third record pushes the oldest out.
  BOOST_TEST(notices.allow(user, "carol@irc", "formatting", t0));
  BOOST_TEST(notices.size() == 2U);
}

BOOST_AUTO_TEST_SUITE_END()
