#include "email_adapter.hpp"

#include "address_text.hpp"
#include "email_address.hpp"
#include "email_identity.hpp"
#include "email_inbound.hpp"
#include "email_outbox.hpp"
#include "email_stanzas.hpp"
#include "email_threads.hpp"
#include "log.hpp"
#include "mime_compose.hpp"
#include "random_hex.hpp"
#include "smtp_listener.hpp"
#include "smtp_relay.hpp"
#include "store.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <exception>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace trestle::smtp {

namespace {

using xmpp::Condition;

constexpr std::size_t max_display_name_bytes = 64;

SmtpRelayOptions relay_options(const smtp::EmailRelaySettings& relay,
                               const std::string& helo_name) {
  SmtpRelayOptions options;
  options.host = relay.host;
  options.port = relay.port;
  options.security = relay.security == "tls"    ? SmtpRelayOptions::Security::implicit_tls
                     : relay.security == "none" ? SmtpRelayOptions::Security::none
                                                : SmtpRelayOptions::Security::starttls;
  options.verify_certificate = relay.verify_certificate;
  options.ca_file = relay.ca_file;
  options.helo_name = helo_name;
  options.username = relay.username;
  options.password = relay.password;
  options.connect_timeout = std::chrono::seconds(relay.connect_timeout_seconds);
  options.reply_timeout = std::chrono::seconds(relay.reply_timeout_seconds);
  options.max_connections = relay.max_connections;
  return options;
}

SmtpListenerOptions listener_options(const smtp::EmailListenerSettings& listener,
                                     const std::string& mail_domain) {
  SmtpListenerOptions options;
  options.bind = listener.bind;
  options.port = listener.port;
  options.session.hostname = listener.hostname.empty() ? mail_domain : listener.hostname;
  options.session.lmtp = listener.lmtp;
  options.session.max_message_bytes = listener.max_message_bytes;
  options.session.max_recipients = listener.max_recipients;
  options.tls_certificate_file = listener.tls_certificate_file;
  options.tls_key_file = listener.tls_key_file;
  options.max_connections = listener.max_connections;
  options.command_timeout = std::chrono::seconds(listener.command_timeout_seconds);
  options.data_timeout = std::chrono::seconds(listener.data_timeout_seconds);
  return options;
}

} // namespace

EmailAdapter::EmailAdapter(EmailSettings settings, gateway::AdapterContext& context)
    : context_(context), bridge_(context), settings_(std::move(settings)) {
  const std::string& domain = context.domain().domain();
  const std::string mail_domain = settings_.mail_domain.empty() ? domain : settings_.mail_domain;
  identities_ = std::make_unique<EmailIdentities>(settings_, mail_domain, context);
  threads_ = std::make_unique<EmailThreads>(context);
  inbound_ = std::make_unique<EmailInbound>(context, *identities_, *threads_);
  const std::string area = "component " + domain;
  auto say = [&context, area](bool warning, std::string_view line) {
    if (warning) {
      context.log().warning(area, line);
    } else {
      context.log().info(area, line);
    }
  };
  relay_ =
      std::make_unique<SmtpRelay>(context.io(), relay_options(settings_.relay, mail_domain), say);
  outbox_ = std::make_unique<EmailOutbox>(
      context, settings_, *relay_,
      [this](const gateway::OutboxItem& item, const OutboxResult& result) {
        boost::asio::co_spawn(context_.io(), on_mail_done(item, result), boost::asio::detached);
      });
  if (settings_.listener.enabled) {
    SmtpListenerHandlers handlers;
    handlers.check_recipient = [this](const std::string& address,
                                      std::function<void(SmtpVerdict)> answer) {
      boost::asio::co_spawn(
          context_.io(), inbound_->check_recipient(address),
          [answer = std::move(answer)](const std::exception_ptr& error, SmtpVerdict verdict) {
            answer(error ? SmtpVerdict{451, "4.3.0", "Temporary local problem"}
                         : std::move(verdict));
          });
    };
    handlers.deliver = [this](InboundMessage message,
                              std::function<void(std::vector<SmtpVerdict>)> answer) {
      boost::asio::co_spawn(context_.io(), inbound_->deliver(std::move(message)),
                            [answer = std::move(answer)](const std::exception_ptr& error,
                                                         std::vector<SmtpVerdict> verdicts) {
                              answer(error ? std::vector<SmtpVerdict>{} : std::move(verdicts));
                            });
    };
    listener_ = std::make_unique<SmtpListener>(
        context.io(), listener_options(settings_.listener, mail_domain), std::move(handlers), say);
  }
}

