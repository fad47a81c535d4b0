#include "base64.hpp"
#include "form_data.hpp"
#include "twilio_dialect.hpp"
#include "utf8.hpp"

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

using trestle::sms::DeliveryState;
using trestle::sms::form_value;
using trestle::sms::FormField;
using trestle::sms::parse_form;
using trestle::sms::twilio_inbound;
using trestle::sms::twilio_send_answer;
using trestle::sms::twilio_send_call;
using trestle::sms::twilio_status;
using trestle::sms::TwilioAccount;
using Kind = trestle::sms::ProviderAnswer::Kind;

namespace {

TwilioAccount account() {
  return {"https://api.twilio.com", "AC0123456789abcdef0123456789abcdef", "tok:en&secret"};
}

std::string header(const trestle::protocols::HttpCall& call, std::string_view name) {
  for (const auto& [key, value] : call.headers) {
    if (key == name) {
      return value;
    }
  }
  return "(missing)";
}

/// A Message resource as Twilio's API reference shows it after a create.
const std::string created_message = R"({
  "account_sid": "AC0123456789abcdef0123456789abcdef",
  "api_version": "2010-04-01",
  "body": "Hi there",
  "date_created": "Thu, 24 Aug 2023 05:01:45 +0000",
  "date_sent": null,
  "date_updated": "Thu, 24 Aug 2023 05:01:45 +0000",
  "direction": "outbound-api",
  "error_code": null,
  "error_message": null,
  "from": "+14155552345",
  "messaging_service_sid": null,
  "num_media": "0",
  "num_segments": "1",
  "price": null,
  "price_unit": null,
  "sid": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
  "status": "queued",
  "subresource_uris": {
    "media": "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages/SM1f0e8ae6ade43cb3c0ce4525424e404f/Media.json"
  },
  "to": "+14155559876",
  "uri": "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages/SM1f0e8ae6ade43cb3c0ce4525424e404f.json"
})";

/// The fields of an inbound MMS webhook as Twilio posts them, with
/// `media` attachments.
std::vector<FormField> inbound_fields(int media) {
  std::vector<FormField> fields = {
      {"ToCountry", "US"},
      {"ToState", "CA"},
      {"SmsMessageSid", "MM0123456789abcdef0123456789abcdef"},
      {"NumMedia", std::to_string(media)},
      {"ToCity", "SAN FRANCISCO"},
      {"FromZip", "94103"},
      {"SmsSid", "MM0123456789abcdef0123456789abcdef"},
      {"FromState", "CA"},
      {"SmsStatus", "received"},
      {"FromCity", "SAN FRANCISCO"},
      {"Body", "Hello ça va?"},
      {"FromCountry", "US"},
      {"To", "+14155559876"},
      {"MessagingServiceSid", ""},
      {"ToZip", "94107"},
      {"NumSegments", "1"},
      {"MessageSid", "MM0123456789abcdef0123456789abcdef"},
      {"AccountSid", "AC0123456789abcdef0123456789abcdef"},
      {"From", "+14155552345"},
      {"ApiVersion", "2010-04-01"},
  };
  for (int n = 0; n < media; ++n) {
    fields.push_back({"MediaContentType" + std::to_string(n), n == 0 ? "image/jpeg" : "video/mp4"});
    fields.push_back(
        {"MediaUrl" + std::to_string(n),
         "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef"
         "/Messages/MM0123456789abcdef0123456789abcdef/Media/ME" +
             std::to_string(n)});
  }
  return fields;
}

std::vector<FormField> without(std::vector<FormField> fields, std::string_view name) {
  std::erase_if(fields, [&](const FormField& field) { return field.name == name; });
  return fields;
}

std::vector<FormField> with(std::vector<FormField> fields, std::string_view name,
                            std::string value) {
  fields = without(std::move(fields), name);
  fields.push_back({std::string(name), std::move(value)});
  return fields;
}

