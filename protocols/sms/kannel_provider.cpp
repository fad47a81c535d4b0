#include "kannel_provider.hpp"

#include "form_data.hpp"

#include <openssl/crypto.h>
#include <utility>

namespace trestle::sms {

namespace {

constexpr std::string_view mo_path = "/kannel/mo";
constexpr std::string_view dlr_path = "/kannel/dlr";

bool same_secret(std::string_view given, std::string_view expected) {
  return given.size() == expected.size() &&
         CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0;
}

} // namespace

KannelProvider::KannelProvider(const sms::SmsSettings& settings, std::string public_url,
                               boost::asio::io_context& io)
    : endpoint_{settings.kannel.sendsms_url, settings.kannel.username, settings.kannel.password,
                public_url + std::string(dlr_path) +
                    "?token=" + form_encode(settings.kannel.webhook_token)},
      webhook_token_(settings.kannel.webhook_token), client_(io, sms_client_limits(settings)) {}

std::vector<std::string> KannelProvider::webhook_paths() const {
  return {std::string(mo_path), std::string(dlr_path)};
}

WebhookRead KannelProvider::read_webhook(std::string_view path,
                                         const gateway::HttpRequest& request) const {
  if (request.method != "GET" && request.method != "POST") {
    return refuse_webhook(405, "this webhook takes GET and POST requests only");
  }
  std::string error;
  const auto query = parse_form(request.query, &error);
  if (!query) {
    return refuse_webhook(400, "malformed query: " + error);
  }
  const auto token = form_value(*query, "token");
  if (!token) {
    return refuse_webhook(403, "the token parameter is missing");
  }
  if (!same_secret(*token, webhook_token_)) {
    return refuse_webhook(403, "the token does not match sms.kannel.webhook_token");
  }
  WebhookRead read;
  read.success.body = "";
  if (path == mo_path) {
    const bool posted = request.method == "POST";
    read.inbound = kannel_inbound(*query, posted ? std::string_view(request.body) : "",
                                  request.headers, posted, &error);
    if (!read.inbound) {
      return refuse_webhook(400, error);
    }
    return read;
  }
  read.report = kannel_report(*query, &error);
  if (!read.report) {
    return refuse_webhook(400, error);
  }
  return read;
}

bool KannelProvider::send(const OutboundSms& sms, OnAnswer on_answer) {
  protocols::HttpCall call;
  call.url = kannel_sendsms_url(endpoint_, sms.from, sms.to, sms.text, sms.encoding, sms.token);
  return client_.request(std::move(call),
                         [on_answer = std::move(on_answer)](protocols::HttpAnswer answer) {
                           on_answer(kannel_send_answer(answer.status, answer.body, answer.error));
                         });
}

void KannelProvider::stop() {
  client_.stop();
}

} // namespace trestle::sms