EmailAdapter::~EmailAdapter() = default;

gateway::Awaitable<void> EmailAdapter::run() {
  if (listener_) {
    std::string error;
    if (!listener_->start(&error)) {
      throw std::runtime_error("component " + context_.domain().domain() + ": " + error);
    }
  }
  co_await outbox_->run();
  if (listener_) {
    listener_->stop();
  }
  relay_->stop();
}

gateway::Awaitable<void> EmailAdapter::handle(const gateway::UserEvent& event) {
  const auto& to = gateway::recipient_of(event);
  std::string reason;
  const auto address = parse_localpart(to.local(), &reason);
  if (!address) {
    bridge_.refuse(event, Condition::jid_malformed, reason);
    co_return;
  }
  // `bob%example.com` is accepted; answers come from the escaped form.
  const auto contact = contact_jid(*address, context_.domain().domain());
  if (!contact) {
    bridge_.refuse(event, Condition::jid_malformed,
                   "this email address cannot be written as a JID");
    co_return;
  }
  if (const auto* message = std::get_if<gateway::UserMessage>(&event)) {
    co_await on_message(*message, *address);
  } else if (const auto* presence = std::get_if<gateway::UserPresence>(&event)) {
    bridge_.answer_always_there(*presence, *contact, "Email contact: messages go out as email");
  } else {
    bridge_.refuse(event, Condition::service_unavailable, "email contacts answer no requests");
  }
}

gateway::Awaitable<std::string> EmailAdapter::display_name(const xmpp::Jid& user) {
  std::error_code ec;
  const std::string bare = user.bare_string();
  const auto registration =
      co_await context_.repositories().registrations().find(bare, context_.domain().domain(), ec);
  if (registration) {
    if (const auto name = registration->fields.find("name");
        name != registration->fields.end() && !name->second.empty()) {
      co_return name->second;
    }
  }
  co_return user.local();
}

gateway::Awaitable<void> EmailAdapter::on_message(const gateway::UserMessage& message,
                                                  const EmailAddress& peer) {
  if (message.type == gateway::MessageType::headline) {
    co_return;
  }
  if (message.type == gateway::MessageType::groupchat) {
    bridge_.refuse(message, Condition::not_acceptable, "an email contact is not a room");
    co_return;
  }
  if (message.body.empty()) {
    co_return; // chat states, receipts and markers are not mail
  }
  const auto user = message.from.bare();
  IdentityProblem problem;
  const auto local = co_await identities_->local_part_of(user, problem);
  if (!local) {
    const auto condition =
        problem.kind == IdentityProblem::Kind::store_failed ? Condition::internal_server_error
        : problem.kind == IdentityProblem::Kind::conflict   ? Condition::conflict
                                                            : Condition::registration_required;
    bridge_.refuse(message, condition, problem.text);
    co_return;
  }
  const std::string name = co_await display_name(user);
  std::string subject = message.subject.value_or(std::string());
  if (subject.empty()) {
    subject = settings_.default_subject;
    protocols::replace_all(subject, "{name}", name);
  }
  const std::string peer_key = peer.comparison_key();
  const std::string bare = user.bare_string();
  const auto position = co_await threads_->outgoing(bare, peer_key, message.thread);
  const auto now = gateway::unix_time_now();

  OutgoingMail mail;
  mail.from_name = name;
  mail.from_address = *local + '@' + identities_->mail_domain();
  mail.to_address = peer.to_string();
  mail.subject = std::move(subject);
  mail.body = message.body;
  mail.message_id = make_message_id(identities_->mail_domain());
  mail.references = position.references;
  mail.date = now;

  MailNotes notes;
  notes.from = mail.from_address;
  notes.message_id = mail.message_id;
  notes.thread = position.thread;
  notes.receipt = message.receipt_requested;

  gateway::OutboxItem item;
  item.user = bare;
  item.sender = message.from.to_string();
  item.xmpp_id = message.id;
  item.peer = mail.to_address;
  item.payload = compose_mail(mail);
  item.meta = notes.encode();
  switch (co_await outbox_->add(item)) {
  case EmailOutbox::Added::queued:
    co_await threads_->record(bare, peer_key, position.thread, mail.message_id, now);
    break;
  case EmailOutbox::Added::full:
    bridge_.refuse(message, Condition::resource_constraint,
                   "too many mails are waiting to be sent; try again later");
    break;
  case EmailOutbox::Added::failed:
    bridge_.refuse(message, Condition::internal_server_error,
                   "the mail could not be queued; try again later");
    break;
  }
}

