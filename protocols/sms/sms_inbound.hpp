#pragma once

#include "bridge.hpp"
#include "http_server.hpp"
#include "jid.hpp"
#include "repositories.hpp"
#include "sms_config.hpp"
#include "sms_message.hpp"
#include "sms_provider.hpp"

#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace trestle::gateway {
class AdapterContext;
}

namespace trestle::sms {

class SmsNumbers;

/// Correlation kinds: a message sent (legacy id = trestle's token), and a
/// message received (legacy id = the provider's id, for deduplication).
inline constexpr std::string_view sent_sms_kind = "sms-mt";
inline constexpr std::string_view received_sms_kind = "sms-mo";

/// What comes in on the webhooks, handed on to XMPP. A webhook is answered
/// 200 only once its message (or what its report tells the sender) is kept
/// in the store until the XMPP server confirms it
/// (AdapterContext::send_confirmed()): so a text or a report that comes
/// while the XMPP server is down is taken and delivered when it is back,
/// because providers retry a failed webhook only briefly (Twilio for 15 s at
/// most). When it cannot be kept (the store fails, too much waits), the
/// answer is 503 and the provider tries again. A text to a number no
/// allowed user has is held for the admins. A message whose provider id was
/// delivered before is answered 200 and not delivered twice.
class SmsInbound {
public:
  /// `settings`, `context` and `numbers` must outlive this.
  SmsInbound(const sms::SmsSettings& settings, gateway::AdapterContext& context,
             SmsNumbers& numbers);
  SmsInbound(const SmsInbound&) = delete;
  SmsInbound& operator=(const SmsInbound&) = delete;

  /// Hands the texts that an earlier version stored for users while the
  /// XMPP server was down over to send_confirmed() (at start).
  [[nodiscard]] gateway::Awaitable<void> hand_over_waiting();

  /// Handles a webhook the provider read without refusing it.
  [[nodiscard]] gateway::Awaitable<gateway::HttpResponse> handle(WebhookRead read);

private:
  [[nodiscard]] gateway::Awaitable<gateway::HttpResponse>
  deliver(const InboundSms& sms, const gateway::HttpResponse& success);
  [[nodiscard]] gateway::Awaitable<gateway::HttpResponse>
  hold(const InboundSms& sms, const std::string& contact, const std::string& to,
       const gateway::HttpResponse& success);
  /// The provider's id of a message delivered to `user` (empty: held),
  /// to keep so that a repeated webhook is answered without delivering it
  /// again; nothing when the provider gave no id.
  std::vector<gateway::Correlation> received(const InboundSms& sms, const std::string& user) const;
  [[nodiscard]] gateway::Awaitable<gateway::HttpResponse>
  report(const StatusReport& report, const gateway::HttpResponse& success);
  /// Logs why a message could not be kept and gives the 503.
  gateway::HttpResponse not_kept(const std::error_code& ec);

  const sms::SmsSettings& settings_;
  gateway::AdapterContext& context_;
  gateway::Bridge bridge_;
  SmsNumbers& numbers_;
};

} // namespace trestle::sms
