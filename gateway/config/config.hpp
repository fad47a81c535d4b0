#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trestle::gateway {

/// Log verbosity, most to least verbose.
enum class LogLevel { debug, info, warning, error };

/// Parser limits on the component stream (see xmpp::XmlLimits).
struct XmlLimitsConfig {
  std::size_t max_stanza_bytes = 512 * 1024;
  std::size_t max_depth = 32;
  std::size_t max_attributes = 64;
};

/// How to reach the XMPP server's component port, shared by all components.
struct XmppServerConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = 5347;
  /// Direct TLS from the first byte (ejabberd's `ejabberd_service` with
  /// `tls: true`, Prosody's multiplexed `ssl_ports`); no STARTTLS.
  bool tls = false;
  /// With `tls`: check the server's certificate chain and name.
  bool verify_certificate = true;
  /// With `tls`: PEM file of trusted certificates; empty means the system's CA store.
  std::string ca_file;
  /// With `tls`: the name the certificate must carry, sent as SNI unless it
  /// is an IP address; empty means `host`.
  std::string server_name;
  /// Allows a plain-text link (`tls: false`) to a host that is not loopback.
  bool insecure = false;
  /// Seconds of silence before a whitespace keepalive / XEP-0199 ping is sent.
  unsigned keepalive_interval_seconds = 60;
  /// Seconds to wait for any traffic after a keepalive ping before reconnecting.
  unsigned keepalive_timeout_seconds = 30;
  /// Seconds to wait for TCP connect plus handshake.
  unsigned connect_timeout_seconds = 15;
  /// First reconnect delay, doubled after each failure up to the maximum.
  unsigned reconnect_min_delay_seconds = 1;
  unsigned reconnect_max_delay_seconds = 10;
  /// Stanzas a component holds while the stream is down; more are refused.
  std::size_t send_queue_limit = 1000;
  /// Bytes a component's send queue holds at any time, up or down.
  std::size_t send_queue_max_bytes = 64 * 1024 * 1024;
  /// Bytes waiting to go to the XMPP server at which the adapters stop reading
  /// their networks, until the queue is down to a quarter; 0 never pauses.
  std::size_t send_queue_high_water_bytes = 1024 * 1024;
  XmlLimitsConfig limits;
};

/// A network's own settings: the section of a component named after its
/// adapter (`irc:`, `smtp:`, `sms:`), defined and read by the network's code
/// under protocols/ (NetworkConfigReader).
class NetworkSettings {
public:
  virtual ~NetworkSettings() = default;
};

/// A network's settings of type T as NetworkSettings.
template <typename T> class SettingsOf final : public NetworkSettings {
public:
  explicit SettingsOf(T settings) : value(std::move(settings)) {}
  T value;
};

/// One external component: a domain served by one adapter.
struct ComponentConfig {
  std::string domain;
  std::string secret;
  /// Adapter name, one of the networks' (NetworkConfigReader::adapter).
  std::string adapter;
  /// Display name in disco (defaults to the network's).
  std::string name;
  /// The adapter's own section, as its network read it; never null in a
  /// loaded configuration.
  std::shared_ptr<const NetworkSettings> settings;
  /// The network takes webhooks, so the HTTP listener must be enabled.
  bool needs_http = false;

  /// The section as the type its network reads it into; throws
  /// std::logic_error when it is another network's or missing.
  template <typename T> const T& settings_as() const {
    const auto* typed = dynamic_cast<const SettingsOf<T>*>(settings.get());
    if (typed == nullptr) {
      throw std::logic_error("component " + domain + ": no settings of its adapter's type");
    }
    return typed->value;
  }
};

namespace config_detail {
class Context;
struct Entry;
} // namespace config_detail

/// What reading a network's section gives.
struct NetworkSection {
  std::shared_ptr<const NetworkSettings> settings;
  /// See ComponentConfig::needs_http.
  bool needs_http = false;
};

/// One network as the configuration reader knows it: registered by the app
/// wiring, defined in the network's own folder.
struct NetworkConfigReader {
  /// The `adapter:` value that selects it, which is also the key of its
  /// section in a component (`irc`).
  std::string adapter;
  /// A component's display name when it gives none.
  std::string default_name;
  /// Reads the section; `entry` is null when the component has none (the
  /// defaults). Reports errors through the context (ConfigError).
  std::function<NetworkSection(const config_detail::Context&, const config_detail::Entry*)> read;
};

/// The networks a configuration may name.
using NetworkConfigReaders = std::vector<NetworkConfigReader>;

/// Where state lives.
struct StorageConfig {
  /// SQLite database file; created if missing.
  std::string sqlite_path = "trestle.db";
  /// Message correlations (email threads, SMS deduplication and delivery
  /// reports) are forgotten after this many days; 0 keeps them.
  unsigned correlation_retention_days = 180;
  /// The longest one store call may take, its wait in the queue included,
  /// before the caller refuses for now.
  unsigned timeout_ms = 2000;
  /// Stanzas per component kept from a legacy network until the XMPP server
  /// confirms them; while this many wait, more are refused for now.
  unsigned undelivered_limit = 10000;
};

/// The HTTP listener for /healthz, /metrics and webhooks.
struct HttpConfig {
  bool enabled = true;
  std::string bind = "127.0.0.1";
  std::uint16_t port = 8088;
  std::size_t max_body_bytes = 64 * 1024;
  unsigned request_timeout_seconds = 10;
  std::size_t max_connections = 256;
};

/// Who may use the gateway.
struct AccessConfig {
  /// Bare JIDs (`alice@example.org`) or domains (`example.org`), or `*`.
  std::vector<std::string> allow;
  /// Bare JIDs or domains refused even when allowed.
  std::vector<std::string> deny;
  /// Bare JIDs with admin rights (always allowed).
  std::vector<std::string> admins;
  /// When true, anything but registration needs a stored registration first.
  bool require_registration = false;
};

/// Logging.
struct LoggingConfig {
  LogLevel level = LogLevel::info;
};

/// The whole configuration, parsed and validated once at start-up.
struct Config {
  std::string source_path;
  XmppServerConfig xmpp;
  std::vector<ComponentConfig> components;
  StorageConfig storage;
  HttpConfig http;
  AccessConfig access;
  LoggingConfig logging;
};

/// A configuration error, already formatted as `file:line:column: key.path: message`.
class ConfigError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Reads and validates the YAML file at `path`, whose components may name
/// the adapters of `networks`; throws ConfigError.
Config load_config_file(const std::string& path, const NetworkConfigReaders& networks);
/// Parses and validates YAML text; `source_name` is used in messages. Throws ConfigError.
Config load_config_text(std::string_view text, std::string_view source_name,
                        const NetworkConfigReaders& networks);
/// Parses a level name (`debug`, `info`, `warning`, `error`).
std::optional<LogLevel> log_level_from_string(std::string_view name);
/// True for the name `localhost` and for addresses in 127.0.0.0/8 or ::1
/// (also written as ::ffff:127.x.y.z). Names are not resolved: any other
/// name counts as remote, whatever the DNS or /etc/hosts would say.
bool is_loopback_host(std::string_view host);
/// True when the component link would carry secrets and messages in plain
/// text across a network: no TLS, and a host that is not loopback.
bool plain_text_off_host(const XmppServerConfig& xmpp);

} // namespace trestle::gateway
