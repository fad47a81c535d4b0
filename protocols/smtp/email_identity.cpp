#include "email_identity.hpp"

#include "adapter.hpp"
#include "address_text.hpp"
#include "email_address.hpp"
#include "log.hpp"
#include "store.hpp"

#include <algorithm>
#include <array>
#include <system_error>
#include <utility>

namespace trestle::smtp {

EmailIdentities::EmailIdentities(const smtp::EmailSettings& settings, std::string mail_domain,
                                 gateway::AdapterContext& context)
    : settings_(settings), mail_domain_(std::move(mail_domain)), context_(context) {}

bool EmailIdentities::is_reserved(std::string_view local) {
  static constexpr std::array<std::string_view, 10> reserved = {
      "postmaster", "abuse",   "mailer-daemon", "hostmaster", "webmaster",
      "root",       "noreply", "no-reply",      "security",   "admin"};
  const std::string key = canonical_local_part(local);
  return std::find(reserved.begin(), reserved.end(), key) != reserved.end();
}

std::string EmailIdentities::template_local_part(const xmpp::Jid& user) const {
  if (settings_.address_template.empty() || user.local().empty()) {
    return {};
  }
  std::string local = settings_.address_template;
  protocols::replace_all(local, "{localpart}", user.local());
  protocols::replace_all(local, "{domain}", user.domain());
  local = canonical_local_part(local);
  if (!is_valid_local_part(local) || is_reserved(local)) {
    return {};
  }
  return local;
}

gateway::Awaitable<std::optional<std::string>>
EmailIdentities::local_part_of(const xmpp::Jid& user, IdentityProblem& problem) {
  const std::string& component = context_.domain().domain();
  const std::string bare = user.bare_string();
  auto& repositories = context_.repositories();
  std::error_code ec;
  const auto mapping = co_await repositories.addresses().find_by_jid(component, bare, ec);
  if (mapping) {
    co_return mapping->legacy_key;
  }
  if (ec) {
    problem = {IdentityProblem::Kind::store_failed, "your address could not be looked up"};
    co_return std::nullopt;
  }
  const auto registration = co_await repositories.registrations().find(bare, component, ec);
  if (ec) {
    problem = {IdentityProblem::Kind::store_failed, "your registration could not be looked up"};
    co_return std::nullopt;
  }
  if (registration) {
    // A local part chosen at registration that the table does not hold
    // (yet): take it when it is still free.
    const auto chosen = registration->fields.find("username");
    if (chosen != registration->fields.end() && !chosen->second.empty() &&
        co_await assign(user, chosen->second, problem)) {
      co_return chosen->second;
    }
  } else if (settings_.require_registration) {
    problem = {IdentityProblem::Kind::registration_required,
               "register with " + component + " to get an email address first"};
    co_return std::nullopt;
  }
  const std::string local = template_local_part(user);
  if (local.empty()) {
    problem = {IdentityProblem::Kind::registration_required,
               "no email address can be made from your JID; register with " + component +
                   " and choose one"};
    co_return std::nullopt;
  }
  if (!co_await assign(user, local, problem)) {
    if (problem.kind == IdentityProblem::Kind::conflict) {
      problem.text = "the address " + local + '@' + mail_domain_ +
                     " belongs to someone else; register with " + component + " and choose another";
    }
    co_return std::nullopt;
  }
  context_.log().info("component " + component,
                      "assigned " + local + '@' + mail_domain_ + " to " + bare);
  co_return local;
}

gateway::Awaitable<std::optional<xmpp::Jid>> EmailIdentities::user_of(std::string_view local,
                                                                      bool& store_failed) {
  std::error_code ec;
  const std::string key = canonical_local_part(local);
  const auto mapping = co_await context_.repositories().addresses().find_by_legacy(
      context_.domain().domain(), key, ec);
  store_failed = static_cast<bool>(ec);
  if (!mapping) {
    co_return std::nullopt;
  }
  co_return xmpp::Jid::parse(mapping->jid);
}

gateway::Awaitable<bool> EmailIdentities::assign(const xmpp::Jid& user, const std::string& local,
                                                 IdentityProblem& problem) {
  std::error_code ec;
  const std::string bare = user.bare_string();
  const auto claim = co_await context_.repositories().addresses().claim(context_.domain().domain(),
                                                                        local, bare, ec);
  switch (claim) {
  case gateway::Claim::claimed:
    co_return true;
  case gateway::Claim::taken:
    problem = {IdentityProblem::Kind::conflict,
               "the address " + local + '@' + mail_domain_ + " is already taken"};
    co_return false;
  case gateway::Claim::failed:
    break;
  }
  problem = {IdentityProblem::Kind::store_failed, "the address could not be saved"};
  co_return false;
}

gateway::Awaitable<void> EmailIdentities::release(const xmpp::Jid& user) {
  std::error_code ec;
  const std::string bare = user.bare_string();
  co_await context_.repositories().addresses().remove_by_jid(context_.domain().domain(), bare, ec);
}

} // namespace trestle::smtp
