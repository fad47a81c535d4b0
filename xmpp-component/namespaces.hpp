#pragma once

#include <string_view>

/// XML namespaces used on the component stream, as typed constants.
namespace trestle::xmpp::ns {

inline constexpr std::string_view component = "jabber:component:accept";
inline constexpr std::string_view streams = "http://etherx.jabber.org/streams";
inline constexpr std::string_view stream_errors = "urn:ietf:params:xml:ns:xmpp-streams";
inline constexpr std::string_view stanza_errors = "urn:ietf:params:xml:ns:xmpp-stanzas";
inline constexpr std::string_view xml = "http://www.w3.org/XML/1998/namespace";
inline constexpr std::string_view disco_info = "http://jabber.org/protocol/disco#info";
inline constexpr std::string_view disco_items = "http://jabber.org/protocol/disco#items";
inline constexpr std::string_view version = "jabber:iq:version";
inline constexpr std::string_view ping = "urn:xmpp:ping";
inline constexpr std::string_view register_ = "jabber:iq:register";
inline constexpr std::string_view gateway = "jabber:iq:gateway";
inline constexpr std::string_view commands = "http://jabber.org/protocol/commands";
inline constexpr std::string_view data_forms = "jabber:x:data";
inline constexpr std::string_view receipts = "urn:xmpp:receipts";
inline constexpr std::string_view muc = "http://jabber.org/protocol/muc";
inline constexpr std::string_view muc_user = "http://jabber.org/protocol/muc#user";
inline constexpr std::string_view delay = "urn:xmpp:delay";
inline constexpr std::string_view sid = "urn:xmpp:sid:0";

} // namespace trestle::xmpp::ns
