#include "config.hpp"
#include "email_config.hpp"
#include "irc_config.hpp"
#include "sms_config.hpp"

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

using trestle::gateway::Config;
using trestle::gateway::ConfigError;
using trestle::gateway::log_level_from_string;
using trestle::gateway::LogLevel;

namespace {

/// The networks of this build, as the app wiring registers them.
const trestle::gateway::NetworkConfigReaders& networks() {
  static const trestle::gateway::NetworkConfigReaders readers{trestle::irc::irc_config_reader(),
                                                              trestle::smtp::email_config_reader(),
                                                              trestle::sms::sms_config_reader()};
  return readers;
}

Config load_config_text(std::string_view text, std::string_view source) {
  return trestle::gateway::load_config_text(text, source, networks());
}

Config load_config_file(const std::string& path) {
  return trestle::gateway::load_config_file(path, networks());
}

const trestle::irc::IrcSettings& irc_of(const trestle::gateway::ComponentConfig& component) {
  return component.settings_as<trestle::irc::IrcSettings>();
}

const trestle::smtp::EmailSettings& email_of(const trestle::gateway::ComponentConfig& component) {
  return component.settings_as<trestle::smtp::EmailSettings>();
}

const trestle::sms::SmsSettings& sms_of(const trestle::gateway::ComponentConfig& component) {
  return component.settings_as<trestle::sms::SmsSettings>();
}

/// Sets an environment variable for one test and removes it afterwards.
class ScopedEnv {
public:
  ScopedEnv(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
  ~ScopedEnv() { ::unsetenv(name_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
  const char* name_;
};

std::string error_of(std::string_view text) {
  try {
    load_config_text(text, "t.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

/// Checks the error's `file:line:column: path: ` prefix exactly and that the
/// message contains `fragment`.
void check_error(std::string_view text, std::string_view where, std::string_view fragment) {
  const std::string message = error_of(text);
  BOOST_TEST(message.substr(0, where.size()) == where);
  BOOST_TEST(message.find(fragment) != std::string::npos, message);
}

/// Three valid lines (1-3) without `xmpp`; xmpp tests append from line 4.
const std::string without_xmpp = "components:\n"
                                 "  - {domain: a.example, secret: s, adapter: irc}\n"
                                 "access: {allow: []}\n";

/// Four valid lines (1-4) ending in `components:`; component tests append
/// their list from line 5.
const std::string before_components = "xmpp: {}\n"
                                      "access:\n"
                                      "  allow: []\n"
                                      "components:\n";

/// Three valid lines (1-3) without `access`.
const std::string without_access = "xmpp: {}\n"
                                   "components:\n"
                                   "  - {domain: a.example, secret: s, adapter: irc}\n";

/// Finds a file of the source tree: from TRESTLE_SOURCE_ROOT (a compile-time
/// define or an environment variable), else next to this source file, else
/// relative to the working directory.
std::filesystem::path source_file(const std::string& relative) {
  std::vector<std::filesystem::path> roots;
#ifdef TRESTLE_SOURCE_ROOT
  roots.emplace_back(TRESTLE_SOURCE_ROOT);
#endif
  if (const char* root = std::getenv("TRESTLE_SOURCE_ROOT")) {
    roots.emplace_back(root);
  }
  // This file is tests/unit/gateway/config_test.cpp below the root.
  roots.push_back(std::filesystem::path(__FILE__).parent_path() / ".." / ".." / "..");
  for (const char* up : {".", "..", "../..", "../../.."}) {
    roots.emplace_back(up);
  }
  for (const auto& root : roots) {
    if (std::filesystem::is_regular_file(root / relative)) {
      return root / relative;
    }
  }
  BOOST_FAIL("cannot find " + relative + "; set TRESTLE_SOURCE_ROOT to the source tree");
  return {};
}

} // namespace

BOOST_AUTO_TEST_SUITE(config)

BOOST_AUTO_TEST_CASE(example_file_loads_with_every_section) {
  const ScopedEnv irc("TRESTLE_IRC_SECRET", "irc-secret");
  const ScopedEnv mail("TRESTLE_MAIL_SECRET", "mail-secret");
  const ScopedEnv sms("TRESTLE_SMS_SECRET", "sms-secret");
  const ScopedEnv kannel("TRESTLE_KANNEL_PASSWORD", "kannel-password");
  const ScopedEnv token("TRESTLE_KANNEL_WEBHOOK_TOKEN", "a-token-of-enough-length");
  const std::string path = source_file("config/trestle.example.yaml").string();
  const Config config = load_config_file(path);

  BOOST_TEST(config.source_path == path);
  BOOST_TEST(config.xmpp.host == "127.0.0.1");
  BOOST_TEST(config.xmpp.port == 5347);
  BOOST_TEST(!config.xmpp.tls);
  BOOST_TEST(config.xmpp.verify_certificate);
  BOOST_TEST(config.xmpp.ca_file == "");
  BOOST_TEST(config.xmpp.server_name == "");
  BOOST_TEST(!config.xmpp.insecure);
  BOOST_TEST(config.xmpp.keepalive_interval_seconds == 60u);
  BOOST_TEST(config.xmpp.keepalive_timeout_seconds == 30u);
  BOOST_TEST(config.xmpp.connect_timeout_seconds == 15u);
  BOOST_TEST(config.xmpp.reconnect_min_delay_seconds == 1u);
  BOOST_TEST(config.xmpp.reconnect_max_delay_seconds == 10u);
  BOOST_TEST(config.xmpp.send_queue_limit == 1000u);
  BOOST_TEST(config.xmpp.limits.max_stanza_bytes == 524288u);
  BOOST_TEST(config.xmpp.limits.max_depth == 32u);
  BOOST_TEST(config.xmpp.limits.max_attributes == 64u);

  BOOST_TEST_REQUIRE(config.components.size() == 3u);
  BOOST_TEST(config.components[0].domain == "irc.example.org");
  BOOST_TEST(config.components[0].adapter == "irc");
  BOOST_TEST(config.components[0].secret == "irc-secret");
  BOOST_TEST(config.components[0].name == "IRC gateway");
  BOOST_TEST(irc_of(config.components[0]).fixed_server == "");
  const auto& irc_settings = irc_of(config.components[0]);
  BOOST_TEST(irc_settings.allow_servers ==
                 (std::vector<std::string>{"*.libera.chat", "irc.oftc.net"}),
             boost::test_tools::per_element());
  BOOST_TEST(irc_settings.deny_servers.empty());
  BOOST_TEST(irc_settings.max_connections_per_user == 5u);
  BOOST_TEST(irc_settings.idle_timeout_seconds == 300u);
  BOOST_TEST(irc_settings.server_defaults.port == 6697);
  BOOST_TEST(irc_settings.server_defaults.tls);
  BOOST_TEST(irc_settings.server_defaults.flood_lines_per_second == 2u);
  BOOST_TEST_REQUIRE(irc_settings.servers.size() == 1u);
  BOOST_TEST(irc_settings.servers[0].host == "irc.libera.chat");
  BOOST_TEST(config.components[1].domain == "mail.example.org");
  BOOST_TEST(config.components[1].adapter == "smtp");
  BOOST_TEST(config.components[1].secret == "mail-secret");
  BOOST_TEST(config.components[1].name == "Email gateway");
  BOOST_TEST(config.components[2].domain == "sms.example.org");
  BOOST_TEST(config.components[2].adapter == "sms");
  BOOST_TEST(config.components[2].secret == "sms-secret");
  const auto& sms_settings = sms_of(config.components[2]);
  BOOST_TEST(sms_settings.default_country == "1");
  BOOST_TEST(sms_settings.provider == "kannel");
  BOOST_TEST(sms_settings.public_base_url == "https://gateway.example.org");
  BOOST_TEST(sms_settings.numbers.at("alice@example.org") == "+15550001111");
  BOOST_TEST(sms_settings.pool.size() == 2u);
  BOOST_TEST(sms_settings.kannel.password == "kannel-password");
  BOOST_TEST(sms_settings.kannel.webhook_token == "a-token-of-enough-length");

  BOOST_TEST(config.storage.sqlite_path == "trestle.db");
  BOOST_TEST(config.http.enabled);
  BOOST_TEST(config.http.bind == "127.0.0.1");
  BOOST_TEST(config.http.port == 8088);
  BOOST_TEST(config.http.max_body_bytes == 65536u);
  BOOST_TEST(config.http.request_timeout_seconds == 10u);
  BOOST_TEST(config.http.max_connections == 256u);

  BOOST_TEST(config.access.allow == (std::vector<std::string>{"example.org", "friend@example.net"}),
             boost::test_tools::per_element());
  BOOST_TEST(config.access.deny == std::vector<std::string>{"spammer@example.org"},
             boost::test_tools::per_element());
  BOOST_TEST(config.access.admins == std::vector<std::string>{"admin@example.org"},
             boost::test_tools::per_element());
  BOOST_TEST(!config.access.require_registration);
  BOOST_TEST((config.logging.level == LogLevel::info));
}

BOOST_AUTO_TEST_CASE(example_file_needs_its_secrets_from_the_environment) {
  ::unsetenv("TRESTLE_IRC_SECRET");
  const std::string path = source_file("config/trestle.example.yaml").string();
  try {
    load_config_file(path);
    BOOST_FAIL("loaded without TRESTLE_IRC_SECRET");
  } catch (const ConfigError& e) {
    const std::string message = e.what();
    BOOST_TEST(message.starts_with(path + ":"));
    BOOST_TEST(message.find(": components[0].secret: environment variable TRESTLE_IRC_SECRET is "
                            "not set") != std::string::npos,
               message);
  }
}

BOOST_AUTO_TEST_CASE(minimal_file_loads_with_defaults) {
  const ScopedEnv irc("TRESTLE_IRC_SECRET", "minimal-secret");
  const Config config = load_config_file(source_file("config/trestle.minimal.yaml").string());
  BOOST_TEST_REQUIRE(config.components.size() == 1u);
  BOOST_TEST(config.components[0].domain == "irc.example.org");
  BOOST_TEST(config.components[0].secret == "minimal-secret");
  BOOST_TEST(config.components[0].name == "IRC gateway");
  BOOST_TEST(config.xmpp.host == "127.0.0.1");
  BOOST_TEST(config.xmpp.port == 5347);
  BOOST_TEST(config.storage.sqlite_path == "trestle.db");
  BOOST_TEST(config.http.port == 8088);
  BOOST_TEST(config.access.allow == std::vector<std::string>{"*"},
             boost::test_tools::per_element());
  BOOST_TEST(config.access.admins.empty());
  BOOST_TEST((config.logging.level == LogLevel::info));
}

BOOST_AUTO_TEST_CASE(text_sets_every_key_and_no_source_path) {
  const Config config = load_config_text("xmpp:\n"
                                         "  host: xmpp.internal\n"
                                         "  port: 5348\n"
                                         "  tls: true\n"
                                         "  verify_certificate: false\n"
                                         "  ca_file: /etc/trestle/ca.pem\n"
                                         "  server_name: xmpp.example\n"
                                         "  insecure: true\n"
                                         "  keepalive_interval_seconds: 20\n"
                                         "  keepalive_timeout_seconds: 5\n"
                                         "  connect_timeout_seconds: 7\n"
                                         "  reconnect_min_delay_seconds: 2\n"
                                         "  reconnect_max_delay_seconds: 2\n"
                                         "  send_queue_limit: 9\n"
                                         "  limits: {max_stanza_bytes: 1000, max_depth: 3, "
                                         "max_attributes: 4}\n"
                                         "components:\n"
                                         "  - domain: IRC.example\n"
                                         "    secret: 's e c'\n"
                                         "    adapter: irc\n"
                                         "    name: My IRC\n"
                                         "    irc: {fixed_server: irc.libera.chat}\n"
                                         "  - {domain: mail.example, secret: m, adapter: smtp}\n"
                                         "  - {domain: sms.example, secret: n, adapter: sms,\n"
                                         "     sms: {default_country: '44'}}\n"
                                         "storage: {sqlite_path: /var/lib/trestle/t.db}\n"
                                         "http: {enabled: false, bind: '::1', port: 0,\n"
                                         "       max_body_bytes: 10, request_timeout_seconds: 3,\n"
                                         "       max_connections: 2}\n"
                                         "access:\n"
                                         "  allow: ['*']\n"
                                         "  deny: [bad.example, eve@good.example]\n"
                                         "  admins: [root@good.example]\n"
                                         "  require_registration: true\n"
                                         "logging: {level: debug}\n",
                                         "t.yaml");
  BOOST_TEST(config.source_path.empty());
  BOOST_TEST(config.xmpp.host == "xmpp.internal");
  BOOST_TEST(config.xmpp.port == 5348);
  BOOST_TEST(config.xmpp.tls);
  BOOST_TEST(!config.xmpp.verify_certificate);
  BOOST_TEST(config.xmpp.ca_file == "/etc/trestle/ca.pem");
  BOOST_TEST(config.xmpp.server_name == "xmpp.example");
  BOOST_TEST(config.xmpp.insecure);
  BOOST_TEST(config.xmpp.keepalive_interval_seconds == 20u);
  BOOST_TEST(config.xmpp.keepalive_timeout_seconds == 5u);
  BOOST_TEST(config.xmpp.connect_timeout_seconds == 7u);
  BOOST_TEST(config.xmpp.reconnect_min_delay_seconds == 2u);
  BOOST_TEST(config.xmpp.reconnect_max_delay_seconds == 2u);
  BOOST_TEST(config.xmpp.send_queue_limit == 9u);
  BOOST_TEST(config.xmpp.limits.max_stanza_bytes == 1000u);
  BOOST_TEST(config.xmpp.limits.max_depth == 3u);
  BOOST_TEST(config.xmpp.limits.max_attributes == 4u);
  BOOST_TEST_REQUIRE(config.components.size() == 3u);
  BOOST_TEST(config.components[0].domain == "IRC.example");
  BOOST_TEST(config.components[0].secret == "s e c");
  BOOST_TEST(config.components[0].name == "My IRC");
  BOOST_TEST(irc_of(config.components[0]).fixed_server == "irc.libera.chat");
  BOOST_TEST(config.components[1].name == "Email gateway");
  BOOST_TEST(config.components[2].name == "SMS gateway");
  BOOST_TEST(sms_of(config.components[2]).default_country == "44");
  BOOST_TEST(config.storage.sqlite_path == "/var/lib/trestle/t.db");
  BOOST_TEST(!config.http.enabled);
  BOOST_TEST(config.http.bind == "::1");
  BOOST_TEST(config.http.port == 0);
  BOOST_TEST(config.http.max_body_bytes == 10u);
  BOOST_TEST(config.http.request_timeout_seconds == 3u);
  BOOST_TEST(config.http.max_connections == 2u);
  BOOST_TEST(config.access.deny == (std::vector<std::string>{"bad.example", "eve@good.example"}),
             boost::test_tools::per_element());
  BOOST_TEST(config.access.admins == std::vector<std::string>{"root@good.example"},
             boost::test_tools::per_element());
  BOOST_TEST(config.access.require_registration);
  BOOST_TEST((config.logging.level == LogLevel::debug));
}

BOOST_AUTO_TEST_CASE(empty_sections_mean_defaults) {
  const Config config = load_config_text(without_xmpp + "xmpp:\n"
                                                        "storage:\n"
                                                        "http:\n"
                                                        "logging:\n",
                                         "t.yaml");
  BOOST_TEST(config.xmpp.port == 5347);
  BOOST_TEST(config.storage.sqlite_path == "trestle.db");
  BOOST_TEST(config.http.enabled);
  BOOST_TEST((config.logging.level == LogLevel::info));
  BOOST_TEST(config.access.allow.empty());
}

BOOST_AUTO_TEST_CASE(log_levels_parse_by_exact_name) {
  BOOST_TEST((log_level_from_string("debug") == LogLevel::debug));
  BOOST_TEST((log_level_from_string("info") == LogLevel::info));
  BOOST_TEST((log_level_from_string("warning") == LogLevel::warning));
  BOOST_TEST((log_level_from_string("error") == LogLevel::error));
  BOOST_TEST(!log_level_from_string("warn"));
  BOOST_TEST(!log_level_from_string("INFO"));
  BOOST_TEST(!log_level_from_string(""));
}

BOOST_AUTO_TEST_CASE(missing_file_names_the_path) {
  const std::string path = "no-such-dir/trestle.yaml";
  try {
    load_config_file(path);
    BOOST_FAIL("loaded a missing file");
  } catch (const ConfigError& e) {
    BOOST_TEST(std::string(e.what()) ==
               path + ": cannot open configuration file: No such file or directory");
  }
}

BOOST_AUTO_TEST_CASE(directory_is_not_readable_as_a_file) {
  const std::string path = source_file("config/trestle.minimal.yaml").parent_path().string();
  try {
    load_config_file(path);
    BOOST_FAIL("loaded a directory");
  } catch (const ConfigError& e) {
    const std::string message = e.what();
    BOOST_TEST(message.starts_with(path + ": cannot "), message);
  }
}

BOOST_AUTO_TEST_CASE(yaml_syntax_errors_carry_the_parser_position) {
  check_error("xmpp: {}\n"
              "components: [\n",
              "t.yaml:3:1: ", "YAML syntax error: end of sequence flow not found");
  check_error("xmpp: {}\n"
              "access: {allow: *missing}\n",
              "t.yaml:2:17: ", "YAML syntax error");
  check_error("a: 1\n"
              "---\n"
              "b: 2\n",
              "t.yaml:2:1: ", "only one YAML document is allowed");
  // yaml-cpp 0.7 reads this as an endless run of documents; the loader must
  // stop after the second instead of hanging.
  check_error("#\n'',", "t.yaml:2:3: ", "only one YAML document is allowed");
}

BOOST_AUTO_TEST_CASE(document_must_be_a_non_empty_mapping) {
  check_error("", "t.yaml:1:1: ", "the configuration is empty");
  check_error("# nothing\n", "t.yaml:1:1: ", "the configuration is empty");
  check_error("- xmpp\n", "t.yaml:1:1: ", "must be a mapping");
  check_error("~\n", "t.yaml:1:1: ", "must be a mapping");
}

BOOST_AUTO_TEST_CASE(oversized_and_too_deep_input_is_refused_before_parsing) {
  check_error(std::string(1024 * 1024 + 1, '#'), "t.yaml:1:1: ", "larger than");
  check_error("xmpp: {}\n"
              "x: " +
                  std::string(100, '['),
              "t.yaml:2:68: ", "nesting deeper than 64 levels");
}

BOOST_AUTO_TEST_CASE(unknown_keys_list_the_allowed_ones) {
  check_error("bogus: 1\n", "t.yaml:1:1: bogus: ",
              "unknown key 'bogus'; allowed keys: xmpp, components, storage, http, access, "
              "logging");
  check_error(without_xmpp + "xmpp:\n"
                             "  prot: 5347\n",
              "t.yaml:5:3: xmpp.prot: ",
              "unknown key 'prot' (did you mean 'port'?); allowed keys: host, port,");
  check_error(without_xmpp + "xmpp:\n"
                             "  limits:\n"
                             "    max_bytes: 5\n",
              "t.yaml:6:5: xmpp.limits.max_bytes: ",
              "allowed keys: max_stanza_bytes, max_depth, max_attributes");
  check_error(before_components + "  - domain: a.example\n"
                                  "    secret: s\n"
                                  "    adapter: smtp\n"
                                  "    smtp: {relai: {}}\n",
              "t.yaml:8:12: components[0].smtp.relai: ", "(did you mean 'relay'?)");
  check_error(before_components + "  - {domain: a.example, secret: s, adapter: sms}\n"
                                  "  - {domain: b.example, secret: s, adapter: irc, nick: x}\n",
              "t.yaml:6:50: components[1].nick: ",
              "allowed keys: domain, secret, adapter, name, irc, smtp, sms");
}

BOOST_AUTO_TEST_CASE(duplicate_and_non_scalar_keys_are_refused) {
  check_error(without_xmpp + "xmpp:\n"
                             "  port: 1\n"
                             "  port: 2\n",
              "t.yaml:6:3: xmpp.port: ", "duplicate key (first given at line 5)");
  check_error(without_xmpp + "xmpp:\n"
                             "  [a]: 1\n",
              "t.yaml:5:3: xmpp: ", "expected a key name, got a list");
}

BOOST_AUTO_TEST_CASE(wrong_types_are_named) {
  check_error(without_xmpp + "xmpp:\n"
                             "  port: abc\n",
              "t.yaml:5:9: xmpp.port: ", "expected an integer between 1 and 65535, got 'abc'");
  check_error(without_xmpp + "xmpp:\n"
                             "  port: 53.5\n",
              "t.yaml:5:9: xmpp.port: ", "expected an integer");
  check_error(without_xmpp + "xmpp:\n"
                             "  port:\n",
              "t.yaml:5:3: xmpp.port: ", "expected an integer between 1 and 65535, got nothing");
  check_error(without_xmpp + "xmpp:\n"
                             "  port: [1]\n",
              "t.yaml:5:9: xmpp.port: ", "expected an integer, got a list");
  check_error(without_xmpp + "xmpp: [host]\n",
              "t.yaml:4:7: xmpp: ", "expected a mapping, got a list");
  check_error(without_xmpp + "xmpp:\n"
                             "  limits: 5\n",
              "t.yaml:5:11: xmpp.limits: ", "expected a mapping, got a scalar");
  check_error(without_xmpp + "xmpp:\n"
                             "  host: {a: b}\n",
              "t.yaml:5:9: xmpp.host: ", "expected a string, got a mapping");
  check_error(without_xmpp + "xmpp: {}\n"
                             "http: {enabled: maybe}\n",
              "t.yaml:5:17: http.enabled: ", "expected true or false, got 'maybe'");
  check_error(without_xmpp + "xmpp: {}\n"
                             "http: {enabled: }\n",
              "t.yaml:5:8: http.enabled: ", "expected true or false, got nothing");
  check_error(
      "xmpp: {}\n"
      "access: {allow: []}\n"
      "components: {domain: a.example}\n",
      "t.yaml:3:13: components: ", "expected a non-empty list of components, got a mapping");
  check_error(before_components + "  - irc.example\n",
              "t.yaml:5:5: components[0]: ", "expected a mapping");
  check_error(without_access + "access: {allow: '*'}\n", "t.yaml:4:17: access.allow: ",
              "expected a list, got a scalar (write a single entry as ['*']");
  check_error(without_access + "access: {allow: [[a]]}\n",
              "t.yaml:4:18: access.allow[0]: ", "expected a string, got a list");
}

BOOST_AUTO_TEST_CASE(numbers_are_range_checked) {
  check_error(without_xmpp + "xmpp: {port: -1}\n",
              "t.yaml:4:14: xmpp.port: ", "must not be negative");
  check_error(without_xmpp + "xmpp: {port: 0}\n",
              "t.yaml:4:14: xmpp.port: ", "out of range: expected an integer between 1 and 65535");
  check_error(without_xmpp + "xmpp: {port: 65536}\n", "t.yaml:4:14: xmpp.port: ", "out of range");
  check_error(without_xmpp + "xmpp: {port: 99999999999999999999999}\n",
              "t.yaml:4:14: xmpp.port: ", "out of range");
  check_error(without_xmpp + "xmpp: {}\n"
                             "http: {port: 65536}\n",
              "t.yaml:5:14: http.port: ", "between 0 and 65535");
  check_error(without_xmpp + "xmpp: {keepalive_interval_seconds: 0}\n",
              "t.yaml:4:36: xmpp.keepalive_interval_seconds: ", "between 1 and 86400");
  check_error(without_xmpp + "xmpp: {keepalive_timeout_seconds: 0}\n",
              "t.yaml:4:35: xmpp.keepalive_timeout_seconds: ", "between 1 and 86400");
  check_error(without_xmpp + "xmpp: {reconnect_min_delay_seconds: 0}\n",
              "t.yaml:4:37: xmpp.reconnect_min_delay_seconds: ", "between 1 and 86400");
  check_error(without_xmpp + "xmpp: {send_queue_limit: 0}\n",
              "t.yaml:4:26: xmpp.send_queue_limit: ", "out of range");
  check_error(without_xmpp + "xmpp: {limits: {max_stanza_bytes: 0}}\n",
              "t.yaml:4:35: xmpp.limits.max_stanza_bytes: ", "out of range");
  check_error(without_xmpp + "xmpp: {limits: {max_depth: 0}}\n",
              "t.yaml:4:28: xmpp.limits.max_depth: ", "out of range");
  check_error(without_xmpp + "xmpp: {limits: {max_attributes: 0}}\n",
              "t.yaml:4:33: xmpp.limits.max_attributes: ", "out of range");
  check_error(without_xmpp + "xmpp: {}\n"
                             "http: {max_connections: 0}\n",
              "t.yaml:5:25: http.max_connections: ", "out of range");
  BOOST_TEST(load_config_text(without_xmpp + "xmpp: {port: 65535}\nhttp: {port: 0}\n", "t.yaml")
                 .xmpp.port == 65535);
}

BOOST_AUTO_TEST_CASE(reconnect_delays_must_be_ordered) {
  check_error(without_xmpp + "xmpp:\n"
                             "  reconnect_min_delay_seconds: 10\n"
                             "  reconnect_max_delay_seconds: 5\n",
              "t.yaml:6:32: xmpp.reconnect_max_delay_seconds: ",
              "must be at least reconnect_min_delay_seconds (10), got 5");
  check_error(without_xmpp + "xmpp:\n"
                             "  reconnect_min_delay_seconds: 11\n",
              "t.yaml:5:32: xmpp.reconnect_min_delay_seconds: ",
              "must not exceed reconnect_max_delay_seconds (10, the default), got 11");
}

BOOST_AUTO_TEST_CASE(send_queue_high_water_is_below_the_byte_bound) {
  // Default: 1 MiB, or half of a smaller byte bound.
  BOOST_TEST(
      load_config_text(without_xmpp + "xmpp: {}\n", "t.yaml").xmpp.send_queue_high_water_bytes ==
      1048576u);
  BOOST_TEST(load_config_text(without_xmpp + "xmpp: {send_queue_max_bytes: 100000}\n", "t.yaml")
                 .xmpp.send_queue_high_water_bytes == 50000u);
  const auto off =
      load_config_text(without_xmpp + "xmpp: {send_queue_high_water_bytes: 0}\n", "t.yaml").xmpp;
  BOOST_TEST(off.send_queue_high_water_bytes == 0u);
  check_error(without_xmpp + "xmpp:\n"
                             "  send_queue_max_bytes: 100000\n"
                             "  send_queue_high_water_bytes: 100000\n",
              "t.yaml:6:32: xmpp.send_queue_high_water_bytes: ",
              "must be below send_queue_max_bytes (100000)");
}

BOOST_AUTO_TEST_CASE(required_keys_are_reported_at_the_enclosing_mapping) {
  check_error(without_xmpp, "t.yaml:1:1: xmpp: ", "required key is missing");
  check_error("xmpp: {}\n"
              "access: {allow: []}\n",
              "t.yaml:1:1: components: ", "required key is missing");
  check_error(before_components + "  []\n", "t.yaml:5:3: components: ",
              "expected a non-empty list of components, got an empty list");
  check_error(before_components + "  - domain: a.example\n"
                                  "    adapter: irc\n",
              "t.yaml:5:5: components[0].secret: ", "required key is missing");
  check_error(before_components + "  - {domain: a.example, secret: s, adapter: irc}\n"
                                  "  - secret: s\n"
                                  "    adapter: irc\n",
              "t.yaml:6:5: components[1].domain: ", "required key is missing");
  check_error(
      before_components + "  - secret: s\n"
                          "    domain: a.example\n",
      "t.yaml:5:5: components[0].adapter: ", "required key is missing (one of irc, smtp, sms)");
}

BOOST_AUTO_TEST_CASE(access_allow_is_required_and_explains_star) {
  check_error(without_access, "t.yaml:1:1: access.allow: ",
              "required key is missing (list who may use the gateway: ['*'] allows everyone");
  check_error(without_access + "access:\n"
                               "  admins: [root@a.example]\n",
              "t.yaml:5:3: access.allow: ", "['*'] allows everyone, [] only the admins");
  const Config open = load_config_text(without_access + "access: {allow: ['*']}\n", "t.yaml");
  BOOST_TEST(open.access.allow == std::vector<std::string>{"*"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(access_entries_are_star_domains_or_bare_jids) {
  check_error(without_access + "access: {allow: [a.example, 'x y']}\n",
              "t.yaml:4:29: access.allow[1]: ",
              "'x y' is not '*', a domain or a bare JID (local@domain, without /resource)");
  check_error(without_access + "access: {allow: [me@a.example/phone]}\n",
              "t.yaml:4:18: access.allow[0]: ", "is not '*', a domain or a bare JID");
  check_error(without_access + "access: {allow: ['@a.example']}\n",
              "t.yaml:4:18: access.allow[0]: ", "is not '*', a domain or a bare JID");
  check_error(without_access + "access: {allow: [], deny: ['*']}\n",
              "t.yaml:4:28: access.deny[0]: ", "'*' is only meaningful in access.allow");
  check_error(without_access + "access: {allow: [], admins: [a.example]}\n",
              "t.yaml:4:30: access.admins[0]: ", "'a.example' is not a bare JID");
  check_error(without_access + "access: {allow: [], admins: ['*']}\n",
              "t.yaml:4:30: access.admins[0]: ", "'*' is only meaningful in access.allow");
  check_error(without_access + "access: {allow: [], require_registration: 1}\n",
              "t.yaml:4:43: access.require_registration: ", "expected true or false");
}

BOOST_AUTO_TEST_CASE(adapters_and_their_sections_are_validated) {
  check_error(before_components + "  - {domain: a.example, secret: s, adapter: xmpp}\n",
              "t.yaml:5:45: components[0].adapter: ",
              "unknown adapter 'xmpp'; expected one of irc, smtp, sms");
  check_error(before_components + "  - domain: a.example\n"
                                  "    secret: s\n"
                                  "    adapter: sms\n"
                                  "    irc: {fixed_server: irc.libera.chat}\n",
              "t.yaml:8:5: components[0].irc: ",
              "an 'irc' section is only allowed on a component with adapter: irc (this one is "
              "'sms')");
  check_error(before_components + "  - domain: a.example\n"
                                  "    sms: {default_country: '1'}\n"
                                  "    secret: s\n"
                                  "    adapter: irc\n",
              "t.yaml:6:5: components[0].sms: ", "only allowed on a component with adapter: sms");
  check_error(before_components + "  - domain: a.example\n"
                                  "    secret: s\n"
                                  "    adapter: irc\n"
                                  "    irc: {fixed_server: 'bad server'}\n",
              "t.yaml:8:25: components[0].irc.fixed_server: ", "must not contain spaces");
}

BOOST_AUTO_TEST_CASE(default_country_is_one_to_three_digits) {
  const std::string head = before_components + "  - domain: sms.example\n"
                                               "    secret: s\n"
                                               "    adapter: sms\n";
  for (const char* bad : {"'+44'", "'1234'", "ab", "'4 4'"}) {
    check_error(head + "    sms: {default_country: " + bad + "}\n",
                "t.yaml:8:28: components[0].sms.default_country: ",
                "expected a country calling code of 1 to 3 digits");
  }
  BOOST_TEST(
      sms_of(load_config_text(head + "    sms: {default_country: ''}\n", "t.yaml").components[0])
          .default_country.empty());
  BOOST_TEST(
      sms_of(load_config_text(head + "    sms: {default_country: 353}\n", "t.yaml").components[0])
          .default_country == "353");
}

BOOST_AUTO_TEST_CASE(domains_are_plausible_and_unique) {
  check_error(before_components + "  - {domain: a@example, secret: s, adapter: irc}\n",
              "t.yaml:5:14: components[0].domain: ", "must be a bare domain, without '@' or '/'");
  check_error(before_components + "  - {domain: a.example/x, secret: s, adapter: irc}\n",
              "t.yaml:5:14: components[0].domain: ", "without '@' or '/'");
  check_error(before_components + "  - {domain: 'a example', secret: s, adapter: irc}\n",
              "t.yaml:5:14: components[0].domain: ", "must not contain spaces");
  check_error(before_components + "  - {domain: '', secret: s, adapter: irc}\n",
              "t.yaml:5:14: components[0].domain: ", "must not be empty");
  check_error(before_components + "  - {domain: a..example, secret: s, adapter: irc}\n",
              "t.yaml:5:14: components[0].domain: ", "empty label");
  check_error(before_components + "  - {domain: a.example, secret: s, adapter: irc}\n"
                                  "  - {domain: b.example, secret: s, adapter: sms}\n"
                                  "  - {domain: A.Example, secret: s, adapter: smtp}\n",
              "t.yaml:7:14: components[2].domain: ",
              "duplicate domain 'A.Example' (also used by components[0])");
}

BOOST_AUTO_TEST_CASE(secrets_must_not_be_empty) {
  check_error(before_components + "  - {domain: a.example, secret: '', adapter: irc}\n",
              "t.yaml:5:33: components[0].secret: ", "must not be empty");
  check_error(before_components + "  - domain: a.example\n"
                                  "    secret:\n"
                                  "    adapter: irc\n",
              "t.yaml:6:5: components[0].secret: ", "must not be empty");
}

BOOST_AUTO_TEST_CASE(strings_must_not_be_empty_where_a_value_is_needed) {
  check_error(without_xmpp + "xmpp: {host: ''}\n", "t.yaml:4:14: xmpp.host: ", "must not be empty");
  check_error(without_xmpp + "xmpp: {}\n"
                             "storage: {sqlite_path: ''}\n",
              "t.yaml:5:24: storage.sqlite_path: ", "must not be empty");
  check_error(without_xmpp + "xmpp: {}\n"
                             "http: {bind: 'a b'}\n",
              "t.yaml:5:14: http.bind: ", "must not contain spaces");
}

BOOST_AUTO_TEST_CASE(loopback_hosts_are_the_name_localhost_and_loopback_addresses) {
  using trestle::gateway::is_loopback_host;
  for (const char* host : {"localhost", "LocalHost", "127.0.0.1", "127.0.0.53", "127.255.255.254",
                           "::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1"}) {
    BOOST_TEST(is_loopback_host(host), host);
  }
  // Names are not resolved; short or odd address forms are not addresses.
  for (const char* host : {"192.0.2.1", "10.0.0.1", "0.0.0.0", "128.0.0.1", "::", "::2",
                           "::ffff:192.0.2.1", "xmpp.example.org", "localhost.", "localhost6",
                           "my.localhost", "127.1", "0x7f.0.0.1", "127.0.0.1.nip.io", ""}) {
    BOOST_TEST(!is_loopback_host(host), host);
  }
}

BOOST_AUTO_TEST_CASE(plain_text_to_a_remote_host_is_refused) {
  // The host's value is where the error points.
  check_error(without_xmpp + "xmpp:\n"
                             "  host: 192.0.2.1\n",
              "t.yaml:5:9: xmpp.host: ",
              "'192.0.2.1' is not a loopback address and the component link is plain text");
  check_error(without_xmpp + "xmpp: {tls: false, host: xmpp.example.org}\n",
              "t.yaml:4:26: xmpp.host: ", "Set tls: true");
  check_error(without_xmpp + "xmpp: {host: xmpp.example.org, insecure: false}\n",
              "t.yaml:4:14: xmpp.host: ", "or insecure: true to accept plain text");
  check_error(without_xmpp + "xmpp: {host: 'my.localhost'}\n",
              "t.yaml:4:14: xmpp.host: ", "host names are not resolved");
  check_error(without_xmpp + "xmpp: {host: '::2'}\n",
              "t.yaml:4:14: xmpp.host: ", "not a loopback address");
}

BOOST_AUTO_TEST_CASE(unverified_tls_to_a_remote_host_needs_insecure) {
  check_error(without_xmpp + "xmpp: {host: 192.0.2.1, tls: true, verify_certificate: false}\n",
              "t.yaml:4:56: xmpp.verify_certificate: ", "would accept any certificate");
  const Config allowed = load_config_text(
      without_xmpp + "xmpp: {host: 192.0.2.1, tls: true, verify_certificate: false, "
                     "insecure: true}\n",
      "t.yaml");
  BOOST_TEST(!allowed.xmpp.verify_certificate);
  const Config local = load_config_text(
      without_xmpp + "xmpp: {host: 127.0.0.1, tls: true, verify_certificate: false}\n", "t.yaml");
  BOOST_TEST(!local.xmpp.verify_certificate);
}

BOOST_AUTO_TEST_CASE(plain_text_is_accepted_on_loopback_or_when_insecure) {
  using trestle::gateway::plain_text_off_host;
  for (const char* host : {"localhost", "127.0.0.1", "127.3.2.1", "'::1'"}) {
    const Config config = load_config_text(without_xmpp + "xmpp: {host: " + host + "}\n", "t.yaml");
    BOOST_TEST(!config.xmpp.tls);
    BOOST_TEST(!plain_text_off_host(config.xmpp), host);
  }
  const Config insecure =
      load_config_text(without_xmpp + "xmpp: {host: 192.0.2.1, insecure: true}\n", "t.yaml");
  BOOST_TEST(insecure.xmpp.host == "192.0.2.1");
  BOOST_TEST(insecure.xmpp.insecure);
  // Allowed, and what the app warns about at start.
  BOOST_TEST(plain_text_off_host(insecure.xmpp));
  const Config encrypted =
      load_config_text(without_xmpp + "xmpp: {host: 192.0.2.1, tls: true}\n", "t.yaml");
  BOOST_TEST(encrypted.xmpp.tls);
  BOOST_TEST(!plain_text_off_host(encrypted.xmpp));
}

BOOST_AUTO_TEST_CASE(tls_keys_are_parsed_and_checked) {
  const Config config = load_config_text(without_xmpp + "xmpp:\n"
                                                        "  host: 192.0.2.1\n"
                                                        "  tls: true\n"
                                                        "  ca_file: /etc/trestle/xmpp-ca.pem\n"
                                                        "  server_name: xmpp.example.org\n",
                                         "t.yaml");
  BOOST_TEST(config.xmpp.tls);
  BOOST_TEST(config.xmpp.verify_certificate);
  BOOST_TEST(config.xmpp.ca_file == "/etc/trestle/xmpp-ca.pem");
  BOOST_TEST(config.xmpp.server_name == "xmpp.example.org");
  BOOST_TEST(!config.xmpp.insecure);
  // Empty server_name means the host; TLS to loopback is fine too.
  const Config local = load_config_text(
      without_xmpp + "xmpp: {host: localhost, tls: true, server_name: ''}\n", "t.yaml");
  BOOST_TEST(local.xmpp.tls);
  BOOST_TEST(local.xmpp.server_name == "");
  check_error(without_xmpp + "xmpp: {tls: yes please}\n",
              "t.yaml:4:13: xmpp.tls: ", "expected true or false");
  check_error(without_xmpp + "xmpp: {tls: true, verify_certificate: 0}\n",
              "t.yaml:4:39: xmpp.verify_certificate: ", "expected true or false");
  check_error(without_xmpp + "xmpp: {tls: true, server_name: 'a b'}\n",
              "t.yaml:4:32: xmpp.server_name: ", "must not contain spaces");
  check_error(without_xmpp + "xmpp: {tls: true, server_name: 'x@y'}\n",
              "t.yaml:4:32: xmpp.server_name: ", "without '@'");
  check_error(without_xmpp + "xmpp: {tls: true, ca_file: [a]}\n",
              "t.yaml:4:28: xmpp.ca_file: ", "expected a string");
  check_error(without_xmpp + "xmpp: {host: 192.0.2.1, insecure: sure}\n",
              "t.yaml:4:35: xmpp.insecure: ", "expected true or false");
}

BOOST_AUTO_TEST_CASE(logging_level_is_one_of_four) {
  check_error(without_xmpp + "xmpp: {}\n"
                             "logging:\n"
                             "  level: verbose\n",
              "t.yaml:6:10: logging.level: ",
              "unknown level 'verbose'; expected one of debug, info, warning, error");
  BOOST_TEST((load_config_text(without_xmpp + "xmpp: {}\nlogging: {level: warning}\n", "t.yaml")
                  .logging.level == LogLevel::warning));
}

BOOST_AUTO_TEST_CASE(environment_variables_are_substituted) {
  const ScopedEnv host("TRESTLE_TEST_HOST", "xmpp.internal");
  const ScopedEnv port("TRESTLE_TEST_PORT", "5999");
  const ScopedEnv nested("TRESTLE_TEST_NESTED", "${TRESTLE_TEST_HOST}");
  const Config config =
      load_config_text(without_xmpp + "xmpp:\n"
                                      "  host: ${TRESTLE_TEST_HOST}\n"
                                      "  port: ${TRESTLE_TEST_PORT}\n"
                                      "  tls: true\n"
                                      "storage:\n"
                                      "  sqlite_path: \"/data/$${HOME}/${TRESTLE_TEST_HOST}.db $5 "
                                      "$$x ${TRESTLE_TEST_NESTED}\"\n",
                       "t.yaml");
  BOOST_TEST(config.xmpp.host == "xmpp.internal");
  BOOST_TEST(config.xmpp.port == 5999);
  // `$${` is a literal `${`, other dollars stay, substituted text is not rescanned.
  BOOST_TEST(config.storage.sqlite_path ==
             "/data/${HOME}/xmpp.internal.db $5 $$x ${TRESTLE_TEST_HOST}");
}

BOOST_AUTO_TEST_CASE(unset_or_malformed_variables_are_errors) {
  ::unsetenv("TRESTLE_TEST_UNSET");
  check_error(without_xmpp + "xmpp:\n"
                             "  host: \"a.${TRESTLE_TEST_UNSET}\"\n",
              "t.yaml:5:9: xmpp.host: ", "environment variable TRESTLE_TEST_UNSET is not set");
  check_error(without_xmpp + "xmpp: {port: '${TRESTLE_TEST_UNSET}'}\n",
              "t.yaml:4:14: xmpp.port: ", "environment variable TRESTLE_TEST_UNSET is not set");
  for (const char* bad : {"${1ABC}", "${A-B}", "${}", "a${B", "${ A}"}) {
    check_error(without_xmpp + "xmpp: {host: '" + bad + "'}\n",
                "t.yaml:4:14: xmpp.host: ", "bad variable reference");
  }
}

BOOST_AUTO_TEST_CASE(secret_values_never_appear_in_messages) {
  const std::string secret = "hunter2-s3cret";
  const ScopedEnv env("TRESTLE_TEST_SECRET", secret.c_str());
  ::unsetenv("TRESTLE_TEST_UNSET");
  const std::string head = before_components + "  - domain: a.example\n"
                                               "    adapter: irc\n";
  const std::string cases[] = {
      head + "    secret: \"" + secret + "${TRESTLE_TEST_UNSET}\"\n",
      head + "    secret: \"" + secret + "${bad name}\"\n",
      head + "    secret: [" + secret + "]\n",
      head + "    secret: {" + secret + ": 1}\n",
      head + "    secret: \"" + secret + "\\q\"\n",
      head +
          "    secret: s\n"
          "    password: " +
          secret + "\n",
      head + "    secret: ${TRESTLE_TEST_SECRET}\n"
             "    name: [x]\n",
      head +
          "    secret: ${TRESTLE_TEST_SECRET}\n"
          "  - {domain: a.example, adapter: irc, secret: " +
          secret + "}\n",
  };
  for (const std::string& text : cases) {
    const std::string message = error_of(text);
    BOOST_TEST(message.starts_with("t.yaml:"), message);
    BOOST_TEST(message.find("hunter2") == std::string::npos, message);
  }
}

BOOST_AUTO_TEST_CASE(only_config_errors_escape) {
  // Anchors, aliases, tags and odd scalars go through the same checks.
  check_error(before_components + "  - &c {domain: a.example, secret: s, adapter: irc}\n"
                                  "  - *c\n",
              "t.yaml:5:17: components[1].domain: ", "duplicate domain");
  check_error(without_xmpp + "xmpp: {port: !!binary AAAA}\n",
              "t.yaml:4:14: xmpp.port: ", "expected an integer");
  check_error(without_xmpp + "xmpp: {? [a, b]: c}\n", "t.yaml:4:10: xmpp: ", "expected a key name");
}

BOOST_AUTO_TEST_CASE(irc_section_defaults_and_server_inheritance) {
  const Config config =
      load_config_text(before_components + "  - domain: irc.example\n"
                                           "    secret: s\n"
                                           "    adapter: irc\n"
                                           "    irc:\n"
                                           "      server_defaults: {port: 6667, tls: false, "
                                           "flood_lines_per_second: 0}\n"
                                           "      servers:\n"
                                           "        - {host: IRC.Example.NET., port: 7000}\n"
                                           "        - {host: 127.0.0.1, tls: true}\n",
                       "t.yaml");
  const auto& irc = irc_of(config.components.at(0));
  BOOST_TEST(irc.allow_servers.empty());
  BOOST_TEST(irc.server_defaults.port == 6667);
  BOOST_TEST(!irc.server_defaults.tls);
  BOOST_TEST_REQUIRE(irc.servers.size() == 2u);
  BOOST_TEST(irc.servers[0].host == "irc.example.net");
  BOOST_TEST(irc.servers[0].port == 7000);
  BOOST_TEST(!irc.servers[0].tls);
  BOOST_TEST(irc.servers[0].flood_lines_per_second == 0u);
  BOOST_TEST(irc.servers[1].port == 6667);
  BOOST_TEST(irc.servers[1].tls);
}

BOOST_AUTO_TEST_CASE(irc_section_errors) {
  const std::string component = before_components + "  - domain: irc.example\n"
                                                    "    secret: s\n"
                                                    "    adapter: irc\n"
                                                    "    irc:\n";
  check_error(component + "      servers: [{port: 1}]\n",
              "t.yaml:9:17: components[0].irc.servers[0].host", "required key is missing");
  check_error(component + "      servers: [{host: a.example}, {host: A.example}]\n",
              "t.yaml:9:36: components[0].irc.servers[1]: ", "listed twice");
  check_error(component + "      servers: [{host: 'a b'}]\n", "t.yaml:9:", "spaces");
  check_error(component + "      allow_servers: '*'\n",
              "t.yaml:9:22: components[0].irc.allow_servers: ", "expected a list");
  check_error(component + "      deny_servers: ['a@b']\n",
              "t.yaml:9:22: components[0].irc.deny_servers[0]: ", "not a server name pattern");
  check_error(component + "      max_connections_per_user: 0\n", "t.yaml:9:33: ", "out of range");
  check_error(component + "      server_defaults: {host: a.example}\n",
              "t.yaml:9:25: ", "unknown key 'host'");
  check_error(component + "      server_defaults: {reconnect_min_delay_seconds: 9, "
                          "reconnect_max_delay_seconds: 3}\n",
              "t.yaml:9:24: components[0].irc.server_defaults: ", "smaller than");
  check_error(component + "      server_defaults: {password: \"a\\nb\"}\n",
              "t.yaml:9:35: components[0].irc.server_defaults.password: ", "line breaks");
}

BOOST_AUTO_TEST_CASE(smtp_section_defaults_and_values) {
  const Config defaults = load_config_text(
      before_components + "  - {domain: mail.example, secret: s, adapter: smtp}\n", "t.yaml");
  const auto& plain = email_of(defaults.components.at(0));
  BOOST_TEST(plain.mail_domain.empty());
  BOOST_TEST(plain.address_template == "{localpart}");
  BOOST_TEST(plain.relay.security == "starttls");
  BOOST_TEST(plain.relay.verify_certificate);
  BOOST_TEST(plain.listener.enabled);
  BOOST_TEST(plain.listener.bind == "127.0.0.1");
  BOOST_TEST(plain.listener.port == 2525u);
  BOOST_TEST(plain.listener.max_message_bytes == 10u * 1024 * 1024);

  const Config config = load_config_text(
      before_components + "  - domain: mail.example\n"
                          "    secret: s\n"
                          "    adapter: smtp\n"
                          "    smtp:\n"
                          "      mail_domain: Example.ORG\n"
                          "      address_template: '{localpart}.{domain}'\n"
                          "      require_registration: true\n"
                          "      default_subject: 'Chat with {name}'\n"
                          "      retry_max_age_seconds: 172800\n"
                          "      relay: {host: smtp.example.org, port: 465, security: tls, "
                          "username: u, password: p}\n"
                          "      listener: {port: 24, lmtp: true, max_recipients: 5}\n",
      "t.yaml");
  const auto& email = email_of(config.components.at(0));
  BOOST_TEST(email.mail_domain == "example.org");
  BOOST_TEST(email.address_template == "{localpart}.{domain}");
  BOOST_TEST(email.require_registration);
  BOOST_TEST(email.default_subject == "Chat with {name}");
  BOOST_TEST(email.retry_max_age_seconds == 172800u);
  BOOST_TEST(email.relay.host == "smtp.example.org");
  BOOST_TEST(email.relay.port == 465u);
  BOOST_TEST(email.relay.security == "tls");
  BOOST_TEST(email.relay.username == "u");
  BOOST_TEST(email.listener.port == 24u);
  BOOST_TEST(email.listener.lmtp);
  BOOST_TEST(email.listener.max_recipients == 5u);
}

BOOST_AUTO_TEST_CASE(smtp_section_errors) {
  const std::string component = before_components + "  - domain: mail.example\n"
                                                    "    secret: s\n"
                                                    "    adapter: smtp\n"
                                                    "    smtp:\n";
  check_error(component + "      relay: {security: ssl}\n",
              "t.yaml:9:25: components[0].smtp.relay.security: ", "expected starttls, tls or none");
  check_error(component + "      relay: {username: u}\n",
              "t.yaml:9:14: components[0].smtp.relay: ", "username and password go together");
  check_error(component + "      listener: {tls_key_file: k.pem}\n",
              "t.yaml:9:17: components[0].smtp.listener: ", "give both or neither");
  check_error(component + "      address_template: '{user}'\n",
              "t.yaml:9:25: components[0].smtp.address_template: ", "unknown placeholder");
  check_error(component + "      default_subject: 'Hi {nme}'\n",
              "t.yaml:9:24: components[0].smtp.default_subject: ", "allowed: {name}");
  check_error(component + "      mail_domain: 'a..b'\n", "t.yaml:9:20: ", "empty label");
  check_error(component + "      retry_min_delay_seconds: 600\n"
                          "      retry_max_delay_seconds: 60\n",
              "t.yaml:9:7: components[0].smtp: ", "smaller than");
  check_error(component + "      listener: {port: 70000}\n", "t.yaml:9:", "out of range");
}

BOOST_AUTO_TEST_CASE(sms_section_defaults_and_values) {
  const Config defaults = load_config_text(
      before_components + "  - {domain: sms.example, secret: s, adapter: sms}\n", "t.yaml");
  const auto& plain = sms_of(defaults.components.at(0));
  BOOST_TEST(plain.provider.empty());
  BOOST_TEST(plain.max_segments == 6u);
  BOOST_TEST(plain.max_per_hour == 60u);
  BOOST_TEST(plain.max_per_day == 300u);
  BOOST_TEST(plain.verify_certificate);

  const Config config = load_config_text(
      before_components + "  - domain: sms.example\n"
                          "    secret: s\n"
                          "    adapter: sms\n"
                          "    sms:\n"
                          "      provider: twilio\n"
                          "      public_base_url: https://gw.example.org/\n"
                          "      webhook_path: /hooks/sms/\n"
                          "      numbers: {Alice@Example.org: '+15550001111'}\n"
                          "      pool: ['+15550002222']\n"
                          "      max_segments: 3\n"
                          "      max_per_hour: 0\n"
                          "      twilio: {api_base_url: 'http://127.0.0.1:9', account_sid: AC1, "
                          "auth_token: t}\n",
      "t.yaml");
  const auto& sms = sms_of(config.components.at(0));
  BOOST_TEST(sms.provider == "twilio");
  BOOST_TEST(sms.public_base_url == "https://gw.example.org");
  BOOST_TEST(sms.webhook_path == "/hooks/sms");
  BOOST_TEST(sms.numbers.at("alice@example.org") == "+15550001111");
  BOOST_TEST(sms.pool == std::vector<std::string>{"+15550002222"},
             boost::test_tools::per_element());
  BOOST_TEST(sms.max_segments == 3u);
  BOOST_TEST(sms.max_per_hour == 0u);
  BOOST_TEST(sms.twilio.api_base_url == "http://127.0.0.1:9");
  BOOST_TEST(sms.twilio.account_sid == "AC1");
}

BOOST_AUTO_TEST_CASE(sms_section_errors) {
  const std::string component = before_components + "  - domain: sms.example\n"
                                                    "    secret: s\n"
                                                    "    adapter: sms\n"
                                                    "    sms:\n";
  const std::string kannel =
      "      kannel: {sendsms_url: 'http://127.0.0.1:13013/cgi-bin/sendsms', username: u, "
      "password: p, webhook_token: 0123456789abcdef}\n";
  check_error(component + "      provider: nexmo\n",
              "t.yaml:9:17: components[0].sms.provider: ", "expected kannel or twilio");
  check_error(component + "      provider: kannel\n" + kannel,
              "t.yaml:9:7: components[0].sms.public_base_url", "required key is missing");
  check_error(component + "      provider: kannel\n      public_base_url: ftp://x\n" + kannel,
              "t.yaml:10:24: components[0].sms.public_base_url: ", "not an http:// or https://");
  check_error(component + "      provider: kannel\n      public_base_url: https://gw.example\n",
              "t.yaml:9:7: components[0].sms.kannel", "required key is missing");
  check_error(component + "      provider: kannel\n      public_base_url: https://gw.example\n"
                          "      kannel: {sendsms_url: 'http://k', username: u, password: p, "
                          "webhook_token: short}\n",
              "t.yaml:11:82: components[0].sms.kannel.webhook_token: ", "at least 16");
  check_error(component + "      provider: twilio\n      public_base_url: https://gw.example\n" +
                  kannel,
              "t.yaml:9:7: components[0].sms.twilio", "required key is missing");
  check_error(component + "      kannel: {}\n", "t.yaml:9:7: components[0].sms.provider",
              "required key is missing");
  check_error(component + "      numbers: {alice@example.org: '5551234'}\n",
              "t.yaml:9:36: components[0].sms.numbers.alice@example.org: ", "international form");
  check_error(component + "      numbers: {alice@example.org: '+15550001111'}\n"
                          "      pool: ['+15550001111']\n",
              "t.yaml:10:14: components[0].sms.pool[0]: ", "given twice");
  check_error(component + "      numbers: {'alice@example.org/phone': '+15550001111'}\n",
              "t.yaml:9:17: components[0].sms.numbers", "not a bare JID");
  check_error(component + "      webhook_path: 'sms'\n",
              "t.yaml:9:21: components[0].sms.webhook_path: ", "not a URL path");
  check_error(component + "      max_segments: 0\n", "t.yaml:9:21: ", "out of range");
}

BOOST_AUTO_TEST_CASE(sms_provider_needs_the_http_listener) {
  check_error(
      "xmpp: {}\n"
      "http: {enabled: false}\n"
      "access: {allow: ['*']}\n"
      "components:\n"
      "  - domain: sms.example\n"
      "    secret: s\n"
      "    adapter: sms\n"
      "    sms: {provider: twilio, public_base_url: 'https://gw.example', twilio: {account_sid: "
      "a, auth_token: b}}\n",
      "t.yaml:2:7: http.enabled: ", "needs the HTTP listener");
}

BOOST_AUTO_TEST_SUITE_END()
