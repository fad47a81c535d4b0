#include "irc_config.hpp"

#include "config_reader.hpp"

// The `irc` section of an IRC component.

namespace trestle::irc {

using namespace gateway::config_detail;

namespace {

/// Reads a list of server-name patterns (`*` and `?` wildcards).
std::vector<std::string> read_server_patterns(const Context& ctx, const Entry& entry) {
  std::vector<std::string> out;
  if (entry.value.IsNull()) {
    return out;
  }
  if (!entry.value.IsSequence()) {
    ctx.fail(entry.mark(), entry.path,
             "expected a list of server name patterns, got " + std::string(kind_of(entry.value)) +
                 " (write a single entry as ['*.libera.chat'])");
  }
  for (std::size_t i = 0; i < entry.value.size(); ++i) {
    const Entry item{entry.key, join_index(entry.path, i), entry.key_node, entry.value[i]};
    std::string text = lowercase(read_text(ctx, item, "a string"));
    if (text.empty() || std::any_of(text.begin(), text.end(), [](unsigned char c) {
          return c <= 0x20 || c == 0x7f || c == '@' || c == '/';
        })) {
      ctx.fail(item.mark(), item.path,
               quoted(text) + " is not a server name pattern (a host name with * and ?)");
    }
    out.push_back(std::move(text));
  }
  return out;
}

/// Reads the keys of one IRC server over `base` (the defaults).
IrcServerSettings parse_irc_server(const Context& ctx, const Entry& entry,
                                   const IrcServerSettings& base, bool with_host) {
  static const std::vector<std::string_view> defaults_keys = {"port",
                                                              "tls",
                                                              "verify_certificate",
                                                              "ca_file",
                                                              "password",
                                                              "flood_burst",
                                                              "flood_lines_per_second",
                                                              "connect_timeout_seconds",
                                                              "reconnect_min_delay_seconds",
                                                              "reconnect_max_delay_seconds"};
  // A listed server takes the same keys and its host.
  static const std::vector<std::string_view> server_keys = [] {
    std::vector<std::string_view> keys{"host"};
    keys.insert(keys.end(), defaults_keys.begin(), defaults_keys.end());
    return keys;
  }();
  const MapView map(ctx, entry.value, entry.key_node.Mark(), entry.path,
                    with_host ? server_keys : defaults_keys);
  IrcServerSettings server = base;
  if (with_host) {
    const Entry& host = map.require("host", "the IRC server's host name, e.g. irc.libera.chat");
    server.host = lowercase(read_text(ctx, host, "a string"));
    if (!server.host.empty() && server.host.back() == '.') {
      server.host.pop_back();
    }
    if (const std::string problem = domain_problem(server.host); !problem.empty()) {
      ctx.fail(host.mark(), host.path, quoted(server.host) + ' ' + problem);
    }
  }
  read_number(map, "port", server.port, port_range);
  read_bool(map, "tls", server.tls);
  read_bool(map, "verify_certificate", server.verify_certificate);
  read_string(map, "ca_file", server.ca_file);
  read_string(map, "password", server.password);
  if (server.password.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
    const Entry& password = *map.find("password");
    ctx.fail(password.mark(), password.path, "must not contain line breaks");
  }
  read_number(map, "flood_burst", server.flood_burst, Range{1, 10000});
  read_number(map, "flood_lines_per_second", server.flood_lines_per_second, Range{0, 10000});
  read_number(map, "connect_timeout_seconds", server.connect_timeout_seconds, seconds_range);
  read_number(map, "reconnect_min_delay_seconds", server.reconnect_min_delay_seconds,
              seconds_range);
  read_number(map, "reconnect_max_delay_seconds", server.reconnect_max_delay_seconds,
              seconds_range);
  if (server.reconnect_max_delay_seconds < server.reconnect_min_delay_seconds) {
    ctx.fail(entry.mark(), entry.path,
             "reconnect_max_delay_seconds is smaller than reconnect_min_delay_seconds");
  }
  return server;
}

IrcSettings parse_irc(const Context& ctx, const Entry& entry) {
  const MapView map(ctx, entry.value, entry.key_node.Mark(), entry.path,
                    {"fixed_server", "allow_servers", "deny_servers", "max_connections_per_user",
                     "idle_timeout_seconds", "server_defaults", "servers"});
  IrcSettings irc;
  read_string(map, "fixed_server", irc.fixed_server);
  if (const Entry* fixed = map.find("fixed_server");
      fixed != nullptr && !irc.fixed_server.empty()) {
    if (const std::string problem = domain_problem(irc.fixed_server); !problem.empty()) {
      ctx.fail(fixed->mark(), fixed->path, quoted(irc.fixed_server) + ' ' + problem);
    }
  }
  if (const Entry* allow = map.find("allow_servers")) {
    irc.allow_servers = read_server_patterns(ctx, *allow);
  }
  if (const Entry* deny = map.find("deny_servers")) {
    irc.deny_servers = read_server_patterns(ctx, *deny);
  }
  read_number(map, "max_connections_per_user", irc.max_connections_per_user, Range{1, 1000});
  read_number(map, "idle_timeout_seconds", irc.idle_timeout_seconds, seconds_range);
  if (const Entry* defaults = map.find("server_defaults")) {
    irc.server_defaults = parse_irc_server(ctx, *defaults, IrcServerSettings{}, false);
  }
  if (const Entry* servers = map.find("servers"); servers != nullptr && !servers->value.IsNull()) {
    if (!servers->value.IsSequence()) {
      ctx.fail(servers->mark(), servers->path,
               "expected a list of servers, got " + std::string(kind_of(servers->value)));
    }
    for (std::size_t i = 0; i < servers->value.size(); ++i) {
      const Entry item{servers->key, join_index(servers->path, i), servers->key_node,
                       servers->value[i]};
      auto server = parse_irc_server(ctx, item, irc.server_defaults, true);
      for (const auto& earlier : irc.servers) {
        if (earlier.host == server.host) {
          ctx.fail(item.mark(), item.path, "server " + quoted(server.host) + " is listed twice");
        }
      }
      irc.servers.push_back(std::move(server));
    }
  }
  return irc;
}

} // namespace

gateway::NetworkConfigReader irc_config_reader() {
  return section_reader<IrcSettings>("irc", "IRC gateway", parse_irc);
}

} // namespace trestle::irc
