#include "sms_provider.hpp"

#include "kannel_provider.hpp"
#include "twilio_provider.hpp"

#include <chrono>
#include <stdexcept>
#include <utility>

namespace trestle::sms {

protocols::HttpClientLimits sms_client_limits(const sms::SmsSettings& settings) {
  protocols::HttpClientLimits limits;
  limits.max_connections = settings.max_connections;
  // The outbox holds what waits; the client's queue only smooths bursts.
  limits.max_waiting = 4 * settings.max_connections;
  limits.timeout = std::chrono::seconds(settings.request_timeout_seconds);
  limits.verify = settings.verify_certificate;
  limits.ca_file = settings.ca_file;
  return limits;
}

WebhookRead refuse_webhook(unsigned status, std::string reason) {
  WebhookRead read;
  read.refusal = status;
  read.reason = std::move(reason);
  return read;
}

std::unique_ptr<SmsProvider> make_sms_provider(const sms::SmsSettings& settings,
                                               std::string public_url,
                                               boost::asio::io_context& io) {
  if (settings.provider == "kannel") {
    return std::make_unique<KannelProvider>(settings, std::move(public_url), io);
  }
  if (settings.provider == "twilio") {
    return std::make_unique<TwilioProvider>(settings, std::move(public_url), io);
  }
  throw std::invalid_argument("unknown SMS provider '" + settings.provider + "'");
}

} // namespace trestle::sms
