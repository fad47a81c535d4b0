#pragma once

#include "adapter.hpp"
#include "bridge.hpp"
#include "email_config.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trestle::gateway {
struct OutboxItem;
struct OutboxResult;
} // namespace trestle::gateway

namespace trestle::smtp {

class EmailIdentities;
class EmailInbound;
class EmailOutbox;
class EmailThreads;
class SmtpListener;
class SmtpRelay;
struct EmailAddress;

/// The email adapter: a chat with `bob\40example.com@DOMAIN` is an email
/// thread with bob@example.com. Outgoing mail is composed with GMime and
/// queued in the store's outbox for the relay; received mail comes through
/// the SMTP/LMTP listener and becomes chat messages from the sender's
/// contact JID. Each user writes from their own address on the mail domain
/// (EmailIdentities); threads map both ways (EmailThreads).
class EmailAdapter final : public gateway::Adapter {
public:
  /// `context` must outlive the adapter.
  EmailAdapter(EmailSettings settings, gateway::AdapterContext& context);
  ~EmailAdapter() override;

  /// `smtp`.
  std::string_view name() const override { return "smtp"; }
  /// `smtp` (disco `gateway/smtp`).
  std::string_view identity_type() const override { return "smtp"; }
  gateway::NetworkAbilities abilities() const override;

  /// Starts the listener (throws std::runtime_error when it cannot listen)
  /// and runs the outbox, which picks up what an earlier run left, until the
  /// shutdown; then stops the listener and the relay. Queued mail stays in
  /// the store.
  gateway::Awaitable<void> run() override;

  /// Messages become mail; presence to contacts is answered; requests refused.
  gateway::Awaitable<void> handle(const gateway::UserEvent& event) override;

  /// What to type: an email address.
  std::string gateway_description() const override;
  /// The prompt label.
  std::string gateway_prompt() const override;
  /// The JID for a typed email address, or `jid-malformed` with the reason.
  std::optional<xmpp::Jid> jid_for_address(std::string_view typed,
                                           xmpp::StanzaError& error) const override;

  /// `username` (the local part of the user's own address) and `name` (the
  /// display name in From).
  gateway::Awaitable<std::vector<gateway::RegistrationField>> registration_fields() override;
  /// Explains the fields.
  std::string registration_instructions() const override;
  /// Checks the local part, lowercases it and assigns it (`conflict` when
  /// another user holds it); checks the name.
  gateway::Awaitable<std::optional<xmpp::StanzaError>>
  validate_registration(const xmpp::Jid& user, gateway::FieldValues& values) override;
  /// Releases the user's address.
  gateway::Awaitable<void> on_unregistered(const xmpp::Jid& user) override;

private:
  gateway::Awaitable<void> on_message(const gateway::UserMessage& message,
                                      const EmailAddress& peer);
  /// Tells the sender what became of a mail the outbox is done with.
  gateway::Awaitable<void> on_mail_done(gateway::OutboxItem item, gateway::OutboxResult result);
  /// The display name in From: the registered one, else the JID's localpart.
  gateway::Awaitable<std::string> display_name(const xmpp::Jid& user);

  gateway::AdapterContext& context_;
  gateway::Bridge bridge_;
  EmailSettings settings_;
  std::unique_ptr<EmailIdentities> identities_;
  std::unique_ptr<EmailThreads> threads_;
  std::unique_ptr<EmailInbound> inbound_;
  std::unique_ptr<SmtpRelay> relay_;
  std::unique_ptr<EmailOutbox> outbox_;
  std::unique_ptr<SmtpListener> listener_;
};

/// The network for the app wiring: the `smtp:` section and this adapter.
gateway::Network email_network();

} // namespace trestle::smtp
