#include "kannel_dialect.hpp"

#include "address_text.hpp"
#include "form_data.hpp"
#include "utf8.hpp"

#include <algorithm>
#include <utility>

namespace trestle::sms {

std::string kannel_sendsms_url(const KannelEndpoint& endpoint, std::string_view from,
                               std::string_view to, std::string_view text, SmsEncoding encoding,
                               std::string_view correlation_id) {
  // Kannel replaces %d and %A in the dlr-url after decoding it, so they
  // stay literal here and are encoded once more with the whole URL.
  std::string dlr = endpoint.dlr_url;
  dlr += dlr.find('?') == std::string::npos ? '?' : '&';
  dlr.append("id=").append(form_encode(correlation_id)).append("&type=%d&answer=%A");

  std::string url = endpoint.sendsms_url;
  url += url.find('?') == std::string::npos ? '?' : '&';
  url.append("username=").append(form_encode(endpoint.username));
  url.append("&password=").append(form_encode(endpoint.password));
  url.append("&from=").append(form_encode(from));
  url.append("&to=").append(form_encode(to));
  url.append("&text=").append(form_encode(text));
  url.append("&charset=UTF-8&coding=").append(encoding == SmsEncoding::ucs2 ? "2" : "0");
  url.append("&dlr-mask=31&dlr-url=").append(form_encode(dlr));
  return url;
}

ProviderAnswer kannel_send_answer(unsigned status, std::string_view body,
                                  std::string_view no_answer) {
  ProviderAnswer answer;
  if (status == 202 || status == 200) {
    answer.kind = ProviderAnswer::Kind::accepted;
  } else if (status >= 400 && status < 500) {
    answer.kind = ProviderAnswer::Kind::permanent;
  } else {
    answer.kind = ProviderAnswer::Kind::temporary;
  }
  if (status != 0) {
    answer.code = std::to_string(status);
  }
  const auto first = body.find_first_not_of(" \t\r\n");
  const auto last = body.find_last_not_of(" \t\r\n");
  answer.text = first == std::string_view::npos ? std::string(no_answer)
                                                : std::string(body.substr(first, last - first + 1));
  return answer;
}

std::optional<DeliveryState> kannel_delivery_state(std::string_view type) {
  if (type == "1") {
    return DeliveryState::delivered;
  }
  if (type == "2" || type == "16") {
    return DeliveryState::failed;
  }
  if (type == "4" || type == "8") {
    return DeliveryState::pending;
  }
  return std::nullopt;
}

namespace {

std::string lower_ascii(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), protocols::ascii_lower);
  return out;
}

/// A header's value, else the query's field, else empty.
std::string field_of(const std::vector<FormField>& query,
                     const std::map<std::string, std::string>& headers, std::string_view header,
                     std::string_view name) {
  if (const auto found = headers.find(std::string(header)); found != headers.end()) {
    return found->second;
  }
  if (const auto value = form_value(query, name)) {
    return std::string(*value);
  }
  return {};
}

} // namespace

/// The `charset` parameter of a Content-Type value, unquoted; empty when none.
std::string content_type_charset(std::string_view content_type) {
  const std::string lowered = lower_ascii(content_type);
  const auto at = lowered.find("charset=");
  if (at == std::string::npos) {
    return {};
  }
  std::string value = lowered.substr(at + 8);
  value = value.substr(0, value.find(';'));
  while (!value.empty() && (value.back() == ' ' || value.back() == '"')) {
    value.pop_back();
  }
  while (!value.empty() && (value.front() == ' ' || value.front() == '"')) {
    value.erase(0, 1);
  }
  return value;
}

std::optional<InboundSms> kannel_inbound(const std::vector<FormField>& query, std::string_view body,
                                         const std::map<std::string, std::string>& headers,
                                         bool posted, std::string* error) {
  const auto fail = [error](std::string reason) -> std::optional<InboundSms> {
    if (error != nullptr) {
      *error = std::move(reason);
    }
    return std::nullopt;
  };
  InboundSms sms;
  sms.from = field_of(query, headers, "x-kannel-from", "from");
  sms.to = field_of(query, headers, "x-kannel-to", "to");
  sms.provider_id = std::string(form_value(query, "id").value_or(""));
  std::string text;
  std::string charset;
  if (posted) {
    text = std::string(body);
    const auto type = headers.find("content-type");
    charset = type != headers.end() ? content_type_charset(type->second) : std::string();
  } else {
    text = std::string(form_value(query, "text").value_or(""));
  }
  if (charset.empty()) {
    charset = lower_ascii(form_value(query, "charset").value_or(""));
  }
  if (sms.from.empty()) {
    return fail("the sender (from=%p, or X-Kannel-From with send-sender = true) is missing");
  }
  if (sms.to.empty()) {
    return fail("the receiver (to=%P) is missing");
  }
  if (charset == "iso-8859-1" || charset == "latin1" || charset == "windows-1252") {
    text = protocols::latin1_to_utf8(text);
  } else if (charset == "8-bit") {
    return fail("an 8-bit data message carries no text");
  } else if (!charset.empty() && charset != "utf-8" && charset != "utf8" && charset != "us-ascii") {
    return fail("the text is in " + charset +
                "; set mo-recode = true in kannel.conf's smsbox group so that it arrives as UTF-8");
  }
  if (!xmpp::is_valid_utf8(text) || text.find('\0') != std::string::npos) {
    return fail("the text is not valid UTF-8; set mo-recode = true in kannel.conf's smsbox group");
  }
  sms.body = std::move(text);
  return sms;
}

std::optional<StatusReport> kannel_report(const std::vector<FormField>& query, std::string* error) {
  const auto fail = [error](std::string reason) -> std::optional<StatusReport> {
    if (error != nullptr) {
      *error = std::move(reason);
    }
    return std::nullopt;
  };
  const auto id = form_value(query, "id");
  if (!id || id->empty()) {
    return fail("the report carries no id");
  }
  const auto type = form_value(query, "type");
  const auto state = type ? kannel_delivery_state(*type) : std::nullopt;
  if (!state) {
    return fail("unknown report type '" + std::string(type.value_or("")) + "'");
  }
  StatusReport report;
  report.token = std::string(*id);
  report.state = *state;
  if (*state == DeliveryState::failed) {
    report.code = std::string(*type);
    report.text = std::string(form_value(query, "answer").value_or(""));
    if (report.text.empty()) {
      report.text = *type == "16" ? "rejected by the SMSC" : "not delivered";
    }
  }
  return report;
}

} // namespace trestle::sms
