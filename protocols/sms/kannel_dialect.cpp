#include "kannel_dialect.hpp"

#include "form_data.hpp"

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

SendOutcome kannel_send_outcome(int status) {
  if (status == 202 || status == 200) {
    return SendOutcome::accepted;
  }
  if (status >= 400 && status < 500) {
    return SendOutcome::permanent;
  }
  return SendOutcome::temporary;
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

} // namespace trestle::sms
