#include "config.hpp"

#include "config_reader.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

// Every error names its place as `source:line:column: key.path: message`, with
// 1-based line and column taken from yaml-cpp's (0-based) marks. List indices
// in key paths are 0-based, as in `yq`. Errors about the whole document (YAML
// syntax, size) have no key path. Values of keys named `secret` or `password`
// are never quoted back, and a value is never quoted after `${...}`
// substitution failed, because the value may be half a secret.

namespace trestle::gateway {
namespace {

using namespace config_detail;

/// Configuration files are small; the bound keeps a hostile or mistaken input
/// (a log file passed by accident) from costing seconds inside yaml-cpp.
constexpr std::size_t max_config_bytes = 1024 * 1024;

/// Nesting a configuration never needs; deeper input is refused before
/// yaml-cpp's recursive-descent parser sees it.
constexpr std::size_t max_nesting = 64;

/// Which entries an access list admits.
enum class AccessEntries { any, jids_only };

std::vector<std::string> read_access_list(const Context& ctx, const Entry& entry,
                                          AccessEntries kind, bool star_allowed) {
  std::vector<std::string> out;
  if (entry.value.IsNull()) {
    return out;
  }
  if (!entry.value.IsSequence()) {
    ctx.fail(entry.mark(), entry.path,
             "expected a list, got " + std::string(kind_of(entry.value)) +
                 " (write a single entry as ['*'] or [alice@example.org])");
  }
  for (std::size_t i = 0; i < entry.value.size(); ++i) {
    const Entry item{entry.key, join_index(entry.path, i), entry.key_node, entry.value[i]};
    const std::string text = read_text(ctx, item, "a string");
    const YAML::Mark mark = item.mark();
    if (text == "*") {
      if (!star_allowed) {
        ctx.fail(mark, item.path, "'*' is only meaningful in access.allow");
      }
    } else if (kind == AccessEntries::jids_only) {
      if (!is_bare_jid(text)) {
        ctx.fail(mark, item.path,
                 quoted(text) + " is not a bare JID (local@domain, without /resource)");
      }
    } else if (!is_bare_jid(text) && !domain_problem(text).empty()) {
      ctx.fail(mark, item.path,
               quoted(text) +
                   " is not '*', a domain or a bare JID (local@domain, without /resource)");
    }
    out.push_back(text);
  }
  return out;
}

XmlLimitsConfig parse_limits(const Context& ctx, const Entry& entry) {
  const MapView map(ctx, entry.value, entry.key_node.Mark(), entry.path,
                    {"max_stanza_bytes", "max_depth", "max_attributes"});
  XmlLimitsConfig limits;
  read_number(map, "max_stanza_bytes", limits.max_stanza_bytes, bytes_range);
  read_number(map, "max_depth", limits.max_depth, Range{1, 1000});
  read_number(map, "max_attributes", limits.max_attributes, Range{1, 10000});
  return limits;
}

/// Reads the TLS keys of `xmpp` and refuses a plain-text link, or a TLS link
/// that does not verify the certificate, to a host that is not loopback
/// unless `insecure` says so: either can be read and changed on the path.
void parse_xmpp_security(const MapView& map, XmppServerConfig& xmpp) {
  read_bool(map, "tls", xmpp.tls);
  read_bool(map, "verify_certificate", xmpp.verify_certificate);
  read_string(map, "ca_file", xmpp.ca_file);
  read_string(map, "server_name", xmpp.server_name);
  if (const Entry* name = map.find("server_name"); name != nullptr && !xmpp.server_name.empty()) {
    if (const std::string problem = domain_problem(xmpp.server_name); !problem.empty()) {
      map.ctx().fail(name->mark(), name->path, quoted(xmpp.server_name) + ' ' + problem);
    }
  }
  read_bool(map, "insecure", xmpp.insecure);
  if (xmpp.insecure) {
    return;
  }
  if (xmpp.tls && !xmpp.verify_certificate && !is_loopback_host(xmpp.host)) {
    const Entry& verify = map.require("verify_certificate");
    map.ctx().fail(verify.mark(), verify.path,
                   "the component link to " + quoted(xmpp.host) +
                       " would accept any certificate, so anyone on the path could pose as the "
                       "XMPP server and read the component secrets and every message. Trust its "
                       "certificate with ca_file (and server_name), or set insecure: true to "
                       "accept this");
  }
  if (!plain_text_off_host(xmpp)) {
    return;
  }
  // The default host is loopback, so a remote one was given.
  const Entry& host = map.require("host");
  map.ctx().fail(host.mark(), host.path,
                 quoted(xmpp.host) +
                     " is not a loopback address and the component link is plain text "
                     "(tls: false): the component secrets and every message would cross the "
                     "network unencrypted. Set tls: true (the XMPP server must offer direct TLS "
                     "on its component port), or insecure: true to accept plain text, e.g. on a "
                     "private network. Only localhost, 127.0.0.0/8 and ::1 count as loopback; "
                     "host names are not resolved");
}

XmppServerConfig parse_xmpp(const Context& ctx, const Entry& entry) {
  const MapView map(ctx, entry.value, entry.key_node.Mark(), entry.path,
                    {"host", "port", "tls", "verify_certificate", "ca_file", "server_name",
                     "insecure", "keepalive_interval_seconds", "keepalive_timeout_seconds",
                     "connect_timeout_seconds", "reconnect_min_delay_seconds",
                     "reconnect_max_delay_seconds", "send_queue_limit", "send_queue_max_bytes",
                     "send_queue_high_water_bytes", "limits"});
  XmppServerConfig xmpp;
  read_required_text(map, "host", xmpp.host, Spaces::refused);
  read_number(map, "port", xmpp.port, port_range);
  parse_xmpp_security(map, xmpp);
  read_number(map, "keepalive_interval_seconds", xmpp.keepalive_interval_seconds, seconds_range);
  read_number(map, "keepalive_timeout_seconds", xmpp.keepalive_timeout_seconds, seconds_range);
  read_number(map, "connect_timeout_seconds", xmpp.connect_timeout_seconds, seconds_range);
  read_number(map, "reconnect_min_delay_seconds", xmpp.reconnect_min_delay_seconds, seconds_range);
  read_number(map, "reconnect_max_delay_seconds", xmpp.reconnect_max_delay_seconds, seconds_range);
  read_number(map, "send_queue_limit", xmpp.send_queue_limit, count_range);
  read_number(map, "send_queue_max_bytes", xmpp.send_queue_max_bytes,
              Range{64 * 1024, 4ULL * 1024 * 1024 * 1024});
  if (const Entry* high = map.find("send_queue_high_water_bytes")) {
    read_number(map, "send_queue_high_water_bytes", xmpp.send_queue_high_water_bytes,
                Range{0, 4ULL * 1024 * 1024 * 1024});
    if (xmpp.send_queue_high_water_bytes >= xmpp.send_queue_max_bytes) {
      ctx.fail(high->mark(), high->path,
               "must be below send_queue_max_bytes (" + std::to_string(xmpp.send_queue_max_bytes) +
                   "), or the queue refuses stanzas before the readers pause; got " +
                   std::to_string(xmpp.send_queue_high_water_bytes));
    }
  } else {
    // The default follows a small byte bound down.
    xmpp.send_queue_high_water_bytes =
        std::min(xmpp.send_queue_high_water_bytes, xmpp.send_queue_max_bytes / 2);
  }
  if (const Entry* limits = map.find("limits")) {
    xmpp.limits = parse_limits(ctx, *limits);
  }
  if (xmpp.reconnect_min_delay_seconds > xmpp.reconnect_max_delay_seconds) {
    const std::string min = std::to_string(xmpp.reconnect_min_delay_seconds);
    const std::string max = std::to_string(xmpp.reconnect_max_delay_seconds);
    if (const Entry* given_max = map.find("reconnect_max_delay_seconds")) {
      ctx.fail(given_max->mark(), given_max->path,
               "must be at least reconnect_min_delay_seconds (" + min + "), got " + max);
    }
    const Entry& given_min = map.require("reconnect_min_delay_seconds");
    ctx.fail(given_min.mark(), given_min.path,
             "must not exceed reconnect_max_delay_seconds (" + max + ", the default), got " + min);
  }
  return xmpp;
}

/// "irc, smtp, sms": the adapters of `networks`, for messages.
std::string adapter_names(const NetworkConfigReaders& networks) {
  std::string names;
  for (const auto& network : networks) {
    names.append(names.empty() ? "" : ", ").append(network.adapter);
  }
  return names.empty() ? "(none in this build)" : names;
}

ComponentConfig parse_component(const Context& ctx, const YAML::Node& node,
                                const YAML::Mark& fallback, const std::string& path,
                                const NetworkConfigReaders& networks) {
  if (!node.IsMap()) {
    ctx.fail(node.IsNull() ? fallback : node.Mark(), path,
             "expected a mapping (domain, secret, adapter, ...), got " +
                 std::string(kind_of(node)));
  }
  // Each network's section is named after its adapter.
  std::vector<std::string_view> keys{"domain", "secret", "adapter", "name"};
  for (const auto& network : networks) {
    keys.push_back(network.adapter);
  }
  const MapView map(ctx, node, fallback, path, keys);
  ComponentConfig component;

  const std::string names = adapter_names(networks);
  const Entry& adapter = map.require("adapter", "one of " + names);
  component.adapter = read_text(ctx, adapter, "a string");
  const auto network =
      std::find_if(networks.begin(), networks.end(),
                   [&](const NetworkConfigReader& n) { return n.adapter == component.adapter; });
  if (network == networks.end()) {
    ctx.fail(adapter.mark(), adapter.path,
             "unknown adapter " + quoted(component.adapter) + "; expected one of " + names);
  }

  const Entry& domain = map.require("domain", "the component's domain, e.g. irc.example.org");
  component.domain = read_text(ctx, domain, "a string");
  if (const std::string problem = domain_problem(component.domain); !problem.empty()) {
    ctx.fail(domain.mark(), domain.path,
             component.domain.empty() ? problem : quoted(component.domain) + ' ' + problem);
  }

  const Entry& secret = map.require("secret", "the shared secret set on the XMPP server");
  component.secret = read_text(ctx, secret, "a string");
  if (component.secret.empty()) {
    ctx.fail(secret.mark(), secret.path, "must not be empty");
  }

  read_string(map, "name", component.name);
  if (component.name.empty()) {
    component.name = network->default_name;
  }

  for (const auto& other : networks) {
    const Entry* entry = map.find(other.adapter);
    if (entry != nullptr && other.adapter != component.adapter) {
      ctx.fail(entry->key_node.Mark(), entry->path,
               "an '" + other.adapter + "' section is only allowed on a component with adapter: " +
                   other.adapter + " (this one is '" + component.adapter + "')");
    }
  }
  auto section = network->read(ctx, map.find(component.adapter));
  component.settings = std::move(section.settings);
  component.needs_http = section.needs_http;
  return component;
}

std::vector<ComponentConfig> parse_components(const Context& ctx, const Entry& entry,
                                              const NetworkConfigReaders& networks) {
  if (!entry.value.IsSequence() || entry.value.size() == 0) {
    ctx.fail(entry.mark(), entry.path,
             "expected a non-empty list of components, got " +
                 std::string(entry.value.IsSequence() ? "an empty list" : kind_of(entry.value)));
  }
  std::vector<ComponentConfig> components;
  for (std::size_t i = 0; i < entry.value.size(); ++i) {
    const std::string path = join_index(entry.path, i);
    const YAML::Node item = entry.value[i];
    components.push_back(parse_component(ctx, item, entry.key_node.Mark(), path, networks));
    const std::string domain = lowercase(components.back().domain);
    for (std::size_t j = 0; j + 1 < components.size(); ++j) {
      if (lowercase(components[j].domain) == domain) {
        const YAML::Node domain_node = item["domain"];
        ctx.fail(domain_node.Mark(), path + ".domain",
                 "duplicate domain " + quoted(components.back().domain) + " (also used by " +
                     join_index(entry.path, j) + ")");
      }
    }
  }
  return components;
}

AccessConfig parse_access(const Context& ctx, const MapView& root) {
  constexpr std::string_view hint = "list who may use the gateway: ['*'] allows everyone, [] only "
                                    "the admins, or give domains and bare JIDs";
  const Entry* entry = root.find("access");
  if (entry == nullptr) {
    ctx.fail(root.mark(), "access.allow", "required key is missing (" + std::string(hint) + ")");
  }
  const MapView map(ctx, entry->value, entry->key_node.Mark(), entry->path,
                    {"allow", "deny", "admins", "require_registration"});
  AccessConfig access;
  access.allow = read_access_list(ctx, map.require("allow", hint), AccessEntries::any, true);
  if (const Entry* deny = map.find("deny")) {
    access.deny = read_access_list(ctx, *deny, AccessEntries::any, false);
  }
  if (const Entry* admins = map.find("admins")) {
    access.admins = read_access_list(ctx, *admins, AccessEntries::jids_only, false);
  }
  read_bool(map, "require_registration", access.require_registration);
  return access;
}

HttpConfig parse_http(const Context& ctx, const Entry& entry) {
  const MapView map(
      ctx, entry.value, entry.key_node.Mark(), entry.path,
      {"enabled", "bind", "port", "max_body_bytes", "request_timeout_seconds", "max_connections"});
  HttpConfig http;
  read_bool(map, "enabled", http.enabled);
  read_required_text(map, "bind", http.bind, Spaces::refused);
  read_number(map, "port", http.port, Range{0, 65535});
  read_number(map, "max_body_bytes", http.max_body_bytes, bytes_range);
  read_number(map, "request_timeout_seconds", http.request_timeout_seconds, seconds_range);
  read_number(map, "max_connections", http.max_connections, count_range);
  return http;
}

Config parse_root(const Context& ctx, const YAML::Node& root,
                  const NetworkConfigReaders& networks) {
  if (!root.IsMap()) {
    ctx.fail(root.Mark(), "",
             "the configuration must be a mapping with keys xmpp, components, access, ...; got " +
                 std::string(kind_of(root)));
  }
  const MapView map(ctx, root, root.Mark(), "",
                    {"xmpp", "components", "storage", "http", "access", "logging"});
  Config config;
  config.xmpp = parse_xmpp(ctx, map.require("xmpp", "the XMPP server's component port; "
                                                    "'xmpp: {}' uses 127.0.0.1:5347"));
  config.components = parse_components(ctx, map.require("components"), networks);
  if (const Entry* storage = map.find("storage")) {
    const MapView storage_map(
        ctx, storage->value, storage->key_node.Mark(), storage->path,
        {"sqlite_path", "correlation_retention_days", "timeout_ms", "undelivered_limit"});
    read_required_text(storage_map, "sqlite_path", config.storage.sqlite_path, Spaces::allowed);
    read_number(storage_map, "correlation_retention_days",
                config.storage.correlation_retention_days, Range{0, 36500});
    read_number(storage_map, "timeout_ms", config.storage.timeout_ms, Range{100, 60000});
    read_number(storage_map, "undelivered_limit", config.storage.undelivered_limit,
                Range{100, 1000000});
  }
  if (const Entry* http = map.find("http")) {
    config.http = parse_http(ctx, *http);
  }
  for (std::size_t i = 0; i < config.components.size(); ++i) {
    if (config.components[i].needs_http && !config.http.enabled) {
      const Entry* http = map.find("http");
      ctx.fail(http != nullptr ? http->mark() : root.Mark(), "http.enabled",
               "component " + quoted(config.components[i].domain) +
                   " needs the HTTP listener for its webhooks");
    }
  }
  config.access = parse_access(ctx, map);
  if (const Entry* logging = map.find("logging")) {
    const MapView logging_map(ctx, logging->value, logging->key_node.Mark(), logging->path,
                              {"level"});
    if (const Entry* level = logging_map.find("level")) {
      const std::string text = read_text(ctx, *level, "a string");
      const auto parsed = log_level_from_string(text);
      if (!parsed) {
        ctx.fail(level->mark(), level->path,
                 "unknown level " + quoted(text) + "; expected one of debug, info, warning, error");
      }
      config.logging.level = *parsed;
    }
  }
  return config;
}

/// Refuses flow nesting (`[`, `{`) deeper than `max_nesting` before
/// yaml-cpp's recursive parser sees it. Brackets inside quotes or comments count too: a false alarm
/// needs a configuration value with dozens of unbalanced brackets.
void check_nesting(const Context& ctx, std::string_view text) {
  std::size_t depth = 0;
  int line = 0;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
      line_start = i + 1;
    } else if (c == '[' || c == '{') {
      if (++depth > max_nesting) {
        YAML::Mark mark;
        mark.line = line;
        mark.column = static_cast<int>(i - line_start);
        ctx.fail(mark, "", "nesting deeper than " + std::to_string(max_nesting) + " levels");
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
}

/// Sees where documents start without building nodes, so the number of
/// documents can be checked with a bounded number of parser calls: some
/// malformed inputs make yaml-cpp 0.7 report empty documents without end,
/// which would hang `YAML::LoadAll`.
class DocumentStarts final : public YAML::EventHandler {
public:
  void OnDocumentStart(const YAML::Mark& mark) override { last_start_ = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  const YAML::Mark& last_start() const { return last_start_; }

private:
  YAML::Mark last_start_;
};

/// Fails unless `text` holds exactly one YAML document.
void check_single_document(const Context& ctx, const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStarts starts;
  if (!parser.HandleNextDocument(starts)) {
    ctx.fail(YAML::Mark::null_mark(), "", "the configuration is empty");
  }
  if (parser.HandleNextDocument(starts)) {
    ctx.fail(starts.last_start(), "", "only one YAML document is allowed");
  }
}

Config parse_text(const Context& ctx, std::string_view text, const NetworkConfigReaders& networks) {
  if (text.size() > max_config_bytes) {
    ctx.fail(YAML::Mark::null_mark(), "",
             "the configuration is larger than " + std::to_string(max_config_bytes) + " bytes");
  }
  check_nesting(ctx, text);
  const std::string copy(text);
  check_single_document(ctx, copy);
  return parse_root(ctx, YAML::Load(copy), networks);
}

} // namespace

Config load_config_text(std::string_view text, std::string_view source_name,
                        const NetworkConfigReaders& networks) {
  const Context ctx(source_name);
  // yaml-cpp reports syntax errors (and its own bugs) as exceptions; nothing
  // but ConfigError may leave this function.
  try {
    return parse_text(ctx, text, networks);
  } catch (const ConfigError&) {
    throw;
  } catch (const YAML::Exception& e) {
    throw ConfigError(ctx.format(e.mark, "", "YAML syntax error: " + e.msg));
  } catch (const std::exception& e) {
    throw ConfigError(ctx.format(YAML::Mark::null_mark(), "",
                                 std::string("cannot load configuration: ") + e.what()));
  }
}

Config load_config_file(const std::string& path, const NetworkConfigReaders& networks) {
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                             &std::fclose);
  if (!file) {
    throw ConfigError(path + ": cannot open configuration file: " + std::strerror(errno));
  }
  std::string text;
  char buffer[8192];
  while (text.size() <= max_config_bytes) {
    const std::size_t n = std::fread(buffer, 1, sizeof buffer, file.get());
    text.append(buffer, n);
    if (n < sizeof buffer) {
      break;
    }
  }
  if (std::ferror(file.get())) {
    throw ConfigError(path + ": cannot read configuration file: " + std::strerror(errno));
  }
  Config config = load_config_text(text, path, networks);
  config.source_path = path;
  return config;
}

bool is_loopback_host(std::string_view host) {
  if (lowercase(host) == "localhost") {
    return true;
  }
  // inet_pton takes only the full forms: "127.1" or "0x7f.1" are refused,
  // so what counts here is what a reader of the file sees.
  const std::string text(host);
  unsigned char address[16] = {};
  if (::inet_pton(AF_INET, text.c_str(), address) == 1) {
    return address[0] == 127;
  }
  if (::inet_pton(AF_INET6, text.c_str(), address) != 1) {
    return false;
  }
  constexpr unsigned char v6_loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  constexpr unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(address, v6_loopback, sizeof v6_loopback) == 0 ||
         (std::memcmp(address, v4_mapped, sizeof v4_mapped) == 0 && address[12] == 127);
}

bool plain_text_off_host(const XmppServerConfig& xmpp) {
  return !xmpp.tls && !is_loopback_host(xmpp.host);
}

std::optional<LogLevel> log_level_from_string(std::string_view name) {
  if (name == "debug") {
    return LogLevel::debug;
  }
  if (name == "info") {
    return LogLevel::info;
  }
  if (name == "warning") {
    return LogLevel::warning;
  }
  if (name == "error") {
    return LogLevel::error;
  }
  return std::nullopt;
}

} // namespace trestle::gateway
