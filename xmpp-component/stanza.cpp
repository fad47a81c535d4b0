#include "stanza.hpp"

#include "namespaces.hpp"

#include <cstdio>
#include <ctime>

namespace trestle::xmpp {

namespace {

std::optional<Jid> jid_attr(const Element& element, std::string_view name) {
  const auto value = element.attr(name);
  if (!value) {
    return std::nullopt;
  }
  return Jid::parse(*value);
}

/// Copies `from`/`to` of `request` swapped, and its `id`, onto `reply`;
/// absent attributes stay absent (a stanza without 'to' went to the server
/// or, on a component stream, to us, and the reply then has no 'from').
void address_reply(Element& reply, const Element& request) {
  if (const auto to = request.attr("to")) {
    reply.set_attr("from", std::string(*to));
  }
  if (const auto from = request.attr("from")) {
    reply.set_attr("to", std::string(*from));
  }
  if (const auto id = request.attr("id")) {
    reply.set_attr("id", std::string(*id));
  }
}

/// Whether `node` is the stanza's own `<error/>` child (not a payload of
/// another namespace that happens to be called "error").
bool is_error_child(const Element& stanza, const Element& node) {
  return !node.is_text() && node.name() == "error" &&
         (node.xmlns().empty() || node.xmlns() == stanza.xmlns() || node.xmlns() == ns::component);
}

} // namespace

StanzaKind kind_of(const Element& stanza) {
  const std::string& name = stanza.name();
  if (name == "message") {
    return StanzaKind::message;
  }
  if (name == "presence") {
    return StanzaKind::presence;
  }
  if (name == "iq") {
    return StanzaKind::iq;
  }
  return StanzaKind::other;
}

std::optional<Jid> StanzaView::from() const {
  return jid_attr(*element_, "from");
}

std::optional<Jid> StanzaView::to() const {
  return jid_attr(*element_, "to");
}

bool StanzaView::is_iq_request() const {
  if (kind() != StanzaKind::iq) {
    return false;
  }
  const auto type = element_->attr("type");
  return type && (*type == "get" || *type == "set");
}

Element make_iq(std::string_view type, const Jid& from, const Jid& to, std::string_view id) {
  Element iq("iq");
  iq.set_attr("from", from.to_string());
  iq.set_attr("to", to.to_string());
  iq.set_attr("type", std::string(type));
  iq.set_attr("id", std::string(id));
  return iq;
}

Element make_message(const Jid& from, const Jid& to, std::string_view type, std::string_view body) {
  Element message("message");
  message.set_attr("from", from.to_string());
  message.set_attr("to", to.to_string());
  // RFC 6121 5.2.2: a message without a type is "normal".
  if (!type.empty()) {
    message.set_attr("type", std::string(type));
  }
  if (!body.empty()) {
    message.append("body").append_text(body);
  }
  return message;
}

Element make_presence(const Jid& from, const Jid& to, std::string_view type) {
  Element presence("presence");
  presence.set_attr("from", from.to_string());
  presence.set_attr("to", to.to_string());
  if (!type.empty()) {
    presence.set_attr("type", std::string(type));
  }
  return presence;
}

Element make_iq_result(const Element& request) {
  Element result("iq", request.xmlns());
  address_reply(result, request);
  result.set_attr("type", "result");
  return result;
}

// This function checks nothing about `request`: answering a stanza of type
// error with another error is forbidden (RFC 6120 8.3.1) and can loop
// between two entities, so callers must not call it for one; if they do,
// the reply is returned anyway, with the old <error/> dropped so it carries
// exactly one. The original children are kept for messages, presences and
// iq get/set (RFC 6120 8.3.1 allows it, and it tells the sender which
// request failed); an iq of any other type gets only the <error/>.
Element make_error_reply(const Element& request, const StanzaError& error) {
  Element reply(request.name(), request.xmlns());
  address_reply(reply, request);
  reply.set_attr("type", "error");

  const StanzaView view(request);
  const bool keep_children = view.kind() != StanzaKind::iq || view.is_iq_request();
  if (keep_children) {
    for (const auto& node : request.nodes()) {
      if (!is_error_child(request, node)) {
        reply.append(node);
      }
    }
  }
  reply.append(to_element(error));
  return reply;
}

void add_delay(Element& stanza, std::string_view from, std::string_view stamp) {
  if (stamp.empty()) {
    return;
  }
  auto& delay = stanza.append("delay", std::string(ns::delay));
  delay.set_attr("from", std::string(from));
  delay.set_attr("stamp", std::string(stamp));
}

std::string xep0082_datetime(std::int64_t unix_seconds) {
  const auto seconds = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[80];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return text;
}

} // namespace trestle::xmpp
