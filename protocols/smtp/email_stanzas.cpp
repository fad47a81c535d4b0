#include "email_stanzas.hpp"

#include "email_address.hpp"
#include "email_threads.hpp"

namespace trestle::smtp {

std::optional<xmpp::Jid> contact_jid(const EmailAddress& address, const std::string& domain) {
  return xmpp::Jid::from_parts(to_localpart(address), domain, {});
}

xmpp::StanzaError relay_refusal(std::string_view code, std::string_view text) {
  // The enhanced code starts the text when the relay gave one: "5.1.1 ...".
  const auto condition = text.starts_with("5.1.") || text.starts_with("5.2.1")
                             ? xmpp::Condition::item_not_found
                         : text.starts_with("5.7.") ? xmpp::Condition::not_allowed
                                                    : xmpp::Condition::not_acceptable;
  std::string message = "the mail server refused the message";
  if (!code.empty()) {
    message += ": " + std::string(code) + ' ' + std::string(text);
  } else if (!text.empty()) {
    message += ": " + std::string(text);
  }
  return xmpp::make_stanza_error(condition, message);
}

} // namespace trestle::smtp
