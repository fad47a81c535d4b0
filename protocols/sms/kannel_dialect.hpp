#pragma once

#include "form_data.hpp"
#include "sms_message.hpp"
#include "sms_segments.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

/// Classifies Kannel's answer to sendsms: 202 ("0: Accepted for delivery",
/// "3: Queued for later delivery") is accepted; a 4xx (authorization
/// failed, missing or bad fields) is permanent; anything else (503
/// "Temporal failure", other 5xx, `status` 0 for no answer) is temporary.
/// The text is Kannel's body, trimmed, or `no_answer` when there was none.
ProviderAnswer kannel_send_answer(unsigned status, std::string_view body,
                                  std::string_view no_answer = {});

/// The state for Kannel's report type (`%d`): 1 delivered, 2 failed and 16
/// rejected by the SMSC are final; 4 buffered and 8 submitted are pending.
/// Nullopt for anything else.
std::optional<DeliveryState> kannel_delivery_state(std::string_view type);

/// A message from a phone as Kannel's sms-service delivers it to trestle
/// (deploy/kannel/kannel.conf): with get-url, the query fields `from` (%p),
/// `to` (%P), `text` (%b), `charset` (%C) and `id` (%I, the same on every
/// retry); with post-url (`posted`), the text is the body in the charset of
/// its Content-Type, the receiver comes from `X-Kannel-To` and the sender
/// from `X-Kannel-From` (kannel.conf's `send-sender = true`), the query
/// giving what the headers lack. Header keys are in lower case. The text
/// must be UTF-8 (kannel.conf's `mo-recode = true` makes UCS-2 texts
/// UTF-8); Latin-1 is taken when the charset says so. Refused with a
/// reason: a missing sender or receiver, 8-bit data, or text in another
/// encoding.
std::optional<InboundSms> kannel_inbound(const std::vector<FormField>& query, std::string_view body,
                                         const std::map<std::string, std::string>& headers,
                                         bool posted, std::string* error);

/// A delivery report on trestle's dlr-url: `id` (trestle's token), `type`
/// (%d) and `answer` (%A, the SMSC's words). Refused with a reason when the
/// id is missing or the type unknown.
std::optional<StatusReport> kannel_report(const std::vector<FormField>& query, std::string* error);

} // namespace trestle::sms
