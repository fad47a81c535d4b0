#include "email_stanzas.hpp"

#include "email_address.hpp"
#include "email_threads.hpp"
#include "namespaces.hpp"
#include "stanza.hpp"

namespace trestle::smtp {

std::optional<xmpp::Jid> contact_jid(const EmailAddress& address, const std::string& domain) {
  return xmpp::Jid::from_parts(to_localpart(address), domain, {});
}

xmpp::Element message_error(const xmpp::Jid& from, const xmpp::Jid& to, std::string_view id,
                            const xmpp::StanzaError& error) {
  auto stanza = xmpp::make_message(from, to, "error");
  if (!id.empty()) {
    stanza.set_attr("id", std::string(id));
  }
  stanza.append(xmpp::to_element(error));
  return stanza;
}

xmpp::Element message_receipt(const xmpp::Jid& from, const xmpp::Jid& to, std::string_view id) {
  auto stanza = xmpp::make_message(from, to, {});
  stanza.set_attr("id", make_stanza_id());
  stanza.append("received", std::string(xmpp::ns::receipts)).set_attr("id", std::string(id));
  return stanza;
}

xmpp::StanzaError relay_refusal(int code, std::string_view text) {
  // The enhanced code starts the text when the relay gave one: "5.1.1 ...".
  const auto condition = text.starts_with("5.1.") || text.starts_with("5.2.1")
                             ? xmpp::Condition::item_not_found
                         : text.starts_with("5.7.") ? xmpp::Condition::not_allowed
                                                    : xmpp::Condition::not_acceptable;
  std::string message = "the mail server refused the message";
  if (code != 0) {
    message += ": " + std::to_string(code) + ' ' + std::string(text);
  } else if (!text.empty()) {
    message += ": " + std::string(text);
  }
  return xmpp::make_stanza_error(condition, message);
}

std::string make_stanza_id() {
  return make_thread_id().substr(5);
}

} // namespace trestle::smtp
