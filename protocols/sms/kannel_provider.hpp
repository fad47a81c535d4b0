#pragma once

#include "http_client.hpp"
#include "kannel_dialect.hpp"
#include "sms_provider.hpp"

namespace trestle::sms {

/// A Kannel smsbox: messages go out through its sendsms interface with a
/// dlr-url to `/kannel/dlr`; messages from phones arrive at `/kannel/mo`
/// (an sms-service's get-url or post-url). Every webhook call must carry the
/// configured `token` (403 otherwise): Kannel cannot sign its calls.
class KannelProvider final : public SmsProvider {
public:
  KannelProvider(const sms::SmsSettings& settings, std::string public_url,
                 boost::asio::io_context& io);

  std::string_view name() const override { return "kannel"; }
  std::vector<std::string> webhook_paths() const override;
  WebhookRead read_webhook(std::string_view path,
                           const gateway::HttpRequest& request) const override;
  bool send(const OutboundSms& sms, OnAnswer on_answer) override;
  void stop() override;

private:
  KannelEndpoint endpoint_;
  std::string webhook_token_;
  protocols::HttpClient client_;
};

} // namespace trestle::sms
