#include "twilio_dialect.hpp"

#include "address_text.hpp"
#include "base64.hpp"
#include "text_excerpt.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <iterator>
#include <nlohmann/json.hpp>

namespace trestle::sms {

namespace {

using protocols::fail_parse;
using xmpp::one_line;

/// Twilio's sids are 34 characters; other providers of the same API use
/// UUIDs. The bound keeps a hostile id out of the store.
constexpr std::size_t max_sid_bytes = 64;
/// ErrorCode and status words echoed in texts and errors.
constexpr std::size_t max_word_bytes = 32;

/// An id Twilio (or a compatible provider) could have given: printable
/// ASCII without spaces, at most max_sid_bytes.
bool is_usable_sid(std::string_view sid) {
  if (sid.empty() || sid.size() > max_sid_bytes) {
    return false;
  }
  for (const char c : sid) {
    if (c <= 0x20 || c >= 0x7F) {
      return false;
    }
  }
  return true;
}

/// An absolute http or https URL (any case in the scheme) with something
/// after `//` and no spaces or controls.
bool is_http_url(std::string_view url) {
  const auto colon = url.find(':');
  if (colon != 4 && colon != 5) {
    return false;
  }
  std::string scheme;
  for (const char c : url.substr(0, colon)) {
    scheme += protocols::ascii_lower(c);
  }
  if (scheme != "http" && scheme != "https") {
    return false;
  }
  const std::string_view rest = url.substr(colon);
  if (!rest.starts_with("://") || rest.size() == 3) {
    return false;
  }
  for (const char c : rest) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7F) {
      return false;
    }
  }
  return true;
}

/// The first of the fields `name` and `fallback` that is present and not
/// empty.
std::optional<std::string_view> value_or_fallback(const std::vector<FormField>& fields,
                                                  std::string_view name,
                                                  std::string_view fallback) {
  const auto value = form_value(fields, name);
  if (value && !value->empty()) {
    return value;
  }
  const auto second = form_value(fields, fallback);
  if (second && !second->empty()) {
    return second;
  }
  return std::nullopt;
}

/// NumMedia as a count up to twilio_max_media; a missing field is 0.
std::optional<std::size_t> media_count(const std::vector<FormField>& fields, std::string* error) {
  const auto text = form_value(fields, "NumMedia");
  if (!text) {
    return 0;
  }
  std::size_t count = 0;
  const char* end = text->data() + text->size();
  const auto [stop, problem] = std::from_chars(text->data(), end, count);
  if (text->empty() || problem != std::errc() || stop != end || count > twilio_max_media) {
    return fail_parse(error, "NumMedia '" + one_line(*text, max_word_bytes) +
                                 "' is not a number from 0 to " + std::to_string(twilio_max_media));
  }
  return count;
}

/// Twilio's answer as JSON; discarded when it is too large or not JSON.
nlohmann::json parse_answer(std::string_view body) {
  if (body.size() > twilio_max_answer_bytes) {
    return nlohmann::json(nlohmann::json::value_t::discarded);
  }
  return nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
}

/// The string member `name` of `json`, or nullptr when `json` is not an
/// object or the member is missing or not a string.
const std::string* string_member(const nlohmann::json& json, const char* name) {
  if (!json.is_object()) {
    return nullptr;
  }
  const auto member = json.find(name);
  return member == json.end() ? nullptr : member->get_ptr<const std::string*>();
}

/// Twilio's error `code`: a non-negative integer, or a string of up to ten
/// digits; empty for anything else.
std::string error_code(const nlohmann::json& json) {
  if (!json.is_object()) {
    return {};
  }
  const auto member = json.find("code");
  if (member == json.end()) {
    return {};
  }
  if (member->is_number_unsigned()) {
    return std::to_string(member->get<std::uint64_t>());
  }
  const auto* text = member->get_ptr<const std::string*>();
  if (text == nullptr || text->empty() || text->size() > 10) {
    return {};
  }
  for (const char c : *text) {
    if (!protocols::is_ascii_digit(c)) {
      return {};
    }
  }
  return *text;
}

/// Why a 2xx answer gives no sid to follow the message by.
std::string missing_sid(unsigned status, std::string_view body, const nlohmann::json& json) {
  std::string text = "Twilio answered " + std::to_string(status) + " but ";
  if (body.size() > twilio_max_answer_bytes) {
    return text + "the answer is over " + std::to_string(twilio_max_answer_bytes) + " bytes";
  }
  if (json.is_discarded()) {
    return text + "the answer is not JSON";
  }
  return text + "without a usable message sid";
}

/// twilio_send_answer() for an answer that came (status not 0).
ProviderAnswer classify(unsigned status, std::string_view body) {
  ProviderAnswer answer;
  answer.code = std::to_string(status);
  const nlohmann::json json = parse_answer(body);
  if (status >= 200 && status < 300) {
    const auto* sid = string_member(json, "sid");
    if (sid == nullptr || !is_usable_sid(*sid)) {
      answer.kind = ProviderAnswer::Kind::temporary;
      answer.text = missing_sid(status, body, json);
      return answer;
    }
    answer.kind = ProviderAnswer::Kind::accepted;
    answer.provider_id = *sid;
    if (const auto* state = string_member(json, "status")) {
      answer.text = one_line(*state, max_word_bytes);
    }
    return answer;
  }
  const bool refused = status >= 400 && status < 500 && status != 429;
  answer.kind = refused ? ProviderAnswer::Kind::permanent : ProviderAnswer::Kind::temporary;
  if (auto code = error_code(json); !code.empty()) {
    answer.code = std::move(code);
  }
  if (const auto* message = string_member(json, "message")) {
    answer.text = one_line(*message, twilio_max_text_bytes);
  }
  if (answer.text.empty()) {
    answer.text = one_line(body, twilio_max_text_bytes);
  }
  if (answer.text.empty()) {
    answer.text = "Twilio answered " + std::to_string(status) + " without a body";
  }
  return answer;
}

