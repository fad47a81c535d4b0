#include "sms_config.hpp"

#include "config_reader.hpp"

// The `sms` section of an SMS component: the provider and its credentials,
// the webhooks, the users' numbers and the limits.

#include <algorithm>
#include <set>

namespace trestle::sms {

using namespace gateway::config_detail;

namespace {

bool all_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// A number in international form: '+' and 7 to 15 digits (the adapter
/// checks the calling code).
void check_number(const Context& ctx, const Entry& entry, const std::string& number) {
  if (number.size() < 8 || number.size() > 16 || number.front() != '+' ||
      !all_digits(std::string_view(number).substr(1))) {
    ctx.fail(entry.mark(), entry.path,
             quoted(number) + " is not a phone number in international form ('+' and 7 to 15 "
                              "digits, e.g. '+15551234567')");
  }
}

/// An http or https URL with a host; `what` says what it is for.
void check_url(const Context& ctx, const Entry& entry, const std::string& url,
               std::string_view what) {
  const bool scheme = url.starts_with("http://") || url.starts_with("https://");
  const auto host_start = url.find("://") + 3;
  if (!scheme || url.size() <= host_start || url[host_start] == '/' ||
      url.find_first_of(" \t\r\n#") != std::string::npos) {
    ctx.fail(entry.mark(), entry.path,
             quoted(url) + " is not an http:// or https:// URL (" + std::string(what) + ")");
  }
}

std::string read_url(const MapView& map, std::string_view key, std::string_view what) {
  std::string url;
  read_string(map, key, url);
  if (const Entry* entry = map.find(key); entry != nullptr && !url.empty()) {
    check_url(map.ctx(), *entry, url, what);
  }
  return url;
}

SmsKannelSettings parse_kannel(const Context& ctx, const Entry& entry) {
  const MapView map(ctx, entry.value, entry.key_node.Mark(), entry.path,
                    {"sendsms_url", "username", "password", "webhook_token"});
  SmsKannelSettings kannel;
  map.require("sendsms_url", "smsbox's sendsms URL, e.g. http://127.0.0.1:13013/cgi-bin/sendsms");
  kannel.sendsms_url = read_url(map, "sendsms_url", "smsbox's sendsms interface");
  read_required_text(map, "username", kannel.username, Spaces::refused);
  read_required_text(map, "password", kannel.password, Spaces::allowed);
  map.require("webhook_token", "a long random string; kannel.conf's get-url must carry it");
  read_required_text(map, "webhook_token", kannel.webhook_token, Spaces::refused);
  const Entry& token = *map.find("webhook_token");
  if (kannel.webhook_token.size() < 16) {
    ctx.fail(token.mark(), token.path, "too short: use at least 16 random characters");
  }
  // Kannel reads %A to %F and the like in its URLs as escape codes, so the
  // token must never need percent-encoding.
  if (!std::all_of(kannel.webhook_token.begin(), kannel.webhook_token.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c == '.' || c == '~';
      })) {
    ctx.fail(token.mark(), token.path,
             "use only letters, digits and - _ . ~ (Kannel would read other characters in its "
             "URLs as escape codes)");
  }
  return kannel;
}

SmsTwilioSettings parse_twilio(const Context& ctx, const Entry& entry) {
  const MapView map(ctx, entry.value, entry.key_node.Mark(), entry.path,
                    {"api_base_url", "account_sid", "auth_token"});
  SmsTwilioSettings twilio;
  if (map.find("api_base_url") != nullptr) {
    twilio.api_base_url = read_url(map, "api_base_url", "the provider's REST API");
  }
  read_required_text(map, "account_sid", twilio.account_sid, Spaces::refused);
  read_required_text(map, "auth_token", twilio.auth_token, Spaces::refused);
  return twilio;
}

void parse_numbers(const Context& ctx, const MapView& map, SmsSettings& sms) {
  std::set<std::string> seen;
  if (const Entry* numbers = map.find("numbers"); numbers != nullptr && !numbers->value.IsNull()) {
    if (!numbers->value.IsMap()) {
      ctx.fail(numbers->mark(), numbers->path,
               "expected a mapping of bare JIDs to numbers (alice@example.org: '+15551234567'), "
               "got " +
                   std::string(kind_of(numbers->value)));
    }
    for (const auto& pair : numbers->value) {
      const std::string user = lowercase(pair.first.as<std::string>(""));
      const Entry item{user, join_keys(numbers->path, user), pair.first, pair.second};
      if (!is_bare_jid(user)) {
        ctx.fail(pair.first.Mark(), item.path, quoted(user) + " is not a bare JID");
      }
      const std::string number = read_text(ctx, item, "a phone number");
      check_number(ctx, item, number);
      if (!seen.insert(number).second) {
        ctx.fail(item.mark(), item.path, "number " + quoted(number) + " is given twice");
      }
      sms.numbers.emplace(user, number);
    }
  }
  if (const Entry* pool = map.find("pool"); pool != nullptr && !pool->value.IsNull()) {
    if (!pool->value.IsSequence()) {
      ctx.fail(pool->mark(), pool->path,
               "expected a list of numbers, got " + std::string(kind_of(pool->value)));
    }
    for (std::size_t i = 0; i < pool->value.size(); ++i) {
      const Entry item{pool->key, join_index(pool->path, i), pool->key_node, pool->value[i]};
      const std::string number = read_text(ctx, item, "a phone number");
      check_number(ctx, item, number);
      if (!seen.insert(number).second) {
        ctx.fail(item.mark(), item.path,
                 "number " + quoted(number) + " is given twice (in numbers or pool)");
      }
      sms.pool.push_back(number);
    }
  }
}

SmsSettings parse_sms(const Context& ctx, const Entry& entry) {
  SmsSettings sms;
  const MapView map(ctx, entry.value, entry.key_node.Mark(), entry.path,
                    {"default_country",
                     "provider",
                     "public_base_url",
                     "webhook_path",
                     "numbers",
                     "pool",
                     "max_segments",
                     "max_per_hour",
                     "max_per_day",
                     "retry_max_age_seconds",
                     "retry_min_delay_seconds",
                     "retry_max_delay_seconds",
                     "max_queued",
                     "max_queued_per_user",
                     "request_timeout_seconds",
                     "max_connections",
                     "verify_certificate",
                     "ca_file",
                     "kannel",
                     "twilio"});
  read_string(map, "default_country", sms.default_country);
  const std::string& country = sms.default_country;
  if (!country.empty() && (country.size() > 3 || !all_digits(country))) {
    const Entry& given = *map.find("default_country");
    ctx.fail(given.mark(), given.path,
             "expected a country calling code of 1 to 3 digits without '+' (e.g. '1', '44'), "
             "got " +
                 quoted(country));
  }
  read_string(map, "provider", sms.provider);
  if (!sms.provider.empty() && sms.provider != "kannel" && sms.provider != "twilio") {
    const Entry& given = *map.find("provider");
    ctx.fail(given.mark(), given.path,
             "unknown provider " + quoted(sms.provider) + "; expected kannel or twilio");
  }
  sms.public_base_url = read_url(map, "public_base_url", "where the provider reaches trestle");
  while (!sms.public_base_url.empty() && sms.public_base_url.back() == '/') {
    sms.public_base_url.pop_back();
  }
  if (const Entry* given = map.find("public_base_url");
      given != nullptr && sms.public_base_url.find('?') != std::string::npos) {
    ctx.fail(given->mark(), given->path, "must not carry a query ('?...')");
  }
  read_string(map, "webhook_path", sms.webhook_path);
  if (const Entry* given = map.find("webhook_path"); given != nullptr) {
    const auto& path = sms.webhook_path;
    if (path.empty() || path.front() != '/' ||
        path.find_first_of("?# \t\r\n") != std::string::npos) {
      ctx.fail(given->mark(), given->path,
               quoted(path) + " is not a URL path (it starts with '/' and has no '?' or spaces)");
    }
    while (sms.webhook_path.size() > 1 && sms.webhook_path.back() == '/') {
      sms.webhook_path.pop_back();
    }
  }
  parse_numbers(ctx, map, sms);
  read_number(map, "max_segments", sms.max_segments, Range{1, 255});
  read_number(map, "max_per_hour", sms.max_per_hour, Range{0, 1000000});
  read_number(map, "max_per_day", sms.max_per_day, Range{0, 1000000});
  read_queue_settings(map, sms);
  read_number(map, "request_timeout_seconds", sms.request_timeout_seconds, seconds_range);
  read_number(map, "max_connections", sms.max_connections, Range{1, 100});
  read_bool(map, "verify_certificate", sms.verify_certificate);
  read_string(map, "ca_file", sms.ca_file);

  const Entry* kannel = map.find("kannel");
  const Entry* twilio = map.find("twilio");
  if (sms.provider.empty()) {
    if (kannel != nullptr || twilio != nullptr) {
      ctx.fail(map.mark(), map.path() + ".provider",
               "required key is missing: kannel or twilio, for the settings given below it");
    }
    return sms;
  }
  if (sms.public_base_url.empty()) {
    const Entry& given =
        map.require("public_base_url", "the URL at which the provider reaches trestle's HTTP "
                                       "listener, e.g. https://gateway.example.org");
    ctx.fail(given.mark(), given.path, "must not be empty when a provider is set");
  }
  if (sms.provider == "kannel") {
    sms.kannel = parse_kannel(
        ctx, map.require("kannel", "sendsms_url, username, password and webhook_token"));
  } else {
    sms.twilio = parse_twilio(ctx, map.require("twilio", "account_sid and auth_token"));
  }
  const Entry* other = sms.provider == "kannel" ? twilio : kannel;
  if (other != nullptr) {
    ctx.fail(other->mark(), other->path,
             "settings for a provider that is not the chosen one (" + sms.provider + ")");
  }
  return sms;
}

} // namespace

gateway::NetworkConfigReader sms_config_reader() {
  return section_reader<SmsSettings>("sms", "SMS gateway", parse_sms,
                                     [](const SmsSettings& sms) { return !sms.provider.empty(); });
}

} // namespace trestle::sms
