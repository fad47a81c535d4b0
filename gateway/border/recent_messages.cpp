#include "recent_messages.hpp"

#include "namespaces.hpp"
#include "text_excerpt.hpp"

#include <algorithm>
#include <utility>

namespace trestle::gateway {

namespace {

std::string key_of(std::string_view user, std::string_view id) {
  std::string key;
  key.reserve(user.size() + 1 + id.size());
  key.append(user).push_back('\0');
  key.append(id);
  return key;
}

} // namespace

RecentMessages::RecentMessages(std::size_t capacity)
    : capacity_(std::max<std::size_t>(capacity, 1)) {}

void RecentMessages::remember(std::string_view user, const xmpp::Element& message) {
  const auto* body = message.find("body");
  if (body == nullptr) {
    return;
  }
  const auto text = body->text();
  if (text.empty()) {
    return;
  }
  // One excerpt, kept under each id the message carries.
  const auto excerpt = xmpp::one_line(text, excerpt_bytes);
  const auto keep = [&](const xmpp::Element& carrier) {
    if (const auto id = carrier.attr("id"); id && !id->empty()) {
      entry(user, *id).excerpt = excerpt;
    }
  };
  keep(message);
  if (const auto* origin = message.find("origin-id", xmpp::ns::sid)) {
    keep(*origin);
  }
  for (const auto* stanza_id : message.find_all("stanza-id", xmpp::ns::sid)) {
    keep(*stanza_id);
  }
}

void RecentMessages::remember(std::string_view user, std::string_view id, std::string_view text) {
  entry(user, id).excerpt = xmpp::one_line(text, excerpt_bytes);
}

const std::string* RecentMessages::excerpt(std::string_view user, std::string_view id) const {
  const auto found = entries_.find(key_of(user, id));
  if (found == entries_.end() || found->second.excerpt.empty()) {
    return nullptr;
  }
  return &found->second.excerpt;
}

std::vector<std::string> RecentMessages::swap_reactions(std::string_view user, std::string_view id,
                                                        std::vector<std::string> now) {
  return std::exchange(entry(user, id).reactions, std::move(now));
}

RecentMessages::Entry& RecentMessages::entry(std::string_view user, std::string_view id) {
  auto key = key_of(user, id);
  if (const auto found = entries_.find(key); found != entries_.end()) {
    return found->second;
  }
  while (entries_.size() >= capacity_ && !order_.empty()) {
    entries_.erase(order_.front());
    order_.pop_front();
  }
  order_.push_back(key);
  return entries_[std::move(key)];
}

} // namespace trestle::gateway
