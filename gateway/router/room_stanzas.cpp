#include "room_stanzas.hpp"

#include "namespaces.hpp"
#include "random_hex.hpp"
#include "stanza.hpp"

#include <string>

namespace trestle::gateway {

namespace ns = xmpp::ns;
using xmpp::Element;

namespace {

/// `room/nick`, or nullopt when the nick is no valid resourcepart.
std::optional<xmpp::Jid> occupant_jid(const xmpp::Jid& room, std::string_view nick) {
  return nick.empty() ? room : room.with_resource(nick);
}

} // namespace

Element occupant_presence(const xmpp::Jid& room, const xmpp::Jid& to, const MucOccupant& occupant,
                          bool available, const PresenceDetails& details) {
  const auto from = room.with_resource(occupant.nick);
  if (!from) {
    return Element();
  }
  auto presence = xmpp::make_presence(*from, to, available ? "" : "unavailable");
  if (available && !occupant.show.empty()) {
    presence.append("show").append_text(occupant.show);
  }
  if (!details.status_text.empty()) {
    presence.append("status").append_text(details.status_text);
  }
  auto& x = presence.append("x", std::string(ns::muc_user));
  auto& item = x.append("item");
  item.set_attr("affiliation", std::string(occupant.affiliation));
  item.set_attr("role", available ? std::string(occupant.role) : std::string("none"));
  if (!details.new_nick.empty()) {
    item.set_attr("nick", std::string(details.new_nick));
  }
  if (!details.actor.empty()) {
    item.append("actor").set_attr("nick", std::string(details.actor));
  }
  if (!details.reason.empty()) {
    item.append("reason").append_text(details.reason);
  }
  for (const int code : details.status_codes) {
    x.append("status").set_attr("code", std::to_string(code));
  }
  return presence;
}

Element room_subject(const xmpp::Jid& room, const xmpp::Jid& to, std::string_view subject,
                     std::string_view setter) {
  auto from = occupant_jid(room, setter);
  auto message = xmpp::make_message(from ? *from : room, to, "groupchat");
  // An empty <subject/> clears the subject (XEP-0045 8.1); it is never omitted.
  message.append("subject").append_text(subject);
  return message;
}

Element groupchat_message(const xmpp::Jid& room, std::string_view nick, const xmpp::Jid& to,
                          std::string_view body, std::string_view id, std::string_view stamp) {
  auto from = occupant_jid(room, nick);
  auto message = xmpp::make_message(from ? *from : room, to, "groupchat", body);
  // XEP-0359: the room's own id, which clients use to react and reply to a
  // groupchat message; the sender's id (or the same) for de-duplication.
  auto stanza_id = random_hex(12);
  message.set_attr("id", id.empty() ? stanza_id : std::string(id));
  auto& sid = message.append("stanza-id", std::string(ns::sid));
  sid.set_attr("by", room.bare_string());
  sid.set_attr("id", std::move(stanza_id));
  xmpp::add_delay(message, room.bare_string(), stamp);
  return message;
}

} // namespace trestle::gateway
