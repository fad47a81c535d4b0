#pragma once

#include "form_data.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace trestle::sms {

/// The `X-Twilio-Signature` of a webhook request as Twilio computes it: the
/// base64 of HMAC-SHA1, keyed by the account's auth token, over the full
/// public URL of the request followed by every POST parameter's name and
/// value, sorted by name (and by value for a repeated name). For a GET
/// request the parameters are in the URL and `params` is empty.
std::string twilio_signature(std::string_view auth_token, std::string_view url,
                             std::vector<FormField> params);

/// Whether `header` is the right signature, compared in constant time.
bool twilio_signature_matches(std::string_view auth_token, std::string_view url,
                              const std::vector<FormField>& params, std::string_view header);

} // namespace trestle::sms
