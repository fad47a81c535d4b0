#pragma once

#include "adapter.hpp"
#include "bridge.hpp"
#include "sms_config.hpp"

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
  /// Throws std::invalid_argument for settings that the
  /// config reader cannot judge (a calling code, a number that is not
  /// E.164), and std::runtime_error when the webhooks cannot be served.
  /// `context` must outlive the adapter.
  SmsAdapter(const gateway::ComponentConfig& config, SmsSettings settings,
             gateway::AdapterContext& context);
  ~SmsAdapter() override;

  /// `sms`.
  std::string_view name() const override { return "sms"; }
  /// `sms` (disco `gateway/sms`).
  std::string_view identity_type() const override { return "sms"; }
  gateway::NetworkAbilities abilities() const override;

  /// Writes the operator's numbers to the mapping table (throws when it
  /// cannot), then runs the outbox until the shutdown, and stops the
  /// provider's calls.
  gateway::Awaitable<void> run() override;

  /// Messages become SMS; presence is answered as for a contact that is
  /// always there; requests are refused.
  gateway::Awaitable<void> handle(const gateway::UserEvent& event) override;

  /// What to type: a phone number.
  std::string gateway_description() const override;
  /// The prompt label.
  std::string gateway_prompt() const override;
  /// The JID for a typed phone number (normalised to E.164), or `jid-malformed` with the reason.
  std::optional<xmpp::Jid> jid_for_address(std::string_view typed,
                                           xmpp::StanzaError& error) const override;

  /// `number`, a choice of the pool's free numbers, when there is a pool.
  gateway::Awaitable<std::vector<gateway::RegistrationField>> registration_fields() override;
  /// Says where the user's number comes from.
  std::string registration_instructions() const override;
  /// Takes the chosen pool number for the user.
  gateway::Awaitable<std::optional<xmpp::StanzaError>>
  validate_registration(const xmpp::Jid& user, gateway::FieldValues& values) override;
  /// Releases the user's pool number.
  gateway::Awaitable<void> on_unregistered(const xmpp::Jid& user) override;

  /// `sms-usage` for admins: messages per user in the last hour and day,
  /// and the messages to numbers nobody owns.
  std::vector<gateway::DomainCommand> domain_commands() const override;
  gateway::Awaitable<gateway::CommandAnswer>
  run_command(const gateway::CommandRequest& request) override;

  /// The public URL of this component's webhooks (for logs and tests).
  const std::string& webhook_url() const { return public_url_; }

private:
  /// Whom a message goes to: the number, and the JID's localpart as the
  /// user wrote it (a national number stays national there).
  struct Recipient {
    std::string e164;
    std::string contact_local;
  };
  gateway::Awaitable<void> on_message(const gateway::UserMessage& message,
                                      const Recipient& recipient);
  /// Why `user` may not send one more message now (a limit reached, or the
  /// usage that cannot be counted), or nullopt.
  gateway::Awaitable<std::optional<xmpp::StanzaError>> over_limit(const xmpp::Jid& user);
  bool send_queued(const gateway::OutboxItem& item, std::function<void(ProviderAnswer)> on_answer);
  /// Tells the sender what became of a message the outbox is done with.
  gateway::Awaitable<void> on_sent(gateway::OutboxItem item, gateway::OutboxResult result);
  void serve_webhook(std::string_view path, const gateway::HttpRequest& request,
                     std::function<void(gateway::HttpResponse)> reply);

  gateway::AdapterContext& context_;
  gateway::Bridge bridge_;
  const SmsSettings settings_;
  std::string public_url_;
  std::unique_ptr<SmsNumbers> numbers_;
  std::unique_ptr<SmsProvider> provider_;
  std::unique_ptr<SmsInbound> inbound_;
  std::unique_ptr<gateway::OutboxPump> outbox_;
};

/// The network for the app wiring: the `sms:` section and this adapter.
gateway::Network sms_network();

} // namespace trestle::sms
