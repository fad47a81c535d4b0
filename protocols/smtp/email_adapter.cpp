#include "email_adapter.hpp"

#include "address_text.hpp"
#include "email_address.hpp"
#include "log.hpp"
#include "not_available.hpp"
#include "stanza.hpp"
#include "store.hpp"

#include <system_error>
#include <utility>

namespace trestle::smtp {

namespace {

constexpr std::string_view not_available_text =
    "Email delivery is not available in this version of trestle yet";

} // namespace

EmailAdapter::EmailAdapter(const gateway::ComponentConfig& /*config*/,
                           gateway::AdapterContext& context)
    : context_(context) {}

void EmailAdapter::on_stanza(const xmpp::Element& stanza, const xmpp::Jid& /*from*/) {
  gateway::answer_not_available(stanza, context_, not_available_text);
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
  field->second = std::string(protocols::trim_blanks(field->second));
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
