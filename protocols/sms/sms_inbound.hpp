#pragma once

#include "config.hpp"
#include "http_server.hpp"
#include "jid.hpp"
#include "sms_message.hpp"

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace trestle::gateway {
class AdapterContext;
}

namespace trestle::sms {

class SmsNumbers;
struct WebhookRead;

/// Correlation kinds: a message sent (legacy id = trestle's token), and a
/// message received (legacy id = the provider's id, for deduplication).
inline constexpr std::string_view sent_sms_kind = "sms-mt";
inline constexpr std::string_view received_sms_kind = "sms-mo";

/// What comes in on the webhooks, handed on to XMPP. A webhook is answered
/// 200 only once its message or report went into the XMPP stream, or was
/// stored. While the XMPP server is unreachable, a text for a user is stored
/// and delivered (with a XEP-0203 delay) once the stream is back, because
/// providers retry a failed webhook only briefly (Twilio for 15 s at most);
/// a delivery report gets 503 then, as does everything when the stream is
/// congested or the store fails, and the provider tries again. A message
/// whose provider id was delivered before is answered 200 and not delivered
/// twice.
class SmsInbound {
public:
  /// `settings`, `context` and `numbers` must outlive this.
  SmsInbound(const gateway::SmsSettings& settings, gateway::AdapterContext& context,
             SmsNumbers& numbers);
  ~SmsInbound();
  SmsInbound(const SmsInbound&) = delete;
  SmsInbound& operator=(const SmsInbound&) = delete;

  /// Starts delivering the texts stored while the XMPP server was down
  /// (before a restart too).
  void start();
  /// Stops the timer; stored texts stay stored.
  void stop();

  /// Handles a webhook the provider read without refusing it.
  gateway::HttpResponse handle(const WebhookRead& read);

  /// Sends the stored texts for users, oldest first, while the stream takes
  /// them; returns whether some still wait. The timer calls it.
  bool deliver_waiting();

private:
  struct Timer;
  void arm_timer();
  /// Stores a text for `user` until the XMPP server is reachable.
  gateway::HttpResponse wait(const InboundSms& sms, const std::string& to, const xmpp::Jid& user,
                             const gateway::HttpResponse& success);
  gateway::HttpResponse deliver(const InboundSms& sms, const gateway::HttpResponse& success);
  gateway::HttpResponse hold(const InboundSms& sms, const std::string& contact,
                             const std::string& to, const gateway::HttpResponse& success);
  /// Keeps the provider's id of a message delivered to `user` (empty: held),
  /// so that a repeated webhook is answered without delivering it again.
  void remember_received(const InboundSms& sms, const std::string& user);
  gateway::HttpResponse report(const StatusReport& report, const gateway::HttpResponse& success);

  const gateway::SmsSettings& settings_;
  gateway::AdapterContext& context_;
  SmsNumbers& numbers_;
  std::unique_ptr<Timer> timer_;
  bool timer_armed_ = false;
  bool stopped_ = false;
  /// Shared with pending timer handlers, which must not touch a destroyed this.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace trestle::sms
