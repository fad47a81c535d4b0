#pragma once

#include "element.hpp"
#include "jid.hpp"

#include <string>
#include <string_view>
#include <vector>

// XEP-0045 stanzas of a room behind the gateway (a channel), built here for
// adapters, which send them through gateway::Bridge.
namespace trestle::gateway {

/// XEP-0045 status codes the gateway sends.
namespace muc_status {
/// Non-anonymous room: occupants' real addresses are visible.
inline constexpr int non_anonymous = 100;
/// This presence is about the receiving user.
inline constexpr int self = 110;
/// The service changed the user's nick (the legacy server gave another one).
inline constexpr int nick_assigned = 210;
/// Nick change: the unavailable presence of the old nick.
inline constexpr int nick_changed = 303;
/// Kicked from the room.
inline constexpr int kicked = 307;
/// Removed because the service is shutting down (the legacy connection closed).
inline constexpr int shutdown = 332;
} // namespace muc_status

/// One occupant as XEP-0045 shows it.
struct MucOccupant {
  std::string_view nick;
  std::string_view role = "participant";
  std::string_view affiliation = "none";
  /// `<show/>` value ("away"), or empty for available.
  std::string_view show;
};

/// What goes with an occupant presence besides the occupant itself.
struct PresenceDetails {
  std::vector<int> status_codes;
  /// `<status/>` text (why the occupant left).
  std::string_view status_text;
  /// For a nick change (303): the new nick, carried in `<item nick=.../>`.
  std::string_view new_nick;
  /// For a kick (307): who kicked, and why.
  std::string_view actor;
  std::string_view reason;
};

/// The presence of `occupant` in `room` (a bare room JID), sent to `to`;
/// `available` false makes it an unavailable presence (PART, QUIT, KICK,
/// nick change). Returns an empty element when the nick cannot be a
/// resourcepart.
xmpp::Element occupant_presence(const xmpp::Jid& room, const xmpp::Jid& to,
                                const MucOccupant& occupant, bool available,
                                const PresenceDetails& details = {});

/// The room subject from `setter` (a nick, or empty for the room).
xmpp::Element room_subject(const xmpp::Jid& room, const xmpp::Jid& to, std::string_view subject,
                           std::string_view setter);

/// A groupchat message from `nick` in `room`, with a XEP-0359 stanza-id by
/// the room. `id` keeps the sender's id on reflections so clients
/// de-duplicate (empty: the stanza-id); `stamp` (server-time, ISO 8601)
/// becomes a XEP-0203 delay when not empty.
xmpp::Element groupchat_message(const xmpp::Jid& room, std::string_view nick, const xmpp::Jid& to,
                                std::string_view body, std::string_view id,
                                std::string_view stamp = {});

} // namespace trestle::gateway