std::vector<FormField> status_fields(std::string status) {
  return {{"SmsSid", "SM1f0e8ae6ade43cb3c0ce4525424e404f"},
          {"SmsStatus", status},
          {"MessageStatus", status},
          {"To", "+14155559876"},
          {"MessageSid", "SM1f0e8ae6ade43cb3c0ce4525424e404f"},
          {"AccountSid", "AC0123456789abcdef0123456789abcdef"},
          {"From", "+14155552345"},
          {"ApiVersion", "2010-04-01"}};
}

} // namespace

BOOST_AUTO_TEST_SUITE(twilio_dialect)

BOOST_AUTO_TEST_CASE(send_call_posts_the_form_with_basic_auth) {
  const auto call = twilio_send_call(account(), "+14155552345", "+14155559876", "Hi & bye ç 👍",
                                     "https://gw.example.org/sms/twilio/status?t=a b&x=1");
  BOOST_TEST(call.method == "POST");
  BOOST_TEST(call.url == "https://api.twilio.com/2010-04-01/Accounts/"
                         "AC0123456789abcdef0123456789abcdef/Messages.json");
  std::string error;
  const auto fields = parse_form(call.body, &error);
  BOOST_REQUIRE_MESSAGE(fields, error);
  const std::vector<FormField> expected = {
      {"From", "+14155552345"},
      {"To", "+14155559876"},
      {"Body", "Hi & bye ç 👍"},
      {"StatusCallback", "https://gw.example.org/sms/twilio/status?t=a b&x=1"}};
  BOOST_TEST((*fields == expected));
  BOOST_TEST(header(call, "Content-Type") == "application/x-www-form-urlencoded");
  BOOST_TEST(header(call, "Accept") == "application/json");
  BOOST_TEST(header(call, "Authorization") ==
             "Basic " + trestle::protocols::base64_encode(
                            "AC0123456789abcdef0123456789abcdef:tok:en&secret"));
  // Decoded by hand: "ACx:y" is QUN4Onk=.
  BOOST_TEST(header(twilio_send_call({"http://h", "ACx", "y"}, "a", "b", "c", ""),
                    "Authorization") == "Basic QUN4Onk=");
}

BOOST_AUTO_TEST_CASE(send_call_base_url_and_sid_are_joined_cleanly) {
  TwilioAccount other = account();
  other.api_base_url = "http://127.0.0.1:8099/";
  other.account_sid = "AC/../x y";
  const auto call = twilio_send_call(other, "+1", "+2", "", "");
  BOOST_TEST(call.url == "http://127.0.0.1:8099/2010-04-01/Accounts/AC%2F..%2Fx%20y/Messages.json");
  // Without a status callback URL the field is left out; an empty body stays.
  std::string error;
  const auto fields = parse_form(call.body, &error);
  BOOST_REQUIRE_MESSAGE(fields, error);
  BOOST_TEST(!form_value(*fields, "StatusCallback").has_value());
  BOOST_TEST(form_value(*fields, "Body").value_or("(missing)") == "");
}

BOOST_AUTO_TEST_CASE(created_message_is_accepted_with_its_sid) {
  const auto answer = twilio_send_answer(201, created_message);
  BOOST_TEST((answer.kind == Kind::accepted));
  BOOST_TEST(answer.provider_id == "SM1f0e8ae6ade43cb3c0ce4525424e404f");
  BOOST_TEST(answer.code == "201");
  BOOST_TEST(answer.text == "queued");
  BOOST_TEST((twilio_send_answer(200, R"({"sid":"SMabc"})").kind == Kind::accepted));
  // A compatible provider's UUID sid is fine too.
  BOOST_TEST(
      twilio_send_answer(201, R"({"sid":"b3877c40-da60-4998-90ad-b792e98472af"})").provider_id ==
      "b3877c40-da60-4998-90ad-b792e98472af");
}

