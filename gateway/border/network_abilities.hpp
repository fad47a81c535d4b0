#pragma once

#include <string_view>

namespace trestle::gateway {

/// What a legacy network does with an XMPP feature that it may have no
/// equal of.
enum class Carry {
  /// The network has the same thing: the adapter gets the message as it is.
  native,
  /// The gateway writes it into the body's text, which every network carries.
  as_text,
  /// Not passed on: the gateway tells the sender instead.
  refused,
};

/// What one network can carry, declared by its adapter. The gateway's border
/// (border_crossing.hpp) turns each XMPP feature of a user's message into
/// what the network takes, in one place for every adapter, and tells the
/// sender what did not cross as it was.
struct NetworkAbilities {
  /// The network's name in notices and errors: "IRC", "email", "SMS".
  std::string_view network = "the other network";
  /// XEP-0071 XHTML-IM. as_text: the plain body goes and the formatting is
  /// dropped; a message with formatting and no body is refused.
  Carry formatting = Carry::as_text;
  /// XEP-0308 corrections. as_text: the corrected text goes as a new message
  /// that starts with `correction_marker`.
  Carry corrections = Carry::as_text;
  std::string_view correction_marker = "* ";
  /// XEP-0444 reactions. as_text: a line `reacted 👍 to "…"` quoting the
  /// message briefly when the gateway saw it; taking a reaction back cannot
  /// be written and is refused.
  Carry reactions = Carry::as_text;
  /// XEP-0461 replies. as_text: the quote the client put in the body, or a
  /// short one the gateway adds when the client put none.
  Carry replies = Carry::as_text;
  /// XEP-0424 retractions: native, or refused (the sender is told that the
  /// message was delivered already and stays).
  Carry retractions = Carry::refused;
  /// XEP-0066 out-of-band URLs. as_text: each URL is written into the body
  /// unless the body has it already.
  Carry attachments = Carry::as_text;
  /// Whether a body starting "/me " becomes the network's own action line
  /// (an IRC CTCP ACTION); reactions are written as actions there.
  bool actions = false;
};

} // namespace trestle::gateway
