#include "border_notices.hpp"

#include "random_hex.hpp"
#include "stanza.hpp"

#include <algorithm>
#include <utility>

namespace trestle::gateway {

BorderNotices::BorderNotices(Clock::duration interval, std::size_t capacity)
    : interval_(interval), capacity_(std::max<std::size_t>(capacity, 1)) {}

bool BorderNotices::allow(std::string_view user, std::string_view contact, std::string_view topic,
                          Clock::time_point now) {
  std::string key;
  key.append(user).push_back('\0');
  key.append(contact).push_back('\0');
  key.append(topic);
  if (const auto found = sent_.find(key); found != sent_.end()) {
    if (now - found->second < interval_) {
      return false;
    }
    found->second = now;
    return true;
  }
  while (sent_.size() >= capacity_ && !order_.empty()) {
    sent_.erase(order_.front());
    order_.pop_front();
  }
  order_.push_back(key);
  sent_.emplace(std::move(key), now);
  return true;
}

xmpp::Element make_border_notice(const xmpp::Element& message, std::string_view text) {
  const xmpp::StanzaView view(message);
  const auto sender = view.from();
  const auto contact = view.to();
  const bool groupchat = message.attr_or("type") == "groupchat";
  const auto from = groupchat ? contact->bare() : *contact;
  std::string body = "[gateway] ";
  body.append(text);
  auto notice = xmpp::make_message(from, *sender, groupchat ? "groupchat" : "chat", body);
  notice.set_attr("id", random_hex(8));
  return notice;
}

} // namespace trestle::gateway
