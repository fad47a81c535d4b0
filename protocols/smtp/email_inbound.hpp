#pragma once

#include "bridge.hpp"
#include "jid.hpp"
#include "repositories.hpp"
#include "smtp_server_session.hpp"

#include <optional>
#include <string>
#include <vector>

namespace trestle::gateway {
class AdapterContext;
}

namespace trestle::smtp {

class EmailIdentities;
class EmailThreads;
struct ParsedMail;

/// Received mail → XMPP: which recipients exist, and turning an accepted
/// message into a chat message from the sender's contact JID (or, for a
/// bounce of a mail trestle sent, into an error on that message). A mail is
/// answered 250 only once its stanza is kept in the store until the XMPP
/// server confirms it (AdapterContext::send_confirmed()), so it survives a
/// stream outage and a crash; when it cannot be kept, the answer is 451 so
/// that the MTA keeps the mail and retries.
class EmailInbound {
public:
  /// All must outlive this object.
  EmailInbound(gateway::AdapterContext& context, EmailIdentities& identities,
               EmailThreads& threads);

  /// RCPT TO: 250 for the address of an allowed user, 550 5.1.1 otherwise.
  /// (`address` by value: the call is spawned, and outlives the caller's.)
  [[nodiscard]] gateway::Awaitable<SmtpVerdict> check_recipient(std::string address);
  /// A complete message: one verdict per recipient, in order.
  [[nodiscard]] gateway::Awaitable<std::vector<SmtpVerdict>> deliver(InboundMessage message);

private:
  /// The allowed user `address` belongs to, or nullopt with the refusal.
  [[nodiscard]] gateway::Awaitable<std::optional<xmpp::Jid>> resolve(const std::string& address,
                                                                     SmtpVerdict& refusal);
  /// One recipient's verdict; `checked` is the user RCPT found for it, or
  /// nullopt to look it up again.
  [[nodiscard]] gateway::Awaitable<SmtpVerdict> deliver_to(const std::string& recipient,
                                                           const std::optional<xmpp::Jid>& checked,
                                                           const InboundMessage& message,
                                                           const ParsedMail& mail);
  /// A bounce of a mail we sent: an error on that XMPP message for `user`,
  /// or nullopt when it matches none.
  /// What a delivery report tells `user` about a mail they sent, if it is
  /// about one.
  [[nodiscard]] gateway::Awaitable<std::optional<gateway::MessageFailure>>
  bounce_of(const std::string& user, const ParsedMail& mail);
  /// Logs why a mail could not be kept and gives the 451.
  SmtpVerdict not_kept(const std::error_code& ec);

  gateway::AdapterContext& context_;
  gateway::Bridge bridge_;
  EmailIdentities& identities_;
  EmailThreads& threads_;
};

/// The kind of correlation that ties a sent Message-ID to its XMPP message.
inline constexpr std::string_view sent_mail_kind = "email-sent";

} // namespace trestle::smtp
