#pragma once

#include "config.hpp"
#include "http_server.hpp"
#include "sms_message.hpp"

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
/// stored; while the stream is down or congested, or the store fails, the
/// answer is 503 and the provider tries again. A message whose provider id
/// was delivered before is answered 200 and not delivered twice.
class SmsInbound {
public:
  /// `settings`, `context` and `numbers` must outlive this.
  SmsInbound(const gateway::SmsSettings& settings, gateway::AdapterContext& context,
             SmsNumbers& numbers);

  /// Handles a webhook the provider read without refusing it.
  gateway::HttpResponse handle(const WebhookRead& read);

private:
  gateway::HttpResponse deliver(const InboundSms& sms, const gateway::HttpResponse& success);
  gateway::HttpResponse hold(const InboundSms& sms, const std::string& contact,
                             const std::string& to, const gateway::HttpResponse& success);
  gateway::HttpResponse report(const StatusReport& report, const gateway::HttpResponse& success);

  const gateway::SmsSettings& settings_;
  gateway::AdapterContext& context_;
  SmsNumbers& numbers_;
};

} // namespace trestle::sms
