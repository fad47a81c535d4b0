// Fuzzes the webhook form and query parser with what a hostile client can
// post, and checks:
// - a parse either fails with a reason or gives fields within the limits,
//   each name and value valid UTF-8 without NUL;
// - encoding the fields again and parsing that gives the same fields;
// - the Twilio signature of any fields is 28 characters of base64;
// - Kannel's MO and DLR readers either refuse with a reason or give a
//   message whose text is valid UTF-8 with a sender and a receiver, or a
//   report with an id.
#include "form_data.hpp"
#include "kannel_dialect.hpp"
#include "twilio_signature.hpp"
#include "utf8.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

namespace {

namespace sms = trestle::sms;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_sms_form: %s\n", what);
    std::abort();
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  sms::FormLimits limits;
  limits.max_fields = 32;
  limits.max_name_bytes = 64;
  limits.max_value_bytes = 1024;
  std::string error;
  const auto fields = sms::parse_form(text, &error, limits);
  if (!fields) {
    check(!error.empty(), "refused without a reason");
    return 0;
  }
  check(fields->size() <= limits.max_fields, "too many fields");
  std::string again;
  for (const auto& field : *fields) {
    check(field.name.size() <= limits.max_name_bytes, "name over the limit");
    check(field.value.size() <= limits.max_value_bytes, "value over the limit");
    check(trestle::xmpp::is_valid_utf8(field.name) && trestle::xmpp::is_valid_utf8(field.value),
          "not UTF-8");
    check(field.name.find('\0') == std::string::npos && field.value.find('\0') == std::string::npos,
          "NUL kept");
    if (!again.empty()) {
      again += '&';
    }
    again.append(sms::form_encode(field.name)).append("=").append(sms::form_encode(field.value));
  }
  const auto reparsed = sms::parse_form(again, &error, limits);
  check(reparsed.has_value(), "re-encoded form refused");
  check(*reparsed == *fields, "round trip changed the fields");
  check(sms::twilio_signature("token", "https://example.org/hook", *fields).size() == 28,
        "signature is not 28 characters");

  // The same bytes as a Kannel get-url query, and as a post-url body.
  for (const bool posted : {false, true}) {
    const std::map<std::string, std::string> headers = {
        {"content-type", "text/plain; charset=\"UTF-8\""}, {"x-kannel-to", "+15550001111"}};
    error.clear();
    const auto inbound =
        sms::kannel_inbound(*fields, text, posted ? headers : decltype(headers){}, posted, &error);
    if (inbound) {
      check(!inbound->from.empty() && !inbound->to.empty(), "a message without its numbers");
      check(trestle::xmpp::is_valid_utf8(inbound->body), "a message text that is not UTF-8");
    } else {
      check(!error.empty(), "an MO refused without a reason");
    }
  }
  error.clear();
  const auto report = sms::kannel_report(*fields, &error);
  check(report ? !report->token.empty() : !error.empty(), "a report without an id or a reason");
  return 0;
}
