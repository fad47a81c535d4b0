#pragma once

// The IRC component's settings (its `irc:` section) and their reader.

#include "config.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace trestle::irc {

/// How to reach one IRC server: `irc.server_defaults`, or one entry of `irc.servers`.
struct IrcServerSettings {
  /// The server's host name or address, lower case; empty for the defaults.
  std::string host;
  std::uint16_t port = 6697;
  bool tls = true;
  bool verify_certificate = true;
  /// PEM file of trusted certificates; empty means the system's CA store.
  std::string ca_file;
  /// Server password, sent as PASS when not empty.
  std::string password;
  /// Flood control (token bucket): lines that may leave at once...
  unsigned flood_burst = 5;
  /// ...then lines per second; 0 turns flood control off.
  unsigned flood_lines_per_second = 2;
  /// Resolving, connecting and TLS must finish within this.
  unsigned connect_timeout_seconds = 30;
  /// First delay before a reconnect, doubled per failure up to the maximum.
  unsigned reconnect_min_delay_seconds = 2;
  unsigned reconnect_max_delay_seconds = 120;
};

/// Settings of an `irc` component.
struct IrcSettings {
  /// When set, the component serves this one IRC server (`#chan@domain`).
  std::string fixed_server;
  /// Glob patterns (`*`, `?`) of the servers users may reach besides the
  /// listed ones; `*` allows any. Empty: only the listed servers (and the
  /// fixed server), so the gateway is no open relay by default.
  std::vector<std::string> allow_servers;
  /// Patterns refused even when allowed or listed.
  std::vector<std::string> deny_servers;
  /// IRC servers one user may be connected to at the same time.
  unsigned max_connections_per_user = 5;
  /// A connection that has no channel and no traffic for this long QUITs.
  unsigned idle_timeout_seconds = 300;
  /// Settings of every server not listed in `servers`.
  IrcServerSettings server_defaults;
  /// Servers with their own settings; each starts from `server_defaults`.
  std::vector<IrcServerSettings> servers;
};

/// The configuration reader's entry for this network: `adapter: irc` and its
/// `irc:` section.
gateway::NetworkConfigReader irc_config_reader();

} // namespace trestle::irc
