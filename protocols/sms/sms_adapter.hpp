#pragma once

#include "adapter.hpp"
#include "config.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trestle::sms {

/// The SMS adapter. This stage maps phone numbers to JIDs; the provider
/// dialects come later, so SMS traffic is answered with `service-unavailable`
/// meanwhile.
class SmsAdapter final : public gateway::Adapter {
public:
  /// Reads `config.sms`; throws std::invalid_argument when `sms.default_country`
  /// is set but is not a calling code. `context` must outlive the adapter.
  SmsAdapter(const gateway::ComponentConfig& config, gateway::AdapterContext& context);

  /// `sms`.
  std::string_view name() const override { return "sms"; }
  /// `sms` (disco `gateway/sms`).
  std::string_view identity_type() const override { return "sms"; }

  /// Answers requests with `service-unavailable` until a provider is wired.
  void on_stanza(const xmpp::Element& stanza, const xmpp::Jid& from) override;

  /// What to type: a phone number.
  std::string gateway_description() const override;
  /// The prompt label.
  std::string gateway_prompt() const override;
  /// The JID for a typed phone number (normalised to E.164), or `jid-malformed` with the reason.
  std::optional<xmpp::Jid> jid_for_address(std::string_view typed,
                                           xmpp::StanzaError& error) const override;

  /// None yet: the sending number is assigned by the operator.
  std::vector<gateway::RegistrationField> registration_fields() const override;
  /// Says that there is nothing to fill in, and why.
  std::string registration_instructions() const override;
  /// Accepts every registration (there are no fields).
  std::optional<xmpp::StanzaError> validate_registration(const xmpp::Jid& user,
                                                         gateway::FieldValues& values) override;

private:
  gateway::AdapterContext& context_;
  /// Calling code for national numbers ("1", "44"); empty: international form only.
  std::string default_country_;
};

} // namespace trestle::sms
