#pragma once

#include "email_config.hpp"
#include "jid.hpp"
#include "repositories.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace trestle::gateway {
class AdapterContext;
}

namespace trestle::smtp {

/// Why a user has no address, or a lookup failed.
struct IdentityProblem {
  enum class Kind {
    /// The operator requires registration first, or the template gives nothing.
    registration_required,
    /// The address the template gives belongs to someone else.
    conflict,
    /// The store failed.
    store_failed,
  };
  Kind kind = Kind::store_failed;
  std::string text;
};

/// The users' own addresses on the mail domain. The mapping table is the
/// authority: a user's address is the one it holds (legacy key = the local
/// part, lowercase; JID = the user's bare JID). An address is assigned when
/// the user registers a local part, or at their first mail from the
/// configured template; inbound mail is routed by the table only.
class EmailIdentities {
public:
  /// `context` must outlive this object.
  EmailIdentities(const smtp::EmailSettings& settings, std::string mail_domain,
                  gateway::AdapterContext& context);

  /// The mail domain (`mail.example.org`).
  const std::string& mail_domain() const { return mail_domain_; }

  /// The local part of `user`'s address, assigning one from the template
  /// when they have none yet (unless registration is required).
  [[nodiscard]] gateway::Awaitable<std::optional<std::string>>
  local_part_of(const xmpp::Jid& user, IdentityProblem& problem);
  /// The user that `local` (any case) belongs to; nullopt when nobody, and
  /// `store_failed` set when the store could not say.
  [[nodiscard]] gateway::Awaitable<std::optional<xmpp::Jid>> user_of(std::string_view local,
                                                                     bool& store_failed);
  /// Gives `user` the local part `local` (already checked and lowercase),
  /// releasing their previous one. Fails with `conflict` when another user
  /// holds it.
  [[nodiscard]] gateway::Awaitable<bool> assign(const xmpp::Jid& user, const std::string& local,
                                                IdentityProblem& problem);
  /// Releases `user`'s address (their registration was removed).
  [[nodiscard]] gateway::Awaitable<void> release(const xmpp::Jid& user);
  /// The local part the template gives `user`, lowercase; empty when the
  /// template is empty or gives no valid local part.
  std::string template_local_part(const xmpp::Jid& user) const;
  /// True for local parts kept for the mail domain's own use (RFC 2142:
  /// postmaster, abuse, ...), which no user may take.
  static bool is_reserved(std::string_view local);

private:
  const smtp::EmailSettings& settings_;
  std::string mail_domain_;
  gateway::AdapterContext& context_;
};

} // namespace trestle::smtp
