// Fuzzes the Twilio dialect with what a hostile or broken provider can send,
// and checks:
// - a send answer never throws; its text is valid UTF-8 within the cap and
//   set on every refusal; accepted answers have a sid and a 2xx status; a
//   4xx other than 429 is permanent, and 429, 5xx and no answer temporary;
// - an inbound webhook or status callback built from the input as a form
//   either fails with a reason or gives media within the cap, each an
//   http(s) URL, and a report with a sid and, for a failure, a text.
// The first two bytes of the input pick the HTTP status; the rest is the
// body and, parsed as a form, the webhook fields.
#include "form_data.hpp"
#include "twilio_dialect.hpp"
#include "utf8.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

namespace sms = trestle::sms;
using Kind = sms::ProviderAnswer::Kind;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_twilio_answer: %s\n", what);
    std::abort();
  }
}

void check_answer(unsigned status, std::string_view body) {
  const auto answer = sms::twilio_send_answer(status, body, "no answer");
  check(answer.text.size() <= sms::twilio_max_text_bytes, "text over the cap");
  check(trestle::xmpp::is_valid_utf8(answer.text), "text is not UTF-8");
  check(answer.text.find('\0') == std::string::npos, "NUL in the text");
  check(answer.kind == Kind::accepted || !answer.text.empty(), "refusal without a text");
  if (answer.kind == Kind::accepted) {
    check(status >= 200 && status < 300, "accepted without a 2xx");
    check(!answer.provider_id.empty() && answer.provider_id.size() <= 64, "accepted without a sid");
  } else {
    check(answer.provider_id.empty(), "sid on a refusal");
  }
  if (status >= 400 && status < 500 && status != 429) {
    check(answer.kind == Kind::permanent, "4xx not permanent");
  }
  if (status == 0 || status == 429 || status >= 500) {
    check(answer.kind == Kind::temporary, "retryable answer not temporary");
  }
}

void check_webhooks(std::string_view text) {
  std::string error;
  const auto fields = sms::parse_form(text, &error);
  if (!fields) {
    return;
  }
  error.clear();
  if (const auto inbound = sms::twilio_inbound(*fields, &error)) {
    check(!inbound->provider_id.empty() && !inbound->from.empty() && !inbound->to.empty(),
          "inbound without sid, From or To");
    check(inbound->media.size() <= sms::twilio_max_media, "too many media");
    for (const auto& media : inbound->media) {
      std::string scheme;
      for (const char c : media.url.substr(0, 8)) {
        scheme += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
      }
      check((scheme.starts_with("http://") && media.url.size() > 7) ||
                (scheme.starts_with("https://") && media.url.size() > 8),
            "media URL not http(s)");
    }
  } else {
    check(!error.empty(), "inbound refused without a reason");
  }
  error.clear();
  if (const auto report = sms::twilio_status(*fields, &error)) {
    check(!report->provider_id.empty(), "report without a sid");
    check(report->token.empty(), "token filled in");
    check(report->state != sms::DeliveryState::failed || !report->text.empty(),
          "failure without a text");
    check(trestle::xmpp::is_valid_utf8(report->text) && trestle::xmpp::is_valid_utf8(report->code),
          "report text is not UTF-8");
  } else {
    check(!error.empty(), "status refused without a reason");
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) {
    return 0;
  }
  // 0-599: no answer and every class of status.
  const unsigned status = (data[0] * 256u + data[1]) % 600u;
  const std::string_view body(reinterpret_cast<const char*>(data) + 2, size - 2);
  check_answer(status, body);
  check_webhooks(body);
  return 0;
}
