#include "sms_adapter.hpp"

#include "adapter_replies.hpp"
#include "log.hpp"
#include "phone_number.hpp"
#include "stanza.hpp"

#include <stdexcept>
#include <utility>

namespace trestle::sms {

namespace {

constexpr std::string_view not_available_text =
    "SMS delivery is not available in this version of trestle yet";

} // namespace

SmsAdapter::SmsAdapter(const gateway::ComponentConfig& config, gateway::AdapterContext& context)
    : context_(context), default_country_(config.sms.default_country) {
  std::string reason;
  if (!default_country_.empty() && !is_valid_country_code(default_country_, &reason)) {
    throw std::invalid_argument("component " + config.domain + ": sms.default_country '" +
                                default_country_ + "' is not valid: " + reason);
  }
}

void SmsAdapter::on_stanza(const xmpp::Element& stanza, const xmpp::Jid& /*from*/) {
  gateway::answer_not_available(stanza, context_, not_available_text);
}

std::string SmsAdapter::gateway_description() const {
  std::string text = "Enter the phone number of the person you would like to text, in "
                     "international form (+15551234567)";
  if (!default_country_.empty()) {
    text += " or as a national number of country code +" + default_country_;
  }
  return text + ".";
}

std::string SmsAdapter::gateway_prompt() const {
  return "Phone number";
}

std::optional<xmpp::Jid> SmsAdapter::jid_for_address(std::string_view typed,
                                                     xmpp::StanzaError& error) const {
  std::string reason;
  const auto number = PhoneNumber::parse(typed, default_country_, &reason);
  if (!number) {
    error = xmpp::make_stanza_error(xmpp::Condition::jid_malformed, reason);
    return std::nullopt;
  }
  auto jid = xmpp::Jid::from_parts(number->localpart(), context_.domain().domain(), {}, &reason);
  if (!jid) {
    error = xmpp::make_stanza_error(xmpp::Condition::jid_malformed,
                                    "this phone number cannot be written as a JID: " + reason);
  }
  return jid;
}

std::vector<gateway::RegistrationField> SmsAdapter::registration_fields() const {
  return {};
}

std::string SmsAdapter::registration_instructions() const {
  return "Register to text phone numbers through this gateway. There is nothing to fill in: "
         "the number your messages are sent from is assigned by the operator of the gateway.";
}

std::optional<xmpp::StanzaError>
SmsAdapter::validate_registration(const xmpp::Jid& /*user*/, gateway::FieldValues& /*values*/) {
  return std::nullopt;
}

} // namespace trestle::sms
