#include "access_control.hpp"

namespace trestle::gateway {

void AccessControl::reload(const AccessConfig& config) {
  allow_ = compile(config.allow);
  deny_ = compile(config.deny);
  admins_ = compile(config.admins);
  require_registration_ = config.require_registration;
}

std::vector<AccessControl::Rule> AccessControl::compile(const std::vector<std::string>& entries) {
  std::vector<Rule> rules;
  for (const auto& entry : entries) {
    if (entry == "*") {
      rules.push_back(Rule{true, {}, {}});
      continue;
    }
    // Prepared like any JID so `Alice@Example.org` matches `alice@example.org`.
    if (auto jid = xmpp::Jid::parse(entry)) {
      rules.push_back(Rule{false, jid->local(), jid->domain()});
    }
  }
  return rules;
}

bool AccessControl::matches(const std::vector<Rule>& rules, const xmpp::Jid& user) {
  for (const auto& rule : rules) {
    if (rule.any) {
      return true;
    }
    if (rule.domain == user.domain() && (rule.local.empty() || rule.local == user.local())) {
      return true;
    }
  }
  return false;
}

bool AccessControl::admin(const xmpp::Jid& user) const {
  for (const auto& rule : admins_) {
    // Admin entries are bare JIDs; a domain entry would make every user of
    // that domain an admin, which the config loader refuses.
    if (!rule.any && !rule.local.empty() && rule.local == user.local() &&
        rule.domain == user.domain()) {
      return true;
    }
  }
  return false;
}

bool AccessControl::allowed(const xmpp::Jid& user) const {
  if (admin(user)) {
    return true;
  }
  return matches(allow_, user) && !matches(deny_, user);
}

} // namespace trestle::gateway