/// What a status callback's MessageStatus means.
struct StatusWord {
  std::string_view word;
  DeliveryState state;
};

constexpr StatusWord status_words[] = {
    {"queued", DeliveryState::pending},
    {"accepted", DeliveryState::pending},
    {"scheduled", DeliveryState::pending},
    {"sending", DeliveryState::pending},
    {"sent", DeliveryState::pending},
    {"delivered", DeliveryState::delivered},
    {"read", DeliveryState::delivered},
    {"undelivered", DeliveryState::failed},
    {"failed", DeliveryState::failed},
    {"canceled", DeliveryState::failed},
    // Some parts of a long text arrived, so far: a final status follows.
    {"partially_delivered", DeliveryState::pending},
};

} // namespace

protocols::HttpCall twilio_send_call(const TwilioAccount& account, std::string_view from,
                                     std::string_view to, std::string_view body,
                                     std::string_view status_callback_url) {
  protocols::HttpCall call;
  call.method = "POST";
  std::string_view base = account.api_base_url;
  while (base.ends_with('/')) {
    base.remove_suffix(1);
  }
  call.url = std::string(base) + "/2010-04-01/Accounts/" + form_encode(account.account_sid) +
             "/Messages.json";
  call.body = "From=" + form_encode(from) + "&To=" + form_encode(to) + "&Body=" + form_encode(body);
  if (!status_callback_url.empty()) {
    call.body += "&StatusCallback=" + form_encode(status_callback_url);
  }
  call.headers = {
      {"Content-Type", "application/x-www-form-urlencoded"},
      {"Accept", "application/json"},
      {"Authorization",
       "Basic " + protocols::base64_encode(account.account_sid + ":" + account.auth_token)},
  };
  return call;
}

ProviderAnswer twilio_send_answer(unsigned status, std::string_view body,
                                  std::string_view no_answer) {
  if (status == 0) {
    ProviderAnswer answer;
    answer.kind = ProviderAnswer::Kind::temporary;
    answer.text = no_answer.empty() ? "no answer from Twilio" : std::string(no_answer);
    return answer;
  }
  // The parse does not throw, and the members are read by type; this only
  // keeps a library surprise from escaping into the adapter.
  try {
    return classify(status, body);
  } catch (const nlohmann::json::exception& e) {
    ProviderAnswer answer;
    answer.kind = ProviderAnswer::Kind::temporary;
    answer.code = std::to_string(status);
    answer.text = std::string("unreadable answer: ") + e.what();
    return answer;
  }
}

std::optional<InboundSms> twilio_inbound(const std::vector<FormField>& fields, std::string* error) {
  InboundSms sms;
  const auto from = form_value(fields, "From");
  const auto to = form_value(fields, "To");
  if (!from || from->empty()) {
    return fail_parse(error, "no From");
  }
  if (!to || to->empty()) {
    return fail_parse(error, "no To");
  }
  const auto sid = value_or_fallback(fields, "MessageSid", "SmsMessageSid");
  if (!sid) {
    return fail_parse(error, "no MessageSid");
  }
  if (!is_usable_sid(*sid)) {
    return fail_parse(error, "MessageSid is not an id of at most " + std::to_string(max_sid_bytes) +
                                 " printable characters");
  }
  const auto count = media_count(fields, error);
  if (!count) {
    return std::nullopt;
  }
  for (std::size_t n = 0; n < *count; ++n) {
    const std::string url_name = "MediaUrl" + std::to_string(n);
    const auto url = form_value(fields, url_name);
    if (!url) {
      return fail_parse(error, "no " + url_name + " though NumMedia is " + std::to_string(*count));
    }
    if (!is_http_url(*url)) {
      return fail_parse(error, url_name + " is not an http(s) URL");
    }
    const auto type = form_value(fields, "MediaContentType" + std::to_string(n));
    sms.media.push_back({std::string(*url), std::string(type.value_or(""))});
  }
  sms.provider_id = *sid;
  sms.from = *from;
  sms.to = *to;
  sms.body = form_value(fields, "Body").value_or("");
  return sms;
}

std::optional<StatusReport> twilio_status(const std::vector<FormField>& fields,
                                          std::string* error) {
  const auto sid = value_or_fallback(fields, "MessageSid", "SmsSid");
  if (!sid) {
    return fail_parse(error, "no MessageSid");
  }
  if (!is_usable_sid(*sid)) {
    return fail_parse(error, "MessageSid is not an id of at most " + std::to_string(max_sid_bytes) +
                                 " printable characters");
  }
  const auto word = value_or_fallback(fields, "MessageStatus", "SmsStatus");
  if (!word) {
    return fail_parse(error, "no MessageStatus");
  }
  const auto* known = std::find_if(std::begin(status_words), std::end(status_words),
                                   [&](const StatusWord& entry) { return entry.word == *word; });
  if (known == std::end(status_words)) {
    return fail_parse(error, "unknown MessageStatus '" + one_line(*word, max_word_bytes) + "'");
  }
  StatusReport report;
  report.provider_id = *sid;
  report.state = known->state;
  report.code = one_line(form_value(fields, "ErrorCode").value_or(""), max_word_bytes);
  report.text = one_line(form_value(fields, "ErrorMessage").value_or(""), twilio_max_text_bytes);
  if (report.state == DeliveryState::failed && report.text.empty()) {
    report.text = known->word;
  }
  return report;
}

} // namespace trestle::sms
