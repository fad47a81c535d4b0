#pragma once

// The email component's settings (its `smtp:` section) and their reader.

#include "config.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace trestle::smtp {

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

/// The configuration reader's entry for this network: `adapter: smtp` and its
/// `smtp:` section.
gateway::NetworkConfigReader email_config_reader();

} // namespace trestle::smtp
