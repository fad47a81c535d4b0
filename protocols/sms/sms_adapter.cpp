#include "sms_adapter.hpp"

#include "log.hpp"
#include "outbox_pump.hpp"
#include "phone_number.hpp"
#include "random_hex.hpp"
#include "sms_inbound.hpp"
#include "sms_numbers.hpp"
#include "sms_provider.hpp"
#include "sms_segments.hpp"
#include "sms_usage.hpp"
#include "store.hpp"

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>
#include <stdexcept>
#include <utility>

namespace trestle::sms {

using xmpp::Condition;

namespace {

constexpr std::string_view not_available_text =
    "this SMS gateway has no provider configured, so it cannot send or receive messages";
constexpr std::string_view usage_node = "sms-usage";

/// The text for a refusal by the provider.
std::string provider_refusal_text(const ProviderAnswer& answer) {
  std::string text = "the SMS provider refused the message";
  if (!answer.code.empty()) {
    text += " (" + answer.code + ")";
  }
  if (!answer.text.empty()) {
    text += ": " + answer.text;
  }
  return text;
}

std::string segments_text(std::size_t segments) {
  return std::to_string(segments) + (segments == 1 ? " SMS" : " SMS segments");
}

} // namespace

SmsAdapter::SmsAdapter(const gateway::ComponentConfig& config, SmsSettings settings,
                       gateway::AdapterContext& context)
    : context_(context), bridge_(context), settings_(std::move(settings)) {
  const std::string& default_country = settings_.default_country;
  std::string reason;
  if (!default_country.empty() && !is_valid_country_code(default_country, &reason)) {
    throw std::invalid_argument("component " + config.domain + ": sms.default_country '" +
                                default_country + "' is not valid: " + reason);
  }
  const auto check = [&](const std::string& number, const std::string& where) {
    const auto parsed = PhoneNumber::parse(number, {}, &reason);
    if (!parsed || parsed->e164() != number) {
      throw std::invalid_argument("component " + config.domain + ": " + where + ": '" + number +
                                  "' is not an E.164 number" + (parsed ? "" : " (" + reason + ")"));
    }
  };
  for (const auto& [user, number] : settings_.numbers) {
    check(number, "sms.numbers." + user);
  }
  for (const auto& number : settings_.pool) {
    check(number, "sms.pool");
  }
  numbers_ = std::make_unique<SmsNumbers>(settings_, context_);
  if (settings_.provider.empty()) {
    return;
  }
  const std::string path =
      settings_.webhook_path.empty() ? "/sms/" + config.domain : settings_.webhook_path;
  public_url_ = settings_.public_base_url + path;
  provider_ = make_sms_provider(settings_, public_url_, context_.io());
  inbound_ = std::make_unique<SmsInbound>(settings_, context_, *numbers_);
  outbox_ = std::make_unique<gateway::OutboxPump>(
      context_,
      // One API call, with room for the wait in the client's queue.
      gateway::outbox_policy(settings_, settings_.max_connections,
                             2 * std::int64_t{settings_.request_timeout_seconds} + 10),
      [this](const gateway::OutboxItem& item, gateway::OutboxPump::Report report) {
        return send_queued(item, [report = std::move(report)](ProviderAnswer answer) {
          gateway::OutboxAttempt attempt;
          attempt.kind = answer.kind == ProviderAnswer::Kind::accepted
                             ? gateway::OutboxAttempt::Kind::sent
                         : answer.kind == ProviderAnswer::Kind::permanent
                             ? gateway::OutboxAttempt::Kind::permanent
                             : gateway::OutboxAttempt::Kind::temporary;
          attempt.code = std::move(answer.code);
          attempt.text = std::move(answer.text);
          attempt.reference = std::move(answer.provider_id);
          report(std::move(attempt));
        });
      },
      [this](const gateway::OutboxItem& item, const gateway::OutboxResult& result) {
        boost::asio::co_spawn(context_.io(), on_sent(item, result), boost::asio::detached);
      });
  for (const auto& suffix : provider_->webhook_paths()) {
    context_.add_http_route(path + suffix,
                            [this, suffix](const gateway::HttpRequest& request,
                                           std::function<void(gateway::HttpResponse)> reply) {
                              serve_webhook(suffix, request, std::move(reply));
                            });
  }
}

SmsAdapter::~SmsAdapter() = default;

gateway::Awaitable<void> SmsAdapter::run() {
  // A failure ends run() with the error, which stops the gateway.
  co_await numbers_->load_static();
  if (!provider_) {
    context_.log().warning("component " + context_.domain().domain(),
                           "no SMS provider configured (sms.provider): messages are refused");
    co_return;
  }
  context_.log().info("component " + context_.domain().domain(),
                      std::string("SMS through ") + std::string(provider_->name()) +
                          "; webhooks at " + public_url_);
  co_await inbound_->hand_over_waiting();
  co_await outbox_->run();
  provider_->stop();
}

gateway::Awaitable<void> SmsAdapter::handle(const gateway::UserEvent& event) {
  if (!provider_) {
    bridge_.not_available(event, not_available_text);
    co_return;
  }
  const auto& to = gateway::recipient_of(event);
  std::string reason;
  const auto number = PhoneNumber::parse(to.local(), settings_.default_country, &reason);
  if (!number) {
    bridge_.refuse(event, Condition::jid_malformed, "not a phone number: " + reason);
    co_return;
  }
  // Answers (presence, receipts, errors) come from the JID as the user
  // wrote it, national numbers included, so that the client matches them to
  // its chat; texts from the phone come from the E.164 form.
  const auto contact = to.bare();
  if (const auto* message = std::get_if<gateway::UserMessage>(&event)) {
    const Recipient recipient{number->e164(), contact.local()};
    co_await on_message(*message, recipient);
  } else if (const auto* presence = std::get_if<gateway::UserPresence>(&event)) {
    bridge_.answer_always_there(*presence, contact, "Phone: messages go out as SMS");
  } else {
    bridge_.refuse(event, Condition::service_unavailable, "phones answer no requests");
  }
}

gateway::Awaitable<void> SmsAdapter::on_message(const gateway::UserMessage& message,
                                                const Recipient& recipient) {
  const auto& phone = recipient.e164;
  if (message.type == gateway::MessageType::headline) {
    co_return;
  }
  if (message.type == gateway::MessageType::groupchat) {
    bridge_.refuse(message, Condition::not_acceptable, "a phone is not a room");
    co_return;
  }
  const std::string& text = message.body;
  if (text.empty()) {
    co_return; // chat states, receipts, markers: nothing to text
  }
  const auto user = message.from.bare();
  bool store_failed = false;
  const auto own = co_await numbers_->number_of(user, store_failed);
  if (!own) {
    if (store_failed) {
      bridge_.refuse(message, Condition::internal_server_error,
                     "your number could not be looked up");
    } else if (!settings_.pool.empty()) {
      bridge_.refuse(message, Condition::registration_required,
                     "you have no number to send from yet; register with " +
                         context_.domain().domain() + " and choose one");
    } else {
      bridge_.refuse(message, Condition::not_authorized,
                     "you have no number to send from; ask the operator of " +
                         context_.domain().domain() + " for one");
    }
    co_return;
  }
  const auto count = count_segments(text);
  if (count.segments > settings_.max_segments) {
    bridge_.refuse(message, Condition::not_acceptable,
                   "this message would be sent as " + segments_text(count.segments) +
                       "; the limit is " + std::to_string(settings_.max_segments) +
                       ", so nothing was sent. Shorten it: one SMS holds 160 plain characters, "
                       "or 70 when it has emoji or letters outside the GSM alphabet");
    co_return;
  }
  if (auto limit = co_await over_limit(user)) {
    bridge_.refuse(message, limit->condition, std::move(limit->text));
    co_return;
  }

  const std::string& component = context_.domain().domain();
  auto& correlations = context_.repositories().correlations();
  const std::string token = gateway::random_hex(16);
  const auto now = gateway::unix_time_now();
  // Written before the message is queued: a delivery report may come back
  // before the provider's answer to the send does.
  gateway::Correlation sent;
  sent.component = component;
  sent.kind = std::string(sent_sms_kind);
  sent.legacy_id = token;
  sent.xmpp_id = message.id;
  // The full JID: errors must reach the resource that sent the message.
  sent.user = message.from.to_string();
  sent.peer = recipient.contact_local;
  sent.note = message.receipt_requested ? "receipt" : "";
  sent.created_at = now;
  std::error_code ec;
  co_await correlations.put(sent, ec);
  if (ec) {
    bridge_.refuse(message, Condition::internal_server_error, "the message could not be queued");
    co_return;
  }
  gateway::OutboxItem item;
  item.user = user.bare_string();
  item.sender = message.from.to_string();
  item.xmpp_id = sent.xmpp_id;
  item.peer = phone;
  item.payload = text;
  item.meta =
      gateway::encode_notes({{"from", *own},
                             {"token", token},
                             {"coding", count.encoding == SmsEncoding::ucs2 ? "ucs2" : "gsm7"},
                             {"contact", recipient.contact_local}});
  const auto added = co_await outbox_->add(item);
  if (added != gateway::OutboxPump::Added::queued) {
    co_await correlations.remove(component, sent.kind, token, ec);
    if (added == gateway::OutboxPump::Added::full) {
      bridge_.refuse(message, Condition::resource_constraint,
                     "too many messages are waiting to be sent; try again later");
    } else {
      bridge_.refuse(message, Condition::internal_server_error, "the message could not be queued");
    }
    co_return;
  }
  co_await context_.repositories().usage().record(component, item.user, now, ec);
  if (ec) {
    // Queued already: the text goes, but the limits will not see it.
    context_.log().error("component " + component,
                         "cannot record usage of " + item.user + ": " + ec.message());
  }
}

gateway::Awaitable<std::optional<xmpp::StanzaError>> SmsAdapter::over_limit(const xmpp::Jid& user) {
  const std::string& component = context_.domain().domain();
  const auto now = gateway::unix_time_now();
  const std::string who = user.bare_string();
  struct Cap {
    std::size_t cap;
    std::int64_t window;
    std::string_view span;
  };
  const std::array<Cap, 2> caps{
      {{settings_.max_per_hour, 3600, "hour"}, {settings_.max_per_day, 86400, "day"}}};
  for (const auto& [cap, window, span] : caps) {
    if (cap == 0) {
      continue;
    }
    std::error_code ec;
    const std::int64_t since = now - window;
    const auto used = co_await context_.repositories().usage().count(component, who, since, ec);
    if (ec) {
      // Texts cost money: an uncounted one does not go.
      context_.log().error("component " + component, "cannot count usage: " + ec.message());
      co_return xmpp::make_stanza_error(
          Condition::internal_server_error,
          "your messages could not be counted against the limits, so nothing was sent; try "
          "again later");
    }
    if (used >= cap) {
      co_return xmpp::make_stanza_error(
          Condition::policy_violation,
          "you have sent " + std::to_string(used) + " messages in the last " + std::string(span) +
              "; the limit is " + std::to_string(cap) + ", so nothing was sent");
    }
  }
  co_return std::nullopt;
}

bool SmsAdapter::send_queued(const gateway::OutboxItem& item,
                             std::function<void(ProviderAnswer)> on_answer) {
  auto notes = gateway::decode_notes(item.meta);
  OutboundSms sms;
  sms.from = std::move(notes["from"]);
  sms.to = item.peer;
  sms.text = item.payload;
  sms.encoding = notes["coding"] == "ucs2" ? SmsEncoding::ucs2 : SmsEncoding::gsm7;
  sms.token = std::move(notes["token"]);
  return provider_->send(sms, std::move(on_answer));
}

gateway::Awaitable<void> SmsAdapter::on_sent(gateway::OutboxItem item,
                                             gateway::OutboxResult result) {
  const std::string& component = context_.domain().domain();
  auto notes = gateway::decode_notes(item.meta);
  const auto token = notes["token"];
  if (result.kind == gateway::OutboxResult::Kind::sent) {
    context_.log().info("component " + component,
                        "message " + std::to_string(item.id) + " from " + item.user +
                            " accepted by the provider" +
                            (result.reference.empty() ? "" : " as " + result.reference));
    co_return;
  }
  std::error_code ec;
  const std::string kind(sent_sms_kind);
  const bool waiting =
      co_await context_.repositories().correlations().remove(component, kind, token, ec);
  if (!waiting && !ec) {
    co_return; // a delivery report told the sender already (Kannel's type 16 may come first)
  }
  // Queued before the contact was kept in the notes: the E.164 form.
  const auto& written = notes["contact"];
  const auto contact = xmpp::Jid::from_parts(written.empty() ? item.peer : written, component, {});
  const auto sender = xmpp::Jid::parse(item.sender);
  if (!contact || !sender) {
    co_return;
  }
  xmpp::StanzaError error;
  if (result.kind == gateway::OutboxResult::Kind::refused) {
    ProviderAnswer answer;
    answer.code = result.code;
    answer.text = result.text;
    error = xmpp::make_stanza_error(Condition::not_acceptable, provider_refusal_text(answer));
    context_.log().info("component " + component, "message " + std::to_string(item.id) +
                                                      " refused by the provider: " + result.text);
  } else {
    const auto hours = (settings_.retry_max_age_seconds + 3599) / 3600;
    error = xmpp::make_stanza_error(Condition::remote_server_timeout,
                                    "the message could not be handed to the SMS provider within " +
                                        std::to_string(hours) + " h; last problem: " + result.text);
    context_.log().warning("component " + component,
                           "message " + std::to_string(item.id) + " given up after " +
                               std::to_string(item.attempts) + " attempts: " + result.text);
  }
  bridge_.send(gateway::MessageFailure{*contact, *sender, item.xmpp_id, error});
}

void SmsAdapter::serve_webhook(std::string_view path, const gateway::HttpRequest& request,
                               std::function<void(gateway::HttpResponse)> reply) {
  const auto read = provider_->read_webhook(path, request);
  if (read.refusal != 0) {
    context_.log().info("component " + context_.domain().domain(),
                        "webhook " + std::string(path) + " from " + request.remote + ": " +
                            std::to_string(read.refusal) + " " + read.reason);
    gateway::HttpResponse response;
    response.status = read.refusal;
    response.body = read.reason + "\n";
    reply(std::move(response));
    return;
  }
  boost::asio::co_spawn(
      context_.io(), inbound_->handle(read),
      [reply = std::move(reply)](const std::exception_ptr& error, gateway::HttpResponse response) {
        if (error) {
          response.status = 500;
          response.body = "internal error\n";
        }
        reply(std::move(response));
      });
}

gateway::NetworkAbilities SmsAdapter::abilities() const {
  // A correction goes as one more text (the phone cannot edit the first), so
  // it costs what any text costs and counts towards the user's limits.
  return {.network = "SMS", .correction_marker = "* "};
}

std::string SmsAdapter::gateway_description() const {
  std::string text = "Enter the phone number of the person you would like to text, in "
                     "international form (+15551234567)";
  if (!settings_.default_country.empty()) {
    text += " or as a national number of country code +" + settings_.default_country;
  }
  return text + ".";
}

std::string SmsAdapter::gateway_prompt() const {
  return "Phone number";
}

std::optional<xmpp::Jid> SmsAdapter::jid_for_address(std::string_view typed,
                                                     xmpp::StanzaError& error) const {
  std::string reason;
  const auto number = PhoneNumber::parse(typed, settings_.default_country, &reason);
  if (!number) {
    error = xmpp::make_stanza_error(Condition::jid_malformed, reason);
    return std::nullopt;
  }
  auto jid = xmpp::Jid::from_parts(number->localpart(), context_.domain().domain(), {}, &reason);
  if (!jid) {
    error = xmpp::make_stanza_error(Condition::jid_malformed,
                                    "this phone number cannot be written as a JID: " + reason);
  }
  return jid;
}

gateway::Awaitable<std::vector<gateway::RegistrationField>> SmsAdapter::registration_fields() {
  if (settings_.pool.empty()) {
    co_return std::vector<gateway::RegistrationField>{};
  }
  // Not required by the form: a user whose number the operator assigned
  // registers with the field empty (validate_registration() asks the others).
  gateway::RegistrationField number{"number",
                                    "Your number",
                                    false,
                                    false,
                                    "The number your messages are sent from, and that people "
                                    "text to reach you. Leave it empty if the operator gave "
                                    "you one.",
                                    {}};
  // The numbers nobody holds; validate_registration() checks again.
  const std::optional<xmpp::Jid> anyone;
  number.options = co_await numbers_->choices_for(anyone);
  co_return std::vector<gateway::RegistrationField>{number};
}

std::string SmsAdapter::registration_instructions() const {
  if (settings_.pool.empty()) {
    return "Register to text phone numbers through this gateway. There is nothing to fill in: "
           "the number your messages are sent from is assigned by the operator of the gateway.";
  }
  return "Choose the number your messages are sent from. People who text that number reach "
         "you here.";
}

gateway::Awaitable<std::optional<xmpp::StanzaError>>
SmsAdapter::validate_registration(const xmpp::Jid& user, gateway::FieldValues& values) {
  if (settings_.pool.empty()) {
    co_return std::nullopt;
  }
  auto& chosen = values["number"];
  if (const auto* assigned = numbers_->assigned(user)) {
    const auto number = PhoneNumber::parse(chosen, settings_.default_country);
    if (!chosen.empty() && (!number || number->e164() != *assigned)) {
      co_return xmpp::make_stanza_error(Condition::not_allowed,
                                        "your number is " + *assigned +
                                            ", assigned by the operator; it cannot be changed");
    }
    chosen = *assigned;
    co_return std::nullopt;
  }
  if (chosen.empty()) {
    co_return xmpp::make_stanza_error(Condition::not_acceptable,
                                      "choose the number your messages are sent from");
  }
  std::string reason;
  const auto number = PhoneNumber::parse(chosen, settings_.default_country, &reason);
  if (!number) {
    co_return xmpp::make_stanza_error(Condition::not_acceptable, "not a phone number: " + reason);
  }
  std::string error;
  const std::string e164 = number->e164();
  if (!co_await numbers_->choose(user, e164, error)) {
    co_return xmpp::make_stanza_error(
        error.find("taken") != std::string::npos ? Condition::conflict : Condition::not_acceptable,
        error);
  }
  chosen = e164;
  co_return std::nullopt;
}

gateway::Awaitable<void> SmsAdapter::on_unregistered(const xmpp::Jid& user) {
  co_await numbers_->release(user);
}

std::vector<gateway::DomainCommand> SmsAdapter::domain_commands() const {
  return {{std::string(usage_node), "SMS usage per user", true}};
}

gateway::Awaitable<gateway::CommandAnswer>
SmsAdapter::run_command(const gateway::CommandRequest& /*request*/) {
  co_return co_await usage_report(context_, settings_);
}

gateway::Network sms_network() {
  return {sms_config_reader(),
          [](const gateway::ComponentConfig& config, gateway::AdapterContext& context) {
            return std::unique_ptr<gateway::Adapter>(
                std::make_unique<SmsAdapter>(config, config.settings_as<SmsSettings>(), context));
          }};
}

} // namespace trestle::sms
