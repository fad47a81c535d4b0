#pragma once

#include "config.hpp"
#include "jid.hpp"

#include <string>
#include <vector>

namespace trestle::gateway {

/// Who may use the gateway: `access.allow`, `access.deny` and `access.admins`
/// from the config. Entries are `*`, a domain, or a bare JID; deny wins over
/// allow, and admins are always allowed. Reloaded on SIGHUP.
class AccessControl {
public:
  explicit AccessControl(const AccessConfig& config) { reload(config); }

  /// Replaces the rules (entries that do not parse as JIDs never match).
  void reload(const AccessConfig& config);
  /// True when `user` may use the gateway.
  bool allowed(const xmpp::Jid& user) const;
  /// True when `user` is an admin.
  bool admin(const xmpp::Jid& user) const;
  /// True when a registration is required before anything but registration.
  bool registration_required() const { return require_registration_; }

private:
  struct Rule {
    bool any = false;
    /// A domain rule has no localpart.
    std::string local;
    std::string domain;
  };
  static std::vector<Rule> compile(const std::vector<std::string>& entries);
  static bool matches(const std::vector<Rule>& rules, const xmpp::Jid& user);

  std::vector<Rule> allow_;
  std::vector<Rule> deny_;
  std::vector<Rule> admins_;
  bool require_registration_ = false;
};

} // namespace trestle::gateway
