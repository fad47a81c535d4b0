#include "access_control.hpp"
#include "config.hpp"
#include "test_adapter.hpp"

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

using trestle::gateway::AccessConfig;
using trestle::gateway::AccessControl;
using trestle::gateway_test::jid;

namespace {

AccessConfig rules(std::vector<std::string> allow, std::vector<std::string> deny = {},
                   std::vector<std::string> admins = {}) {
  AccessConfig config;
  config.allow = std::move(allow);
  config.deny = std::move(deny);
  config.admins = std::move(admins);
  return config;
}

} // namespace

BOOST_AUTO_TEST_SUITE(access_control)

BOOST_AUTO_TEST_CASE(nobody_is_allowed_by_empty_rules) {
  const AccessControl access(rules({}));
  BOOST_TEST(!access.allowed(jid("alice@example.org")));
  BOOST_TEST(!access.admin(jid("alice@example.org")));
  BOOST_TEST(!access.registration_required());
}

BOOST_AUTO_TEST_CASE(star_allows_everyone) {
  const AccessControl access(rules({"*"}));
  BOOST_TEST(access.allowed(jid("alice@example.org/phone")));
  BOOST_TEST(access.allowed(jid("bob@elsewhere.net")));
  BOOST_TEST(access.allowed(jid("elsewhere.net")));
}

BOOST_AUTO_TEST_CASE(domain_entry_allows_that_domain_only) {
  const AccessControl access(rules({"example.org"}));
  BOOST_TEST(access.allowed(jid("alice@example.org")));
  BOOST_TEST(access.allowed(jid("bob@example.org/laptop")));
  BOOST_TEST(!access.allowed(jid("alice@sub.example.org")));
  BOOST_TEST(!access.allowed(jid("alice@example.org.evil.net")));
  BOOST_TEST(!access.allowed(jid("alice@elsewhere.net")));
}

BOOST_AUTO_TEST_CASE(bare_jid_entry_allows_that_user_with_any_resource) {
  const AccessControl access(rules({"alice@example.org"}));
  BOOST_TEST(access.allowed(jid("alice@example.org")));
  BOOST_TEST(access.allowed(jid("alice@example.org/phone")));
  BOOST_TEST(!access.allowed(jid("bob@example.org")));
  BOOST_TEST(!access.allowed(jid("example.org")));
}

BOOST_AUTO_TEST_CASE(entries_and_users_are_compared_prepared) {
  const AccessControl access(rules({"Alice@Example.ORG"}, {}, {"Admin@EXAMPLE.org"}));
  BOOST_TEST(access.allowed(jid("alice@example.org")));
  BOOST_TEST(access.allowed(jid("ALICE@example.org/Phone")));
  BOOST_TEST(access.admin(jid("admin@example.org/x")));
}

BOOST_AUTO_TEST_CASE(deny_wins_over_allow) {
  const AccessControl access(rules({"*"}, {"spam.net", "mallory@example.org"}));
  BOOST_TEST(access.allowed(jid("alice@example.org")));
  BOOST_TEST(!access.allowed(jid("mallory@example.org")));
  BOOST_TEST(!access.allowed(jid("mallory@example.org/res")));
  BOOST_TEST(!access.allowed(jid("anyone@spam.net")));
}

BOOST_AUTO_TEST_CASE(admins_are_always_allowed) {
  // Not in allow, and even explicitly denied: an admin must never lock
  // themselves out of the admin commands.
  const AccessControl access(rules({"example.org"}, {"admin@other.net"}, {"admin@other.net"}));
  BOOST_TEST(access.admin(jid("admin@other.net/desk")));
  BOOST_TEST(access.allowed(jid("admin@other.net/desk")));
  BOOST_TEST(!access.admin(jid("alice@example.org")));
  BOOST_TEST(!access.allowed(jid("bob@other.net")));
}

BOOST_AUTO_TEST_CASE(admin_entries_must_be_bare_jids) {
  // A domain or `*` in admins makes nobody an admin, not everybody.
  const AccessControl access(rules({"*"}, {}, {"example.org", "*"}));
  BOOST_TEST(!access.admin(jid("alice@example.org")));
  BOOST_TEST(!access.admin(jid("example.org")));
  BOOST_TEST(!access.admin(jid("bob@elsewhere.net")));
}

BOOST_AUTO_TEST_CASE(entries_that_are_not_jids_never_match) {
  const AccessControl access(rules({"not a jid@@", "", "alice@example.org"}, {"@@"}, {"x@@y"}));
  BOOST_TEST(access.allowed(jid("alice@example.org")));
  BOOST_TEST(!access.allowed(jid("bob@example.org")));
  BOOST_TEST(!access.admin(jid("alice@example.org")));
}

BOOST_AUTO_TEST_CASE(reload_replaces_every_rule) {
  AccessControl access(rules({"example.org"}, {}, {"admin@example.org"}));
  BOOST_TEST(access.allowed(jid("alice@example.org")));
  BOOST_TEST(access.admin(jid("admin@example.org")));

  auto changed = rules({"elsewhere.net"}, {"bob@elsewhere.net"});
  changed.require_registration = true;
  access.reload(changed);
  BOOST_TEST(!access.allowed(jid("alice@example.org")));
  BOOST_TEST(!access.admin(jid("admin@example.org")));
  BOOST_TEST(!access.allowed(jid("admin@example.org")));
  BOOST_TEST(access.allowed(jid("carol@elsewhere.net")));
  BOOST_TEST(!access.allowed(jid("bob@elsewhere.net")));
  BOOST_TEST(access.registration_required());
}

BOOST_AUTO_TEST_SUITE_END()
