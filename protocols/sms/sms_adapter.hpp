#pragma once

#include "adapter.hpp"
#include "config.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trestle::gateway {
class OutboxPump;
struct OutboxItem;
struct OutboxResult;
} // namespace trestle::gateway

namespace trestle::sms {

class SmsInbound;
class SmsNumbers;
class SmsProvider;
struct ProviderAnswer;
struct WebhookRead;

/// The SMS adapter: `+15551234567@DOMAIN` is a phone. A user's messages go
/// out from their own number (assigned by the operator, or chosen from a
/// pool at registration) through the configured provider, queued in the
/// store's outbox; delivery reports become receipts or errors; messages
/// from phones arrive on the provider's webhooks. Without a provider, SMS
/// traffic is answered `service-unavailable`.
class SmsAdapter final : public gateway::Adapter {
public:
  /// Reads `config.sms`; throws std::invalid_argument for settings that the
  /// config reader cannot judge (a calling code, a number that is not
  /// E.164), and std::runtime_error when the webhooks cannot be served.
  /// `context` must outlive the adapter.
  SmsAdapter(const gateway::ComponentConfig& config, gateway::AdapterContext& context);
  ~SmsAdapter() override;

  /// `sms`.
  std::string_view name() const override { return "sms"; }
  /// `sms` (disco `gateway/sms`).
  std::string_view identity_type() const override { return "sms"; }
  gateway::NetworkAbilities abilities() const override;

  /// Writes the operator's numbers to the mapping table and starts the outbox.
  void start() override;
  /// Stops the outbox and the provider's calls.
  void stop() override;

  /// Messages become SMS; presence is answered as for a contact that is
  /// always there; iqs are refused.
  void on_stanza(const xmpp::Element& stanza, const xmpp::Jid& from) override;

  /// What to type: a phone number.
  std::string gateway_description() const override;
  /// The prompt label.
  std::string gateway_prompt() const override;
  /// The JID for a typed phone number (normalised to E.164), or `jid-malformed` with the reason.
  std::optional<xmpp::Jid> jid_for_address(std::string_view typed,
                                           xmpp::StanzaError& error) const override;

  /// `number`, a choice of the pool's free numbers, when there is a pool.
  std::vector<gateway::RegistrationField> registration_fields() const override;
  /// Says where the user's number comes from.
  std::string registration_instructions() const override;
  /// Takes the chosen pool number for the user.
  std::optional<xmpp::StanzaError> validate_registration(const xmpp::Jid& user,
                                                         gateway::FieldValues& values) override;
  /// Releases the user's pool number.
  void on_unregistered(const xmpp::Jid& user) override;

  /// `sms-usage` for admins: messages per user in the last hour and day,
  /// and the messages to numbers nobody owns.
  std::vector<gateway::DomainCommand> domain_commands() const override;
  xmpp::Element run_domain_command(const xmpp::Element& request, const xmpp::Jid& from) override;

  /// The public URL of this component's webhooks (for logs and tests).
  const std::string& webhook_url() const { return public_url_; }

private:
  /// Whom a message goes to: the number, and the JID's localpart as the
  /// user wrote it (a national number stays national there).
  struct Recipient {
    std::string e164;
    std::string contact_local;
  };
  void on_message(const xmpp::Element& stanza, const xmpp::Jid& from, const Recipient& recipient);
  /// Why `user` may not send one more message now (a limit reached, or the
  /// usage that cannot be counted), or nullopt.
  std::optional<xmpp::StanzaError> over_limit(const xmpp::Jid& user);
  bool send_queued(const gateway::OutboxItem& item, std::function<void(ProviderAnswer)> on_answer);
  void on_sent(const gateway::OutboxItem& item, const gateway::OutboxResult& result);
  void serve_webhook(std::string_view path, const gateway::HttpRequest& request,
                     std::function<void(gateway::HttpResponse)> reply);
  void refuse(const xmpp::Element& stanza, xmpp::Condition condition, std::string text);

  gateway::AdapterContext& context_;
  const gateway::SmsSettings& settings_;
  std::string public_url_;
  std::unique_ptr<SmsNumbers> numbers_;
  std::unique_ptr<SmsProvider> provider_;
  std::unique_ptr<SmsInbound> inbound_;
  std::unique_ptr<gateway::OutboxPump> outbox_;
};

} // namespace trestle::sms