BOOST_AUTO_TEST_CASE(success_without_a_sid_is_temporary) {
  for (const std::string& body :
       {std::string(), std::string("OK"), std::string("{}"), std::string("[]"), std::string("null"),
        std::string(R"({"sid": 42})"), std::string(R"({"sid": ""})"),
        std::string(R"({"sid": null})"), std::string(R"({"sid": ["SM1"]})"),
        std::string(R"({"sid": "SM 1"})"),
        std::string(R"({"sid": ")") + std::string(65, 'a') + "\"}",
        std::string(R"({"sid": "SM1")")}) {
    const auto answer = twilio_send_answer(201, body);
    BOOST_TEST_CONTEXT("body " << body) {
      BOOST_TEST((answer.kind == Kind::temporary));
      BOOST_TEST(answer.provider_id.empty());
      BOOST_TEST(answer.text.starts_with("Twilio answered 201 but "));
    }
  }
  BOOST_TEST(twilio_send_answer(201, "<html>").text ==
             "Twilio answered 201 but the answer is not JSON");
  BOOST_TEST(twilio_send_answer(201, "{}").text ==
             "Twilio answered 201 but without a usable message sid");
}

BOOST_AUTO_TEST_CASE(invalid_number_is_permanent_with_twilio_code_and_message) {
  const auto answer = twilio_send_answer(400, R"({
    "code": 21211,
    "message": "The 'To' number +1555 is not a valid phone number.",
    "more_info": "https://www.twilio.com/docs/errors/21211",
    "status": 400
  })");
  BOOST_TEST((answer.kind == Kind::permanent));
  BOOST_TEST(answer.code == "21211");
  BOOST_TEST(answer.text == "The 'To' number +1555 is not a valid phone number.");
  BOOST_TEST(answer.provider_id.empty());
}

BOOST_AUTO_TEST_CASE(bad_credentials_are_permanent) {
  const auto answer = twilio_send_answer(401, R"({"code": 20003,
    "detail": "Your AccountSid or AuthToken was incorrect.",
    "message": "Authentication Error - invalid username",
    "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401})");
  BOOST_TEST((answer.kind == Kind::permanent));
  BOOST_TEST(answer.code == "20003");
  BOOST_TEST(answer.text == "Authentication Error - invalid username");
}

BOOST_AUTO_TEST_CASE(unsubscribed_recipient_is_permanent) {
  const auto answer = twilio_send_answer(
      400, R"({"code": 21610, "message": "Attempt to send to unsubscribed recipient",
               "more_info": "https://www.twilio.com/docs/errors/21610", "status": 400})");
  BOOST_TEST((answer.kind == Kind::permanent));
  BOOST_TEST(answer.code == "21610");
  BOOST_TEST(answer.text == "Attempt to send to unsubscribed recipient");
}

BOOST_AUTO_TEST_CASE(rate_limits_and_server_errors_are_temporary) {
  const auto limited =
      twilio_send_answer(429, R"({"code": 20429, "message": "Too Many Requests", "more_info":
               "https://www.twilio.com/docs/errors/20429", "status": 429})");
  BOOST_TEST((limited.kind == Kind::temporary));
  BOOST_TEST(limited.code == "20429");
  BOOST_TEST(limited.text == "Too Many Requests");
  const auto unavailable = twilio_send_answer(503, "Service Unavailable\r\n");
  BOOST_TEST((unavailable.kind == Kind::temporary));
  BOOST_TEST(unavailable.code == "503");
  BOOST_TEST(unavailable.text == "Service Unavailable");
  BOOST_TEST((twilio_send_answer(500, "").kind == Kind::temporary));
  BOOST_TEST((twilio_send_answer(502, "<html></html>").kind == Kind::temporary));
  // A redirect means a wrong base URL or a proxy in the way; not final.
  BOOST_TEST((twilio_send_answer(302, "").kind == Kind::temporary));
  BOOST_TEST((twilio_send_answer(404, "").kind == Kind::permanent));
}

BOOST_AUTO_TEST_CASE(no_answer_is_temporary_with_the_reason) {
  const auto answer = twilio_send_answer(0, "", "timed out after 30 s");
  BOOST_TEST((answer.kind == Kind::temporary));
  BOOST_TEST(answer.code.empty());
  BOOST_TEST(answer.text == "timed out after 30 s");
  BOOST_TEST(twilio_send_answer(0, "").text == "no answer from Twilio");
}

