#pragma once

#include "http_client.hpp"
#include "http_server.hpp"
#include "sms_config.hpp"
#include "sms_message.hpp"
#include "sms_segments.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace trestle::sms {

/// A message to a phone (MT).
struct OutboundSms {
  /// The user's number and the phone's, E.164.
  std::string from;
  std::string to;
  /// UTF-8.
  std::string text;
  SmsEncoding encoding = SmsEncoding::gsm7;
  /// Trestle's correlation token: the delivery reports carry it back.
  std::string token;
};

/// What a provider made of one webhook request.
struct WebhookRead {
  /// Zero when the request is good; otherwise the HTTP status to answer at
  /// once (403 a bad signature or token, 405 a wrong method, 400 a malformed
  /// or incomplete request) with `reason`.
  unsigned refusal = 0;
  std::string reason;
  /// A message from a phone, or a delivery report (one of them when good).
  std::optional<InboundSms> inbound;
  std::optional<StatusReport> report;
  /// The answer once the message or report is handled.
  gateway::HttpResponse success;
};

/// A webhook request refused at once with `status` and `reason`.
WebhookRead refuse_webhook(unsigned status, std::string reason);

/// One SMS provider's API: how to send, and how its webhooks read. The
/// webhooks live under the component's webhook path; `public_url` is that
/// path's public URL (`https://gateway.example.org/sms/sms.example.org`).
class SmsProvider {
public:
  using OnAnswer = std::function<void(ProviderAnswer)>;

  virtual ~SmsProvider() = default;

  /// `kannel`, `twilio`.
  virtual std::string_view name() const = 0;
  /// The webhook paths, relative to the component's (`/kannel/mo`).
  virtual std::vector<std::string> webhook_paths() const = 0;
  /// Reads a request to one of webhook_paths() (`path` is that suffix).
  virtual WebhookRead read_webhook(std::string_view path,
                                   const gateway::HttpRequest& request) const = 0;
  /// Sends `sms`; `on_answer` is called once, later. False when too many
  /// calls are waiting already, and `on_answer` is never called.
  virtual bool send(const OutboundSms& sms, OnAnswer on_answer) = 0;
  /// Cancels the calls in progress.
  virtual void stop() = 0;
};

/// The HTTP client limits of `settings` (connections, deadline, TLS).
protocols::HttpClientLimits sms_client_limits(const sms::SmsSettings& settings);

/// The provider `settings.provider` names, calling its API from `io`.
/// Throws std::invalid_argument for a provider it does not know.
std::unique_ptr<SmsProvider> make_sms_provider(const sms::SmsSettings& settings,
                                               std::string public_url, boost::asio::io_context& io);

} // namespace trestle::sms
