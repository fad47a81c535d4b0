#pragma once

#include "sms_segments.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace trestle::sms {

/// How trestle reaches a Kannel smsbox and how Kannel calls back.
struct KannelEndpoint {
  /// The smsbox sendsms URL (`http://127.0.0.1:13013/cgi-bin/sendsms`).
  std::string sendsms_url;
  /// A `sendsms-user` of kannel.conf.
  std::string username;
  std::string password;
  /// The public URL Kannel calls with delivery reports (trestle's webhook).
  std::string dlr_url;
};

/// The sendsms request (a GET URL) for one message: username, password,
/// from, to, the text in UTF-8 (`charset=UTF-8`, `coding` 0 for GSM-7 or 2
/// for UCS-2), `dlr-mask=31` (delivered, failed, buffered, submitted,
/// rejected) and a `dlr-url` that carries `correlation_id` back with
/// Kannel's `%d` (report type) and `%A` (the SMSC's answer). Kannel splits
/// long texts itself (`max-messages` of the sendsms-user).
std::string kannel_sendsms_url(const KannelEndpoint& endpoint, std::string_view from,
                               std::string_view to, std::string_view text, SmsEncoding encoding,
                               std::string_view correlation_id);

/// How a sendsms call went.
enum class SendOutcome {
  /// 202 ("0: Accepted for delivery", "3: Queued for later delivery").
  accepted,
  /// Try again later: 503 ("Temporal failure"), other 5xx, no answer.
  temporary,
  /// Refused for good: 4xx (authorization failed, missing or bad fields).
  permanent,
};

/// Classifies Kannel's answer to sendsms (`status` is the HTTP status).
SendOutcome kannel_send_outcome(int status);

/// What a delivery report says about a message.
enum class DeliveryState { delivered, failed, pending };

/// The state for Kannel's report type (`%d`): 1 delivered, 2 failed and 16
/// rejected by the SMSC are final; 4 buffered and 8 submitted are pending.
/// Nullopt for anything else.
std::optional<DeliveryState> kannel_delivery_state(std::string_view type);

} // namespace trestle::sms