BOOST_AUTO_TEST_CASE(non_json_and_empty_error_bodies_give_the_http_status) {
  const auto html = twilio_send_answer(400, "  <html>\n<body>Bad\tRequest</body></html>\n");
  BOOST_TEST(html.code == "400");
  BOOST_TEST(html.text == "<html> <body>Bad Request</body></html>");
  const auto empty = twilio_send_answer(403, "");
  BOOST_TEST((empty.kind == Kind::permanent));
  BOOST_TEST(empty.code == "403");
  BOOST_TEST(empty.text == "Twilio answered 403 without a body");
  BOOST_TEST(twilio_send_answer(503, " \r\n").text == "Twilio answered 503 without a body");
}

BOOST_AUTO_TEST_CASE(huge_and_binary_bodies_are_cut_to_clean_text) {
  const std::string huge(1024 * 1024, 'x');
  const auto answer = twilio_send_answer(500, huge);
  BOOST_TEST((answer.kind == Kind::temporary));
  BOOST_TEST(answer.code == "500");
  BOOST_TEST(answer.text.size() <= trestle::sms::twilio_max_text_bytes);
  BOOST_TEST(answer.text.ends_with("…"));
  // JSON over the size cap is not parsed, even on success.
  std::string padded = R"({"sid":"SM1","pad":")" + std::string(70 * 1024, 'p') + "\"}";
  const auto big = twilio_send_answer(201, padded);
  BOOST_TEST((big.kind == Kind::temporary));
  BOOST_TEST(big.text.find("over 65536 bytes") != std::string::npos);
  // Cut on a character boundary, broken bytes and controls replaced.
  std::string accents;
  for (int i = 0; i < 300; ++i) {
    accents += "é";
  }
  const auto cut = twilio_send_answer(400, accents);
  BOOST_TEST(cut.text.size() <= trestle::sms::twilio_max_text_bytes);
  BOOST_TEST(trestle::xmpp::is_valid_utf8(cut.text));
  const auto binary = twilio_send_answer(400, std::string("a\xff\xfe\0b\x01\x7f"
                                                          "c",
                                                          8));
  BOOST_TEST(binary.text == "a\xEF\xBF\xBD\xEF\xBF\xBD b c");
}

BOOST_AUTO_TEST_CASE(error_json_of_wrong_types_does_not_throw) {
  const auto as_string = twilio_send_answer(400, R"({"code":"21211","message":"bad To"})");
  BOOST_TEST(as_string.code == "21211");
  BOOST_TEST(as_string.text == "bad To");
  for (const std::string& body :
       {std::string(R"({"code":-1,"message":5})"), std::string(R"({"code":21.5,"message":null})"),
        std::string(R"({"code":"21211x","message":["a"]})"),
        std::string(R"({"code":{"a":1},"message":{}})"), std::string(R"({"code":"12345678901"})"),
        std::string(R"({"code":true})"), std::string(R"([21211])"),
        std::string(R"("just a string")"), std::string("42")}) {
    BOOST_TEST_CONTEXT("body " << body) {
      const auto answer = twilio_send_answer(400, body);
      BOOST_TEST((answer.kind == Kind::permanent));
      BOOST_TEST(answer.code == "400");
      BOOST_TEST(!answer.text.empty());
    }
  }
  // A huge code number still fits.
  BOOST_TEST(twilio_send_answer(400, R"({"code":18446744073709551615})").code ==
             "18446744073709551615");
  // NUL and newlines escaped in JSON do not reach the text.
  BOOST_TEST(twilio_send_answer(400, R"({"message":"a\u0000b\nc"})").text == "a b c");
  // Deep nesting is refused or read without running out of stack.
  const std::string deep = std::string(30000, '[') + std::string(30000, ']');
  BOOST_TEST((twilio_send_answer(400, deep).kind == Kind::permanent));
}

