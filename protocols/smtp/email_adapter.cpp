#include "email_adapter.hpp"

#include "email_address.hpp"
#include "log.hpp"
#include "stanza.hpp"
#include "store.hpp"

#include <system_error>
#include <utility>

namespace trestle::smtp {

namespace {

constexpr std::string_view not_available_text =
    "Email delivery is not available in this version of trestle yet";

/// Answers a stanza for email while SMTP is not wired: requests (a message
/// with a body, an iq get/set, a subscription or directed available
/// presence) get `service-unavailable`; the rest is dropped. A stanza of
/// type error is never answered (RFC 6120 8.3.1), which also stops loops.
void answer_not_available(const xmpp::Element& stanza, gateway::AdapterContext& context) {
  const xmpp::StanzaView view(stanza);
  const std::string type = view.type();
  if (type == "error") {
    return;
  }
  bool request = false;
  switch (view.kind()) {
  case xmpp::StanzaKind::message:
    request = stanza.find("body") != nullptr;
    break;
  case xmpp::StanzaKind::iq:
    request = view.is_iq_request();
    break;
  case xmpp::StanzaKind::presence:
    request = type.empty() || type == "subscribe";
    break;
  case xmpp::StanzaKind::other:
    break;
  }
  if (!request) {
    return;
  }
  const auto error = xmpp::make_stanza_error(xmpp::Condition::service_unavailable,
                                             std::string(not_available_text));
  if (!context.send(xmpp::make_error_reply(stanza, error))) {
    context.log().warning("component " + context.domain().to_string(),
                          "send queue full: dropped a service-unavailable reply");
  }
}

std::string trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = text.find_last_not_of(" \t");
  return std::string(text.substr(first, last - first + 1));
}

} // namespace

EmailAdapter::EmailAdapter(const gateway::ComponentConfig& /*config*/,
                           gateway::AdapterContext& context)
    : context_(context) {}

void EmailAdapter::on_stanza(const xmpp::Element& stanza, const xmpp::Jid& /*from*/) {
  answer_not_available(stanza, context_);
}

std::string EmailAdapter::gateway_description() const {
  return "Enter the email address of the person you would like to write to (bob@example.com).";
}

std::string EmailAdapter::gateway_prompt() const {
  return "Email address";
}

std::optional<xmpp::Jid> EmailAdapter::jid_for_address(std::string_view typed,
                                                       xmpp::StanzaError& error) const {
  std::string reason;
  const auto address = parse_email_address(typed, &reason);
  if (!address) {
    error = xmpp::make_stanza_error(xmpp::Condition::jid_malformed, reason);
    return std::nullopt;
  }
  auto jid = xmpp::Jid::from_parts(to_localpart(*address), context_.domain().domain(), {}, &reason);
  if (!jid) {
    error = xmpp::make_stanza_error(xmpp::Condition::jid_malformed,
                                    "this email address cannot be written as a JID: " + reason);
  }
  return jid;
}

std::vector<gateway::RegistrationField> EmailAdapter::registration_fields() const {
  return {
      {"username", "Your address", false, false,
       "The part before '@' of your own address on " + context_.domain().domain() +
           "; leave empty to only write."},
  };
}

std::string EmailAdapter::registration_instructions() const {
  const std::string& domain = context_.domain().domain();
  return "Optionally choose your own email address on " + domain +
         ": with 'alice', mail to alice@" + domain +
         " reaches you and the mail you write is sent from it.";
}

std::optional<xmpp::StanzaError> EmailAdapter::validate_registration(const xmpp::Jid& user,
                                                                     gateway::FieldValues& values) {
  const auto field = values.find("username");
  if (field == values.end()) {
    return std::nullopt;
  }
  field->second = trimmed(field->second);
  if (field->second.empty()) {
    return std::nullopt;
  }
  std::string reason;
  if (!is_valid_local_part(field->second, &reason)) {
    return xmpp::make_stanza_error(xmpp::Condition::not_acceptable, reason);
  }
  // Stored lowercase so that the exact-match lookup below also catches
  // "Alice" against "alice": both would receive the same mail.
  field->second = canonical_local_part(field->second);

  const std::string& domain = context_.domain().domain();
  std::error_code ec;
  const auto holder =
      context_.store().find_registration_by_field(domain, "username", field->second, ec);
  if (ec) {
    context_.log().error("component " + domain,
                         "registration check failed: store: " + ec.message());
    return xmpp::make_stanza_error(xmpp::Condition::internal_server_error,
                                   "the address could not be checked; try again later");
  }
  if (holder && holder->user != user.bare_string()) {
    return xmpp::make_stanza_error(xmpp::Condition::conflict, "the address " + field->second + "@" +
                                                                  domain + " is already taken");
  }
  return std::nullopt;
}

} // namespace trestle::smtp
