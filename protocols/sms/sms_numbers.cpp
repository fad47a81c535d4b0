#include "sms_numbers.hpp"

#include "adapter.hpp"
#include "log.hpp"

#include <algorithm>
#include <stdexcept>
#include <system_error>

namespace trestle::sms {

SmsNumbers::SmsNumbers(const sms::SmsSettings& settings, gateway::AdapterContext& context)
    : settings_(settings), context_(context) {}

gateway::Awaitable<void> SmsNumbers::load_static() {
  const std::string& component = context_.domain().domain();
  auto& addresses = context_.repositories().addresses();
  for (const auto& [user, number] : settings_.numbers) {
    std::error_code ec;
    const auto holder = co_await addresses.find_by_legacy(component, number, ec);
    if (!ec && holder && holder->jid == user) {
      continue;
    }
    if (!ec && holder) {
      context_.log().warning("component " + component, "number " + number + " moves from " +
                                                           holder->jid + " to " + user +
                                                           " (sms.numbers)");
    }
    if (!ec) {
      co_await addresses.remove_by_jid(component, user, ec);
    }
    if (!ec) {
      const gateway::AddressMapping mapping{component, number, number, user};
      co_await addresses.put(mapping, ec);
    }
    if (ec) {
      throw std::runtime_error("component " + component + ": cannot store the number of " + user +
                               ": " + ec.message());
    }
  }
}

gateway::Awaitable<std::optional<std::string>> SmsNumbers::number_of(const xmpp::Jid& user,
                                                                     bool& store_failed) {
  std::error_code ec;
  const auto mapping = co_await context_.repositories().addresses().find_by_jid(
      context_.domain().domain(), user.bare_string(), ec);
  store_failed = static_cast<bool>(ec);
  if (!mapping) {
    co_return std::nullopt;
  }
  co_return mapping->legacy_key;
}

gateway::Awaitable<std::optional<xmpp::Jid>> SmsNumbers::owner_of(const std::string& number,
                                                                  bool& store_failed) {
  std::error_code ec;
  const auto mapping = co_await context_.repositories().addresses().find_by_legacy(
      context_.domain().domain(), number, ec);
  store_failed = static_cast<bool>(ec);
  if (!mapping) {
    co_return std::nullopt;
  }
  co_return xmpp::Jid::parse(mapping->jid);
}

gateway::Awaitable<std::vector<std::string>>
SmsNumbers::choices_for(const std::optional<xmpp::Jid>& user) {
  std::vector<std::string> free;
  for (const auto& number : settings_.pool) {
    bool failed = false;
    const auto owner = co_await owner_of(number, failed);
    if (!failed && (!owner || (user && owner->bare_string() == user->bare_string()))) {
      free.push_back(number);
    }
  }
  co_return free;
}

const std::string* SmsNumbers::assigned(const xmpp::Jid& user) const {
  const auto found = settings_.numbers.find(user.bare_string());
  return found == settings_.numbers.end() ? nullptr : &found->second;
}

gateway::Awaitable<bool> SmsNumbers::choose(const xmpp::Jid& user, const std::string& number,
                                            std::string& error) {
  if (std::find(settings_.pool.begin(), settings_.pool.end(), number) == settings_.pool.end()) {
    error = "the number " + number + " is not one this gateway offers";
    co_return false;
  }
  const std::string& component = context_.domain().domain();
  const std::string bare = user.bare_string();
  std::error_code ec;
  const auto claim =
      co_await context_.repositories().addresses().claim(component, number, bare, ec);
  switch (claim) {
  case gateway::Claim::claimed:
    break;
  case gateway::Claim::taken:
    error = "the number " + number + " is taken";
    co_return false;
  case gateway::Claim::failed:
    error = "the number could not be saved";
    co_return false;
  }
  context_.log().info("component " + component, "number " + number + " chosen by " + bare);
  co_return true;
}

gateway::Awaitable<void> SmsNumbers::release(const xmpp::Jid& user) {
  if (assigned(user) != nullptr) {
    co_return;
  }
  std::error_code ec;
  const std::string bare = user.bare_string();
  co_await context_.repositories().addresses().remove_by_jid(context_.domain().domain(), bare, ec);
}

} // namespace trestle::sms
