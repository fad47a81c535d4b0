#pragma once

#include "element.hpp"
#include "network_abilities.hpp"
#include "stanza_error.hpp"

#include <string>
#include <string_view>
#include <vector>

// Lossy translations made visible: what becomes of the XMPP features of a
// user's message on a network that has fewer, in one place for every adapter.
namespace trestle::gateway {

class RecentMessages;

/// A short notice for the sender about something that did not cross as it
/// was. `topic` names it for rate limiting ("formatting", "correction",
/// "reaction-removed", "retraction:<id>"), so that the sender reads it once,
/// not once per message.
struct BorderNotice {
  std::string topic;
  std::string text;
};

/// What becomes of one message at the border.
struct Crossing {
  enum class Verdict {
    /// `message` goes to the adapter.
    pass,
    /// Nothing goes to the adapter; the notices say why.
    drop,
    /// Nothing goes; the message gets an error with `condition` and `error_text`.
    refuse,
  };
  Verdict verdict = Verdict::pass;
  xmpp::Element message;
  xmpp::Condition condition = xmpp::Condition::not_acceptable;
  std::string error_text;
  std::vector<BorderNotice> notices;
};

/// Turns `message` (a chat, groupchat or normal message that `user`, a bare
/// JID, sent to a JID behind the gateway) into what a network with
/// `abilities` takes:
/// - XHTML-IM is dropped and the body wins; formatting with no body is refused.
/// - A XEP-0308 correction goes as a new message with the network's marker.
/// - A XEP-0444 reaction becomes `reacted 👍 to "…"` with the reactions that
///   are new since the last one for that message; taking one back is dropped
///   with a notice.
/// - A XEP-0461 reply keeps the client's fallback quote, or gets a short
///   quote ("> …") when the client put none and the message is known.
/// - A XEP-0424 retraction (and its fallback body) never goes: the notice
///   says the message was delivered already.
/// - XEP-0066 URLs are written into the body unless it has them.
/// - A message left with no content (chat states, chat markers, receipts) is
///   dropped quietly.
/// Features the network carries natively are left in place for the adapter.
/// Message bodies are remembered in `recent` for later quotes.
Crossing cross_border(const xmpp::Element& message, const NetworkAbilities& abilities,
                      RecentMessages& recent, std::string_view user);

} // namespace trestle::gateway
