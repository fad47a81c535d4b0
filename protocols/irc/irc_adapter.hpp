#pragma once

#include "adapter.hpp"
#include "config.hpp"
#include "irc_address.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trestle::irc {

/// The IRC network adapter. This stage maps addresses (biboumi's forms) and
/// takes registrations; the IRC client behind it comes later, so traffic for
/// IRC is answered with `service-unavailable` meanwhile.
class IrcAdapter final : public gateway::Adapter {
public:
  /// Reads `config.irc`; throws std::invalid_argument when `irc.fixed_server`
  /// is set but is not a server name. `context` must outlive the adapter.
  IrcAdapter(const gateway::ComponentConfig& config, gateway::AdapterContext& context);

  /// `irc`.
  std::string_view name() const override { return "irc"; }
  /// `irc` (disco `gateway/irc`).
  std::string_view identity_type() const override { return "irc"; }

  /// Answers requests with `service-unavailable` until the IRC client exists.
  void on_stanza(const xmpp::Element& stanza, const xmpp::Jid& from) override;

  /// What to type: a channel, nickname or server (or, with a fixed server, a channel or nickname).
  std::string gateway_description() const override;
  /// The prompt label.
  std::string gateway_prompt() const override;
  /// The JID for a typed IRC address, or `jid-malformed` with the reason.
  std::optional<xmpp::Jid> jid_for_address(std::string_view typed,
                                           xmpp::StanzaError& error) const override;

  /// `nick` (required), `username`, `realname` and the SASL `password`.
  std::vector<gateway::RegistrationField> registration_fields() const override;
  /// Explains the fields.
  std::string registration_instructions() const override;
  /// Checks the nickname with the address rules and keeps CR, LF and NUL out of every field.
  std::optional<xmpp::StanzaError> validate_registration(const xmpp::Jid& user,
                                                         gateway::FieldValues& values) override;

  /// The address rules of this component (channel prefixes, fixed server).
  const AddressRules& address_rules() const { return rules_; }

private:
  gateway::AdapterContext& context_;
  AddressRules rules_;
};

} // namespace trestle::irc