BOOST_AUTO_TEST_CASE(inbound_sms_without_media) {
  std::string error;
  const auto sms = twilio_inbound(inbound_fields(0), &error);
  BOOST_REQUIRE_MESSAGE(sms, error);
  BOOST_TEST(sms->provider_id == "MM0123456789abcdef0123456789abcdef");
  BOOST_TEST(sms->from == "+14155552345");
  BOOST_TEST(sms->to == "+14155559876");
  BOOST_TEST(sms->body == "Hello ça va?");
  BOOST_TEST(sms->media.empty());
  // NumMedia missing is no media.
  BOOST_TEST(twilio_inbound(without(inbound_fields(0), "NumMedia"), &error).has_value());
}

BOOST_AUTO_TEST_CASE(inbound_mms_with_one_and_two_media) {
  std::string error;
  const auto one = twilio_inbound(with(inbound_fields(1), "Body", ""), &error);
  BOOST_REQUIRE_MESSAGE(one, error);
  BOOST_TEST(one->body.empty());
  BOOST_REQUIRE(one->media.size() == 1u);
  BOOST_TEST(one->media[0].content_type == "image/jpeg");
  BOOST_TEST(one->media[0].url.ends_with("/Media/ME0"));
  const auto two = twilio_inbound(inbound_fields(2), &error);
  BOOST_REQUIRE_MESSAGE(two, error);
  BOOST_REQUIRE(two->media.size() == 2u);
  BOOST_TEST(two->media[1].content_type == "video/mp4");
  BOOST_TEST(two->media[1].url.ends_with("/Media/ME1"));
  // Media beyond NumMedia are not read; a missing type is empty.
  const auto extra = twilio_inbound(with(inbound_fields(2), "NumMedia", "1"), &error);
  BOOST_REQUIRE_MESSAGE(extra, error);
  BOOST_TEST(extra->media.size() == 1u);
  const auto untyped = twilio_inbound(without(inbound_fields(1), "MediaContentType0"), &error);
  BOOST_REQUIRE_MESSAGE(untyped, error);
  BOOST_TEST(untyped->media[0].content_type.empty());
}

BOOST_AUTO_TEST_CASE(inbound_sid_falls_back_to_sms_message_sid) {
  std::string error;
  const auto sms = twilio_inbound(
      with(without(inbound_fields(0), "MessageSid"), "SmsMessageSid", "SMold"), &error);
  BOOST_REQUIRE_MESSAGE(sms, error);
  BOOST_TEST(sms->provider_id == "SMold");
  BOOST_TEST(twilio_inbound(without(inbound_fields(0), "Body"), &error)->body.empty());
}

BOOST_AUTO_TEST_CASE(inbound_without_required_fields_is_refused) {
  std::string error;
  BOOST_TEST(!twilio_inbound(without(inbound_fields(0), "From"), &error));
  BOOST_TEST(error == "no From");
  BOOST_TEST(!twilio_inbound(with(inbound_fields(0), "To", ""), &error));
  BOOST_TEST(error == "no To");
  BOOST_TEST(
      !twilio_inbound(without(without(inbound_fields(0), "MessageSid"), "SmsMessageSid"), &error));
  BOOST_TEST(error == "no MessageSid");
  BOOST_TEST(!twilio_inbound(with(inbound_fields(0), "MessageSid", "SM 1"), &error));
  BOOST_TEST(error.find("printable") != std::string::npos);
  BOOST_TEST(!twilio_inbound({}, &error));
  BOOST_TEST(!twilio_inbound(without(inbound_fields(0), "From"), nullptr));
}

BOOST_AUTO_TEST_CASE(inbound_with_a_bad_num_media_is_refused) {
  std::string error;
  for (const std::string count :
       {"-1", "99999999999", "x", "", "1x", " 1", "+1", "11", "0x1", "184467440737095516160"}) {
    BOOST_TEST_CONTEXT("NumMedia " << count) {
      error.clear();
      BOOST_TEST(!twilio_inbound(with(inbound_fields(0), "NumMedia", count), &error));
      BOOST_TEST(error.find("is not a number from 0 to 10") != std::string::npos);
    }
  }
  BOOST_TEST(twilio_inbound(inbound_fields(10), &error).has_value());
}

