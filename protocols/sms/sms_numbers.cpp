#include "sms_numbers.hpp"

#include "adapter.hpp"
#include "log.hpp"
#include "store.hpp"

#include <algorithm>
#include <stdexcept>
#include <system_error>

namespace trestle::sms {

SmsNumbers::SmsNumbers(const gateway::SmsSettings& settings, gateway::AdapterContext& context)
    : settings_(settings), context_(context) {}

void SmsNumbers::load_static() {
  const std::string& component = context_.domain().domain();
  auto& store = context_.store();
  for (const auto& [user, number] : settings_.numbers) {
    std::error_code ec;
    const auto holder = store.find_address_by_legacy(component, number, ec);
    if (!ec && holder && holder->jid == user) {
      continue;
    }
    if (!ec && holder) {
      context_.log().warning("component " + component, "number " + number + " moves from " +
                                                           holder->jid + " to " + user +
                                                           " (sms.numbers)");
    }
    if (!ec) {
      store.remove_address_by_jid(component, user, ec);
    }
    if (!ec) {
      store.put_address({component, number, number, user}, ec);
    }
    if (ec) {
      throw std::runtime_error("component " + component + ": cannot store the number of " + user +
                               ": " + ec.message());
    }
  }
}

std::optional<std::string> SmsNumbers::number_of(const xmpp::Jid& user, bool& store_failed) {
  std::error_code ec;
  const auto mapping =
      context_.store().find_address_by_jid(context_.domain().domain(), user.bare_string(), ec);
  store_failed = static_cast<bool>(ec);
  if (!mapping) {
    return std::nullopt;
  }
  return mapping->legacy_key;
}

std::optional<xmpp::Jid> SmsNumbers::owner_of(const std::string& number, bool& store_failed) {
  std::error_code ec;
  const auto mapping =
      context_.store().find_address_by_legacy(context_.domain().domain(), number, ec);
  store_failed = static_cast<bool>(ec);
  if (!mapping) {
    return std::nullopt;
  }
  return xmpp::Jid::parse(mapping->jid);
}

std::vector<std::string> SmsNumbers::choices_for(const std::optional<xmpp::Jid>& user) {
  std::vector<std::string> free;
  for (const auto& number : settings_.pool) {
    bool failed = false;
    const auto owner = owner_of(number, failed);
    if (!failed && (!owner || (user && owner->bare_string() == user->bare_string()))) {
      free.push_back(number);
    }
  }
  return free;
}

const std::string* SmsNumbers::assigned(const xmpp::Jid& user) const {
  const auto found = settings_.numbers.find(user.bare_string());
  return found == settings_.numbers.end() ? nullptr : &found->second;
}

bool SmsNumbers::choose(const xmpp::Jid& user, const std::string& number, std::string& error) {
  if (std::find(settings_.pool.begin(), settings_.pool.end(), number) == settings_.pool.end()) {
    error = "the number " + number + " is not one this gateway offers";
    return false;
  }
  const std::string& component = context_.domain().domain();
  std::error_code ec;
  switch (context_.store().claim_address(component, number, user.bare_string(), ec)) {
  case gateway::Claim::claimed:
    break;
  case gateway::Claim::taken:
    error = "the number " + number + " is taken";
    return false;
  case gateway::Claim::failed:
    error = "the number could not be saved";
    return false;
  }
  context_.log().info("component " + component,
                      "number " + number + " chosen by " + user.bare_string());
  return true;
}

void SmsNumbers::release(const xmpp::Jid& user) {
  if (assigned(user) != nullptr) {
    return;
  }
  std::error_code ec;
  context_.store().remove_address_by_jid(context_.domain().domain(), user.bare_string(), ec);
}

} // namespace trestle::sms
