#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
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

/// How the email adapter reaches its relay (smarthost) for outgoing mail.
struct EmailRelaySettings {
  std::string host = "localhost";
  std::uint16_t port = 587;
  /// `starttls` (required by default), `tls` (implicit, port 465) or `none`
  /// (a relay on the same host only).
  std::string security = "starttls";
  bool verify_certificate = true;
  /// PEM file of trusted certificates; empty means the system's CA store.
  std::string ca_file;
  /// AUTH PLAIN/LOGIN credentials; no AUTH when the username is empty.
  std::string username;
  std::string password;
  unsigned connect_timeout_seconds = 30;
  /// Longest wait for each reply of the relay.
  unsigned reply_timeout_seconds = 120;
  /// Deliveries to the relay at once.
  unsigned max_connections = 4;
};

/// The email adapter's SMTP (or LMTP) listener, which the MTA delivers to.
struct EmailListenerSettings {
  bool enabled = true;
  std::string bind = "127.0.0.1";
  std::uint16_t port = 2525;
  bool lmtp = false;
  /// Name in the greeting; empty means the mail domain.
  std::string hostname;
  /// STARTTLS is offered when both are set.
  std::string tls_certificate_file;
  std::string tls_key_file;
  std::size_t max_message_bytes = 10 * 1024 * 1024;
  unsigned max_recipients = 100;
  unsigned max_connections = 100;
  unsigned command_timeout_seconds = 300;
  unsigned data_timeout_seconds = 600;
};

/// Settings of an `smtp` (email) component.
struct EmailSettings {
  /// The domain of the users' own addresses; empty means the component domain.
  std::string mail_domain;
  /// The local part a user gets unless they choose one: `{localpart}` (the
  /// user's JID localpart) and `{domain}` (their JID domain, dots kept) are
  /// replaced; empty gives no default address.
  std::string address_template = "{localpart}";
  /// Only users who registered (XEP-0077) get an address.
  bool require_registration = false;
  /// Subject of mail written without an XMPP `<subject>`; `{name}` is the
  /// sender's display name. Empty leaves the Subject header out.
  std::string default_subject = "Message from {name}";
  /// Retrying a temporary failure stops after this long; the sender then
  /// gets an error.
  unsigned retry_max_age_seconds = 86400;
  unsigned retry_min_delay_seconds = 60;
  unsigned retry_max_delay_seconds = 3600;
  /// Outgoing mails waiting for the relay, in all; more are refused.
  std::size_t max_queued = 10000;
  /// ... and per user.
  std::size_t max_queued_per_user = 500;
  EmailRelaySettings relay;
  EmailListenerSettings listener;
};

/// How an `sms` component reaches a Kannel smsbox.
struct SmsKannelSettings {
  /// The smsbox sendsms URL (`http://127.0.0.1:13013/cgi-bin/sendsms`); may
  /// carry fixed parameters (`?smsc=modem1`).
  std::string sendsms_url;
  /// A `sendsms-user` of kannel.conf.
  std::string username;
  std::string password;
  /// The `token` parameter that Kannel's calls to trestle's webhooks must
  /// carry (kannel.conf's get-url and trestle's own dlr-url).
  std::string webhook_token;
};

/// How an `sms` component reaches a Twilio-compatible REST API.
struct SmsTwilioSettings {
  std::string api_base_url = "https://api.twilio.com";
  std::string account_sid;
  /// Signs the API calls (Basic auth) and checks X-Twilio-Signature.
  std::string auth_token;
};

/// Settings of an `sms` component.
struct SmsSettings {
  /// Country calling code used to normalise national numbers ("1", "44").
  std::string default_country;
  /// `kannel` or `twilio`; empty: no provider, and SMS traffic is answered
  /// `service-unavailable`.
  std::string provider;
  /// The URL at which the providers reach trestle's HTTP listener
  /// (`https://gateway.example.org`), used in callback URLs and signatures.
  std::string public_base_url;
  /// Where this component's webhooks live on the HTTP listener; empty means
  /// `/sms/<domain>`.
  std::string webhook_path;
  /// Numbers assigned by the operator: user bare JID -> E.164 number.
  std::map<std::string, std::string> numbers;
  /// Numbers users may choose from when they register.
  std::vector<std::string> pool;
  /// Longer messages are refused (`not-acceptable`), never truncated.
  std::size_t max_segments = 6;
  /// Messages a user may send per hour and per day; 0: no limit.
  std::size_t max_per_hour = 60;
  std::size_t max_per_day = 300;
  /// As for email: retrying a temporary refusal, and the queue's bounds.
  unsigned retry_max_age_seconds = 86400;
  unsigned retry_min_delay_seconds = 30;
  unsigned retry_max_delay_seconds = 1800;
  std::size_t max_queued = 10000;
  std::size_t max_queued_per_user = 100;
  /// API calls: their deadline, how many at once, TLS verification.
  unsigned request_timeout_seconds = 30;
  std::size_t max_connections = 4;
  bool verify_certificate = true;
  std::string ca_file;
  SmsKannelSettings kannel;
  SmsTwilioSettings twilio;
};

/// One external component: a domain served by one adapter.
struct ComponentConfig {
  std::string domain;
  std::string secret;
  /// Adapter name: "irc", "smtp" or "sms".
  std::string adapter;
  /// Display name in disco (defaults to a per-adapter name).
  std::string name;
  IrcSettings irc;
  EmailSettings email;
  SmsSettings sms;
};

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

/// Reads and validates the YAML file at `path`; throws ConfigError.
Config load_config_file(const std::string& path);
/// Parses and validates YAML text; `source_name` is used in messages. Throws ConfigError.
Config load_config_text(std::string_view text, std::string_view source_name);
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
