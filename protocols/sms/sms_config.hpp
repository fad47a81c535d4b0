#pragma once

// The SMS component's settings (its `sms:` section) and their reader.

#include "config.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace trestle::sms {

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

/// The configuration reader's entry for this network: `adapter: sms` and its
/// `sms:` section.
gateway::NetworkConfigReader sms_config_reader();

} // namespace trestle::sms