BOOST_AUTO_TEST_CASE(inbound_with_bad_media_urls_is_refused) {
  std::string error;
  BOOST_TEST(!twilio_inbound(without(inbound_fields(2), "MediaUrl1"), &error));
  BOOST_TEST(error == "no MediaUrl1 though NumMedia is 2");
  for (const std::string url :
       {"", "ftp://example.org/a", "file:///etc/passwd", "https://", "javascript:alert(1)",
        "https://a b", "//example.org/a", "https:/x"}) {
    BOOST_TEST_CONTEXT("MediaUrl0 " << url) {
      BOOST_TEST(!twilio_inbound(with(inbound_fields(1), "MediaUrl0", url), &error));
      BOOST_TEST(error == "MediaUrl0 is not an http(s) URL");
    }
  }
  BOOST_TEST(twilio_inbound(with(inbound_fields(1), "MediaUrl0", "HTTP://127.0.0.1:8080/m"), &error)
                 .has_value());
}

BOOST_AUTO_TEST_CASE(status_words_map_to_states) {
  const std::vector<std::pair<std::string, DeliveryState>> table = {
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
      {"partially_delivered", DeliveryState::pending}};
  for (const auto& [word, state] : table) {
    BOOST_TEST_CONTEXT("MessageStatus " << word) {
      std::string error;
      const auto report = twilio_status(status_fields(word), &error);
      BOOST_REQUIRE_MESSAGE(report, error);
      BOOST_TEST((report->state == state));
      BOOST_TEST(report->provider_id == "SM1f0e8ae6ade43cb3c0ce4525424e404f");
      BOOST_TEST(report->token.empty());
      BOOST_TEST(report->code.empty());
      BOOST_TEST(report->text == (state == DeliveryState::failed ? word : ""));
    }
  }
}

BOOST_AUTO_TEST_CASE(status_failure_carries_error_code_and_message) {
  std::string error;
  auto fields = status_fields("undelivered");
  fields.push_back({"ErrorCode", "30003"});
  auto report = twilio_status(fields, &error);
  BOOST_REQUIRE_MESSAGE(report, error);
  BOOST_TEST((report->state == DeliveryState::failed));
  BOOST_TEST(report->code == "30003");
  BOOST_TEST(report->text == "undelivered");
  fields.push_back({"ErrorMessage", "Unreachable destination handset"});
  report = twilio_status(fields, &error);
  BOOST_REQUIRE_MESSAGE(report, error);
  BOOST_TEST(report->text == "Unreachable destination handset");
}

BOOST_AUTO_TEST_CASE(status_falls_back_to_sms_fields) {
  std::string error;
  const auto report = twilio_status(
      without(without(status_fields("delivered"), "MessageSid"), "MessageStatus"), &error);
  BOOST_REQUIRE_MESSAGE(report, error);
  BOOST_TEST((report->state == DeliveryState::delivered));
}

BOOST_AUTO_TEST_CASE(bad_status_callbacks_are_refused) {
  std::string error;
  BOOST_TEST(!twilio_status(status_fields("received"), &error));
  BOOST_TEST(error == "unknown MessageStatus 'received'");
  BOOST_TEST(!twilio_status(status_fields("DELIVERED"), &error));
  BOOST_TEST(!twilio_status(status_fields(std::string(1000, 'z')), &error));
  BOOST_TEST(error.size() < 100u);
  BOOST_TEST(!twilio_status(without(without(status_fields("sent"), "MessageStatus"), "SmsStatus"),
                            &error));
  BOOST_TEST(error == "no MessageStatus");
  BOOST_TEST(
      !twilio_status(without(without(status_fields("sent"), "MessageSid"), "SmsSid"), &error));
  BOOST_TEST(error == "no MessageSid");
  BOOST_TEST(!twilio_status({}, nullptr));
}

BOOST_AUTO_TEST_SUITE_END()
