#pragma once

#include "jid.hpp"
#include "repositories.hpp"
#include "sms_config.hpp"

#include <optional>
#include <string>
#include <vector>

namespace trestle::gateway {
class AdapterContext;
}

namespace trestle::sms {

/// The numbers users send from. The mapping table is the authority (legacy
/// key = the E.164 number, JID = the user's bare JID): numbers from
/// `sms.numbers` are written to it at start, and a number from `sms.pool` is
/// written when a user chooses it at registration. An inbound message is
/// routed by the table only.
class SmsNumbers {
public:
  /// `settings` (already checked by the adapter) and `context` must outlive this.
  SmsNumbers(const sms::SmsSettings& settings, gateway::AdapterContext& context);

  /// Writes the operator's numbers to the table, taking them from whoever
  /// held them; throws std::runtime_error when the store fails.
  [[nodiscard]] gateway::Awaitable<void> load_static();
  /// The number of `user`, or nullopt (no number, or the store failed:
  /// `store_failed` says which).
  [[nodiscard]] gateway::Awaitable<std::optional<std::string>> number_of(const xmpp::Jid& user,
                                                                         bool& store_failed);
  /// The user who owns `number`, or nullopt.
  [[nodiscard]] gateway::Awaitable<std::optional<xmpp::Jid>> owner_of(const std::string& number,
                                                                      bool& store_failed);
  /// Pool numbers nobody holds, and the one `user` holds when given, in
  /// pool order.
  [[nodiscard]] gateway::Awaitable<std::vector<std::string>>
  choices_for(const std::optional<xmpp::Jid>& user);
  /// The number the operator set for `user` (`sms.numbers`), or null.
  const std::string* assigned(const xmpp::Jid& user) const;
  /// Gives `user` the pool number `number` (releasing their previous one);
  /// the reason in `error` when it is not in the pool, taken, or the store
  /// failed.
  [[nodiscard]] gateway::Awaitable<bool> choose(const xmpp::Jid& user, const std::string& number,
                                                std::string& error);
  /// Releases `user`'s pool number (their registration was removed).
  [[nodiscard]] gateway::Awaitable<void> release(const xmpp::Jid& user);

private:
  const sms::SmsSettings& settings_;
  gateway::AdapterContext& context_;
};

} // namespace trestle::sms
