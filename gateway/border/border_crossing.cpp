#include "border_crossing.hpp"

#include "recent_messages.hpp"
#include "text_excerpt.hpp"

#include <algorithm>
#include <string>
#include <utility>

namespace trestle::gateway {

namespace {

using Verdict = Crossing::Verdict;

namespace ns {
constexpr std::string_view xhtml_im = "http://jabber.org/protocol/xhtml-im";
constexpr std::string_view correction = "urn:xmpp:message-correct:0";
constexpr std::string_view reactions = "urn:xmpp:reactions:0";
constexpr std::string_view reply = "urn:xmpp:reply:0";
constexpr std::string_view fallback = "urn:xmpp:fallback:0";
constexpr std::string_view retract = "urn:xmpp:message-retract:1";
constexpr std::string_view retract_0 = "urn:xmpp:message-retract:0";
constexpr std::string_view fasten = "urn:xmpp:fasten:0";
constexpr std::string_view oob = "jabber:x:oob";
constexpr std::string_view muc_user = "http://jabber.org/protocol/muc#user";
constexpr std::string_view conference = "jabber:x:conference";
} // namespace ns

/// Bytes of a reaction's text that go out at most (one emoji is a few; a
/// client may send any text).
constexpr std::size_t max_reaction_bytes = 32;
/// Reactions in one message that go out at most.
constexpr std::size_t max_reactions = 10;

std::string body_of(const xmpp::Element& message) {
  return message.child_text("body");
}

void set_body(xmpp::Element& message, std::string_view text) {
  auto* body = message.find("body");
  if (body == nullptr) {
    body = &message.append("body");
  }
  body->clear_children();
  body->append_text(text);
}

/// The id a XEP-0424 retraction names (version 1, or version 0 inside a
/// XEP-0422 `<apply-to/>`), or nullopt when `message` is none.
std::optional<std::string> retracted_id(const xmpp::Element& message) {
  if (const auto* retract = message.find("retract", ns::retract)) {
    return retract->attr_or("id");
  }
  if (const auto* apply_to = message.find("apply-to", ns::fasten);
      apply_to != nullptr && apply_to->find("retract", ns::retract_0) != nullptr) {
    return apply_to->attr_or("id");
  }
  return std::nullopt;
}

/// Removes the XEP-0428 fallback markers for `feature`.
void remove_fallbacks(xmpp::Element& message, std::string_view feature) {
  message.remove_children_unless("fallback", ns::fallback, [&](const xmpp::Element& element) {
    return element.attr_or("for") != feature;
  });
}

bool has_fallback(const xmpp::Element& message, std::string_view feature) {
  const auto fallbacks = message.find_all("fallback", ns::fallback);
  return std::any_of(fallbacks.begin(), fallbacks.end(),
                     [&](const auto* element) { return element->attr_or("for") == feature; });
}

std::string quoted(const std::string* excerpt, std::string_view unknown) {
  if (excerpt == nullptr) {
    return std::string(unknown);
  }
  std::string text = "\"";
  text.append(*excerpt).push_back('"');
  return text;
}

void retraction(Crossing& crossing, const std::string& id, const NetworkAbilities& abilities,
                const RecentMessages& recent, std::string_view user) {
  crossing.verdict = Verdict::drop;
  const auto* excerpt = recent.excerpt(user, id);
  const std::string which =
      excerpt == nullptr ? "the message you retracted" : "your message " + quoted(excerpt, "");
  crossing.notices.push_back({"retraction:" + id, which + " was delivered to " +
                                                      std::string(abilities.network) +
                                                      " already and cannot be taken back there"});
}

/// The reactions of a XEP-0444 `<reactions/>`, cleaned, at most max_reactions.
std::vector<std::string> reaction_texts(const xmpp::Element& reactions) {
  std::vector<std::string> out;
  for (const auto* reaction : reactions.find_all("reaction", ns::reactions)) {
    auto text = xmpp::one_line(reaction->text(), max_reaction_bytes);
    if (!text.empty() && std::find(out.begin(), out.end(), text) == out.end() &&
        out.size() < max_reactions) {
      out.push_back(std::move(text));
    }
  }
  return out;
}

void reaction(Crossing& crossing, const xmpp::Element& reactions, const NetworkAbilities& abilities,
              RecentMessages& recent, std::string_view user) {
  const std::string network(abilities.network);
  if (abilities.reactions == Carry::refused) {
    crossing.verdict = Verdict::drop;
    crossing.notices.push_back({"reaction", "reactions cannot reach " + network});
    return;
  }
  const auto id = reactions.attr_or("id");
  auto now = reaction_texts(reactions);
  const auto before = recent.swap_reactions(user, id, now);
  std::vector<std::string> added;
  for (const auto& text : now) {
    if (std::find(before.begin(), before.end(), text) == before.end()) {
      added.push_back(text);
    }
  }
  const bool removed = std::any_of(before.begin(), before.end(), [&](const auto& text) {
    return std::find(now.begin(), now.end(), text) == now.end();
  });
  if (removed) {
    crossing.notices.push_back(
        {"reaction-removed",
         "taking a reaction back cannot reach " + network + "; the other side still sees it"});
  }
  if (added.empty()) {
    crossing.verdict = Verdict::drop;
    return;
  }
  std::string line = abilities.actions ? "/me reacted " : "reacted ";
  for (std::size_t i = 0; i < added.size(); ++i) {
    line.append(i == 0 ? "" : " ").append(added[i]);
  }
  line.append(" to ").append(quoted(recent.excerpt(user, id), "an earlier message"));
  auto& message = crossing.message;
  message.remove_children("reactions", ns::reactions);
  remove_fallbacks(message, ns::reactions);
  set_body(message, line);
}

void correction(Crossing& crossing, const std::string& replaced, const NetworkAbilities& abilities,
                RecentMessages& recent, std::string_view user) {
  const std::string network(abilities.network);
  auto& message = crossing.message;
  const auto body = body_of(message);
  if (abilities.corrections == Carry::refused) {
    crossing.verdict = Verdict::refuse;
    crossing.error_text = "a sent " + network +
                          " message cannot be corrected, so the correction was not sent; write "
                          "the fixed text as a new message";
    return;
  }
  message.remove_children("replace", ns::correction);
  if (body.empty()) {
    return; // nothing to send: dropped with the other messages without content
  }
  recent.remember(user, replaced, body);
  constexpr std::string_view me = "/me ";
  std::string text;
  if (abilities.actions && body.starts_with(me)) {
    text.append(me).append(abilities.correction_marker).append(body.substr(me.size()));
  } else {
    text.append(abilities.correction_marker).append(body);
  }
  set_body(message, text);
  crossing.notices.push_back(
      {"correction", "a message sent to " + network +
                         " cannot be changed: corrections go as a new message starting with \"" +
                         std::string(xmpp::one_line(abilities.correction_marker)) + "\""});
}

void reply(Crossing& crossing, const RecentMessages& recent, std::string_view user) {
  auto& message = crossing.message;
  const auto* reply = message.find("reply", ns::reply);
  const auto id = reply->attr_or("id");
  const bool quoted_by_client = has_fallback(message, ns::reply);
  message.remove_children("reply", ns::reply);
  remove_fallbacks(message, ns::reply);
  if (quoted_by_client) {
    return;
  }
  const auto* excerpt = recent.excerpt(user, id);
  const auto body = body_of(message);
  if (excerpt == nullptr || body.empty()) {
    return;
  }
  set_body(message, "> " + *excerpt + "\n" + body);
}

void attachments(Crossing& crossing) {
  auto& message = crossing.message;
  auto body = body_of(message);
  for (const auto* x : message.find_all("x", ns::oob)) {
    const auto url = xmpp::one_line(x->child_text("url", ns::oob));
    if (url.empty() || body.find(url) != std::string::npos) {
      continue;
    }
    body.append(body.empty() ? "" : "\n").append(url);
  }
  message.remove_children("x", ns::oob);
  if (!body.empty()) {
    set_body(message, body);
  }
}

/// Whether `message` has anything for the other network: text, a subject
/// (a room's topic), an invitation or an attachment. Chat states, chat
/// markers and receipts alone are not content.
bool has_content(const xmpp::Element& message) {
  if (!body_of(message).empty() || message.find("subject") != nullptr ||
      message.find("x", ns::conference) != nullptr || message.find("x", ns::oob) != nullptr) {
    return true;
  }
  const auto* x = message.find("x", ns::muc_user);
  return x != nullptr && x->find("invite") != nullptr;
}

} // namespace

Crossing cross_border(const xmpp::Element& message, const NetworkAbilities& abilities,
                      RecentMessages& recent, std::string_view user) {
  Crossing crossing;
  crossing.message = message;
  const std::string network(abilities.network);

  if (const auto id = retracted_id(message); id && abilities.retractions != Carry::native) {
    retraction(crossing, *id, abilities, recent, user);
    return crossing;
  }
  if (const auto* reactions = message.find("reactions", ns::reactions);
      reactions != nullptr && abilities.reactions != Carry::native) {
    reaction(crossing, *reactions, abilities, recent, user);
    // The line replaces the body: formatting, attachments, a correction or
    // a reply of it go too.
    auto& out = crossing.message;
    if (abilities.formatting != Carry::native) {
      out.remove_children("html", ns::xhtml_im);
    }
    if (abilities.attachments != Carry::native) {
      out.remove_children("x", ns::oob);
    }
    if (abilities.corrections != Carry::native) {
      out.remove_children("replace", ns::correction);
    }
    if (abilities.replies != Carry::native) {
      out.remove_children("reply", ns::reply);
      remove_fallbacks(out, ns::reply);
    }
    return crossing;
  }
  recent.remember(user, message);
  if (const auto* replace = message.find("replace", ns::correction);
      replace != nullptr && abilities.corrections != Carry::native) {
    correction(crossing, replace->attr_or("id"), abilities, recent, user);
    if (crossing.verdict != Verdict::pass) {
      return crossing;
    }
  }
  if (message.find("reply", ns::reply) != nullptr && abilities.replies != Carry::native) {
    reply(crossing, recent, user);
  }
  if (message.find("x", ns::oob) != nullptr && abilities.attachments != Carry::native) {
    attachments(crossing);
  }
  if (message.find("html", ns::xhtml_im) != nullptr && abilities.formatting != Carry::native) {
    crossing.message.remove_children("html", ns::xhtml_im);
    if (body_of(crossing.message).empty()) {
      crossing.verdict = Verdict::refuse;
      crossing.error_text = "this message has formatting (XHTML-IM) but no plain text; " + network +
                            " takes plain text only, so nothing was sent";
      return crossing;
    }
    crossing.notices.push_back({"formatting", "formatting does not reach " + network +
                                                  "; your messages go as plain text"});
  }
  if (!has_content(crossing.message)) {
    crossing.verdict = Verdict::drop; // quietly: nothing to carry, nothing to tell
  }
  return crossing;
}

} // namespace trestle::gateway