gateway::Awaitable<void> EmailAdapter::on_mail_done(gateway::OutboxItem item, OutboxResult result) {
  const std::string& domain = context_.domain().domain();
  const auto notes = MailNotes::decode(item.meta);
  const auto peer = parse_email_address(item.peer);
  const auto contact = peer ? contact_jid(*peer, domain) : std::nullopt;
  const auto sender = xmpp::Jid::parse(item.sender);
  if (!contact || !sender) {
    co_return;
  }
  switch (result.kind) {
  case OutboxResult::Kind::sent: {
    context_.log().info("component " + domain, "mail " + std::to_string(item.id) + " from " +
                                                   item.user + " accepted by the relay");
    gateway::Correlation sent;
    sent.component = domain;
    sent.kind = std::string(sent_mail_kind);
    sent.legacy_id = notes.message_id;
    sent.xmpp_id = item.xmpp_id;
    // The full JID: an error about the message must reach the resource that
    // sent it (a type='error' message to a bare JID is dropped, RFC 6121 8.5.2.1.1).
    sent.user = item.sender;
    sent.peer = item.peer;
    sent.created_at = gateway::unix_time_now();
    std::error_code ec;
    co_await context_.repositories().correlations().put(sent, ec);
    if (notes.receipt && !item.xmpp_id.empty()) {
      bridge_.send(gateway::Receipt{*contact, *sender, item.xmpp_id});
    }
    break;
  }
  case OutboxResult::Kind::refused:
    context_.log().info("component " + domain, "mail " + std::to_string(item.id) +
                                                   " refused by the relay: " + result.text);
    bridge_.send(gateway::MessageFailure{*contact, *sender, item.xmpp_id,
                                         relay_refusal(result.code, result.text)});
    break;
  case OutboxResult::Kind::expired: {
    const auto hours = (settings_.retry_max_age_seconds + 3599) / 3600;
    context_.log().warning("component " + domain,
                           "mail " + std::to_string(item.id) + " given up after " +
                               std::to_string(item.attempts) + " attempts: " + result.text);
    bridge_.send(gateway::MessageFailure{
        *contact, *sender, item.xmpp_id,
        xmpp::make_stanza_error(Condition::remote_server_timeout,
                                "the mail could not be delivered within " + std::to_string(hours) +
                                    " h; last problem: " + result.text)});
    break;
  }
  }
}

gateway::NetworkAbilities EmailAdapter::abilities() const {
  // A sent mail stays as it was: a correction is a new mail in the same
  // thread that says so in its first line.
  return {.network = "email", .correction_marker = "Correction of my last message:\n\n"};
}

std::string EmailAdapter::gateway_description() const {
  return "Enter the email address of the person you would like to write to (bob@example.com).";
}

