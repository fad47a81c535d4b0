#pragma once

#include "http_client.hpp"
#include "sms_provider.hpp"
#include "twilio_dialect.hpp"

namespace trestle::sms {

/// A Twilio-compatible REST API: messages go out as `POST .../Messages.json`
/// with a StatusCallback to `/twilio/status?id=<token>`; inbound messages
/// arrive at `/twilio/inbound`. Every webhook must carry a valid
/// X-Twilio-Signature for the public URL (403 otherwise).
class TwilioProvider final : public SmsProvider {
public:
  TwilioProvider(const sms::SmsSettings& settings, std::string public_url,
                 boost::asio::io_context& io);

  std::string_view name() const override { return "twilio"; }
  std::vector<std::string> webhook_paths() const override;
  WebhookRead read_webhook(std::string_view path,
                           const gateway::HttpRequest& request) const override;
  bool send(const OutboundSms& sms, OnAnswer on_answer) override;
  void stop() override;

private:
  TwilioAccount account_;
  std::string public_url_;
  protocols::HttpClient client_;
};

} // namespace trestle::sms
