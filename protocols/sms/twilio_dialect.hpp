#pragma once

#include "form_data.hpp"
#include "http_client.hpp"
#include "sms_message.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trestle::sms {

/// A Twilio account, or an account of a provider that speaks Twilio's REST
/// API (2010-04-01) under another base URL.
struct TwilioAccount {
  /// Scheme and host, with or without a trailing slash.
  std::string api_base_url = "https://api.twilio.com";
  /// `AC...`; the user name of HTTP Basic authentication.
  std::string account_sid;
  /// The password of Basic authentication, and the key of webhook signatures.
  std::string auth_token;
};

/// Most media an inbound MMS may carry (Twilio's own limit is 10); a webhook
/// with a larger NumMedia is refused.
inline constexpr std::size_t twilio_max_media = 10;
/// Answers to a send larger than this are not parsed as JSON.
inline constexpr std::size_t twilio_max_answer_bytes = 64 * 1024;
/// Provider texts (error messages, non-JSON bodies) are cut to this many
/// bytes, at a UTF-8 boundary.
inline constexpr std::size_t twilio_max_text_bytes = 200;

/// The request that sends one message: a POST to
/// `{base}/2010-04-01/Accounts/{sid}/Messages.json` with the form fields
/// From, To, Body and StatusCallback (left out when the URL is empty),
/// Basic authentication with the account sid and auth token, and
/// `Accept: application/json`. Twilio splits long texts itself.
protocols::HttpCall twilio_send_call(const TwilioAccount& account, std::string_view from,
                                     std::string_view to, std::string_view body,
                                     std::string_view status_callback_url);

/// Classifies Twilio's answer to a send. A 2xx whose JSON has a string `sid`
/// is accepted (provider_id is the sid, text the message's `status`); a 2xx
/// without one is temporary, since it cannot be matched to status
/// callbacks. 429, 5xx, other statuses and `status` 0 (no answer; the text
/// is `no_answer`) are temporary; other 4xx (bad number, bad credentials,
/// unsubscribed recipient) are permanent. Code and text come from Twilio's
/// error JSON (`code`, `message`); for any other body the code is the HTTP
/// status and the text a cleaned excerpt of the body. Never throws on any
/// body.
ProviderAnswer twilio_send_answer(unsigned status, std::string_view body,
                                  std::string_view no_answer = {});

/// The message of Twilio's inbound webhook (a parsed POST form): From, To,
/// Body (missing or empty is an empty text), MessageSid (or SmsMessageSid),
/// and NumMedia pairs of MediaUrl{N} and MediaContentType{N}. Refused with a
/// reason in `error`: no From, To or sid, a NumMedia that is not a decimal
/// number up to twilio_max_media, a MediaUrl that is missing or not http(s).
/// Twilio's other fields (AccountSid, FromCity, ApiVersion, ...) are ignored.
std::optional<InboundSms> twilio_inbound(const std::vector<FormField>& fields, std::string* error);

/// The report of Twilio's status callback (a parsed POST form): MessageSid
/// (or SmsSid) and MessageStatus (or SmsStatus). queued, accepted,
/// scheduled, sending and sent are pending; delivered and read are
/// delivered; undelivered, failed and canceled are failed; any other status
/// is refused with a reason in `error`. ErrorCode and ErrorMessage, when
/// present, become code and text; a failure without ErrorMessage gets the
/// status word as its text. The token is left empty for the caller, who
/// knows the callback URL.
std::optional<StatusReport> twilio_status(const std::vector<FormField>& fields, std::string* error);

} // namespace trestle::sms
