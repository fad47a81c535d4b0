#include "twilio_provider.hpp"

#include "form_data.hpp"
#include "twilio_dialect.hpp"
#include "twilio_signature.hpp"

#include <utility>

namespace trestle::sms {

namespace {

constexpr std::string_view inbound_path = "/twilio/inbound";
constexpr std::string_view status_path = "/twilio/status";

} // namespace

TwilioProvider::TwilioProvider(const sms::SmsSettings& settings, std::string public_url,
                               boost::asio::io_context& io)
    : account_{settings.twilio.api_base_url, settings.twilio.account_sid,
               settings.twilio.auth_token},
      public_url_(std::move(public_url)), client_(io, sms_client_limits(settings)) {}

std::vector<std::string> TwilioProvider::webhook_paths() const {
  return {std::string(inbound_path), std::string(status_path)};
}

WebhookRead TwilioProvider::read_webhook(std::string_view path,
                                         const gateway::HttpRequest& request) const {
  if (request.method != "POST") {
    return refuse_webhook(405, "this webhook takes POST requests only");
  }
  std::string error;
  auto fields = parse_form(request.body, &error);
  if (!fields) {
    return refuse_webhook(400, "malformed form: " + error);
  }
  // Twilio signs the URL it was given, which is the public one.
  std::string url = public_url_;
  url.append(path);
  if (!request.query.empty()) {
    url.append("?").append(request.query);
  }
  const auto signature = request.headers.find("x-twilio-signature");
  if (signature == request.headers.end()) {
    return refuse_webhook(403, "the X-Twilio-Signature header is missing");
  }
  if (!twilio_signature_matches(account_.auth_token, url, *fields, signature->second)) {
    return refuse_webhook(403, "the X-Twilio-Signature does not match (check public_base_url and "
                               "the auth token)");
  }
  WebhookRead read;
  if (path == inbound_path) {
    read.inbound = twilio_inbound(*fields, &error);
    if (!read.inbound) {
      return refuse_webhook(400, error);
    }
    // An empty TwiML answer: Twilio sends no reply to the phone.
    read.success.content_type = "text/xml; charset=utf-8";
    read.success.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>";
    return read;
  }
  std::string query_error;
  const auto query = parse_form(request.query, &query_error);
  const auto token = query ? form_value(*query, "id") : std::nullopt;
  if (!token || token->empty()) {
    return refuse_webhook(400, "the status callback URL carries no id");
  }
  read.report = twilio_status(*fields, &error);
  if (!read.report) {
    return refuse_webhook(400, error);
  }
  read.report->token = std::string(*token);
  read.success.status = 204;
  read.success.content_type.clear();
  return read;
}

bool TwilioProvider::send(const OutboundSms& sms, OnAnswer on_answer) {
  std::string callback = public_url_;
  callback.append(status_path).append("?id=").append(form_encode(sms.token));
  return client_.request(twilio_send_call(account_, sms.from, sms.to, sms.text, callback),
                         [on_answer = std::move(on_answer)](protocols::HttpAnswer answer) {
                           on_answer(twilio_send_answer(answer.status, answer.body, answer.error));
                         });
}

void TwilioProvider::stop() {
  client_.stop();
}

} // namespace trestle::sms