std::string EmailAdapter::gateway_prompt() const {
  return "Email address";
}

std::optional<xmpp::Jid> EmailAdapter::jid_for_address(std::string_view typed,
                                                       xmpp::StanzaError& error) const {
  std::string reason;
  const auto address = parse_email_address(typed, &reason);
  if (!address) {
    error = xmpp::make_stanza_error(Condition::jid_malformed, reason);
    return std::nullopt;
  }
  auto jid = xmpp::Jid::from_parts(to_localpart(*address), context_.domain().domain(), {}, &reason);
  if (!jid) {
    error = xmpp::make_stanza_error(Condition::jid_malformed,
                                    "this email address cannot be written as a JID: " + reason);
  }
  return jid;
}

gateway::Awaitable<std::vector<gateway::RegistrationField>> EmailAdapter::registration_fields() {
  const std::string& domain = identities_->mail_domain();
  co_return std::vector<gateway::RegistrationField>{
      {"username",
       "Your address",
       false,
       false,
       "The part before '@' of your own address on " + domain +
           "; leave empty to keep the one you have.",
       {}},
      {"name",
       "Your name",
       false,
       false,
       "The name shown next to your address in the mail you write.",
       {}},
  };
}

std::string EmailAdapter::registration_instructions() const {
  const std::string& domain = identities_->mail_domain();
  return "Choose your own email address on " + domain + ": with 'alice', mail to alice@" + domain +
         " reaches you and the mail you write is sent from it.";
}

gateway::Awaitable<std::optional<xmpp::StanzaError>>
EmailAdapter::validate_registration(const xmpp::Jid& user, gateway::FieldValues& values) {
  if (const auto name = values.find("name"); name != values.end()) {
    name->second = std::string(protocols::trim_blanks(name->second));
    if (name->second.size() > max_display_name_bytes ||
        name->second.find_first_of("\r\n\t") != std::string::npos) {
      co_return xmpp::make_stanza_error(Condition::not_acceptable,
                                        "the name must be one line of at most 64 bytes");
    }
  }
  const auto field = values.find("username");
  if (field == values.end()) {
    co_return std::nullopt;
  }
  field->second = std::string(protocols::trim_blanks(field->second));
  if (field->second.empty()) {
    co_return std::nullopt;
  }
  std::string reason;
  if (!is_valid_local_part(field->second, &reason)) {
    co_return xmpp::make_stanza_error(Condition::not_acceptable, reason);
  }
  // Stored lowercase: local parts on the gateway's domain match regardless of case.
  field->second = canonical_local_part(field->second);
  if (EmailIdentities::is_reserved(field->second)) {
    co_return xmpp::make_stanza_error(Condition::not_acceptable,
                                      "the address " + field->second + '@' +
                                          identities_->mail_domain() +
                                          " is kept for the mail domain's own use");
  }
  IdentityProblem problem;
  const auto bare = user.bare();
  if (!co_await identities_->assign(bare, field->second, problem)) {
    if (problem.kind == IdentityProblem::Kind::conflict) {
      co_return xmpp::make_stanza_error(Condition::conflict, problem.text);
    }
    context_.log().error("component " + context_.domain().domain(),
                         "registration check failed: " + problem.text);
    co_return xmpp::make_stanza_error(Condition::internal_server_error,
                                      "the address could not be saved; try again later");
  }
  co_return std::nullopt;
}

gateway::Awaitable<void> EmailAdapter::on_unregistered(const xmpp::Jid& user) {
  const auto bare = user.bare();
  co_await identities_->release(bare);
}

gateway::Network email_network() {
  return {email_config_reader(),
          [](const gateway::ComponentConfig& config, gateway::AdapterContext& context) {
            return std::unique_ptr<gateway::Adapter>(
                std::make_unique<EmailAdapter>(config.settings_as<EmailSettings>(), context));
          }};
}

} // namespace trestle::smtp
