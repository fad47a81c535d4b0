#pragma once

#include "adapter.hpp"
#include "config.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trestle::smtp {

/// The email adapter. This stage maps addresses and takes registrations
/// (the user's own address on the component domain); SMTP in and out come
/// later, so mail traffic is answered with `service-unavailable` meanwhile.
class EmailAdapter final : public gateway::Adapter {
public:
  /// `context` must outlive the adapter.
  EmailAdapter(const gateway::ComponentConfig& config, gateway::AdapterContext& context);

  /// `smtp`.
  std::string_view name() const override { return "smtp"; }
  /// `smtp` (disco `gateway/smtp`).
  std::string_view identity_type() const override { return "smtp"; }

  /// Answers requests with `service-unavailable` until SMTP is wired.
  void on_stanza(const xmpp::Element& stanza, const xmpp::Jid& from) override;

  /// What to type: an email address.
  std::string gateway_description() const override;
  /// The prompt label.
  std::string gateway_prompt() const override;
  /// The JID for a typed email address, or `jid-malformed` with the reason.
  std::optional<xmpp::Jid> jid_for_address(std::string_view typed,
                                           xmpp::StanzaError& error) const override;

  /// `username`: the local part of the user's own address on the component domain.
  std::vector<gateway::RegistrationField> registration_fields() const override;
  /// Explains the field.
  std::string registration_instructions() const override;
  /// Checks the local part, lowercases it, and answers `conflict` when
  /// another user holds it.
  std::optional<xmpp::StanzaError> validate_registration(const xmpp::Jid& user,
                                                         gateway::FieldValues& values) override;

private:
  gateway::AdapterContext& context_;
};

} // namespace trestle::smtp
