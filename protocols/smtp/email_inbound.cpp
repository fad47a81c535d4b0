#include "email_inbound.hpp"

#include "adapter.hpp"
#include "email_address.hpp"
#include "email_identity.hpp"
#include "email_stanzas.hpp"
#include "email_threads.hpp"
#include "log.hpp"
#include "mime_text.hpp"
#include "store.hpp"

#include <system_error>

namespace trestle::smtp {

namespace {

const SmtpVerdict unknown_recipient{550, "5.1.1", "No such user here"};
const SmtpVerdict store_down{451, "4.3.0", "Temporary local problem; try again later"};

/// The XMPP body of a received mail: the subject first when it starts a
/// conversation (most chat clients do not show `<subject>`), the text, then
/// what could not be read cleanly.
std::string body_of(const ParsedMail& mail, bool continues_thread) {
  std::string body;
  if (!continues_thread && !mail.subject.empty()) {
    body = "Subject: " + mail.subject + "\n\n";
  }
  body += mail.text.empty() && mail.attachments.empty() ? "(empty message)" : mail.text;
  for (const auto& problem : mail.problems) {
    body += "\n[" + problem + "]";
  }
  return body;
}

} // namespace

EmailInbound::EmailInbound(gateway::AdapterContext& context, EmailIdentities& identities,
                           EmailThreads& threads)
    : context_(context), bridge_(context), identities_(identities), threads_(threads) {}

gateway::Awaitable<std::optional<xmpp::Jid>> EmailInbound::resolve(const std::string& address,
                                                                   SmtpVerdict& refusal) {
  const auto parsed = parse_email_address(address);
  if (!parsed || parsed->domain != identities_.mail_domain()) {
    refusal = unknown_recipient;
    co_return std::nullopt;
  }
  bool store_failed = false;
  auto user = co_await identities_.user_of(parsed->local, store_failed);
  std::error_code ec;
  bool allowed = false;
  if (user && !store_failed) {
    allowed = co_await context_.user_allowed(*user, ec);
  }
  if (store_failed || ec) {
    refusal = store_down;
    co_return std::nullopt;
  }
  if (!allowed) {
    refusal = unknown_recipient;
    co_return std::nullopt;
  }
  co_return user;
}

gateway::Awaitable<SmtpVerdict> EmailInbound::check_recipient(std::string address) {
  SmtpVerdict refusal;
  const auto user = co_await resolve(address, refusal);
  if (!user) {
    co_return refusal;
  }
  co_return SmtpVerdict{250, "2.1.5", "OK", user->to_string()};
}

gateway::Awaitable<std::vector<SmtpVerdict>> EmailInbound::deliver(InboundMessage message) {
  const ParsedMail mail = parse_mail(message.data);
  std::vector<SmtpVerdict> verdicts;
  verdicts.reserve(message.recipients.size());
  for (std::size_t i = 0; i < message.recipients.size(); ++i) {
    // The user that RCPT found, unless the session was driven without it.
    const auto checked =
        i < message.accepted_as.size() ? xmpp::Jid::parse(message.accepted_as[i]) : std::nullopt;
    verdicts.push_back(co_await deliver_to(message.recipients[i], checked, message, mail));
  }
  co_return verdicts;
}

gateway::Awaitable<SmtpVerdict> EmailInbound::deliver_to(const std::string& recipient,
                                                         const std::optional<xmpp::Jid>& checked,
                                                         const InboundMessage& message,
                                                         const ParsedMail& mail) {
  SmtpVerdict refusal;
  auto user = checked;
  if (!user) {
    user = co_await resolve(recipient, refusal);
  }
  if (!user) {
    co_return refusal;
  }
  std::error_code ec;
  const std::vector<gateway::Correlation> nothing;
  if (mail.is_delivery_report) {
    const std::string bare = user->bare_string();
    if (const auto bounce = co_await bounce_of(bare, mail)) {
      if (!co_await bridge_.keep(*bounce, nothing, ec)) {
        co_return not_kept(ec);
      }
      co_return SmtpVerdict{250, "2.0.0", "Bounce noted"};
    }
  }
  const std::string& domain = context_.domain().domain();
  auto sender = parse_email_address(mail.from_address);
  if (!sender) {
    sender = parse_email_address(message.mail_from);
  }
  const auto contact = sender ? contact_jid(*sender, domain) : std::nullopt;
  const xmpp::Jid from = contact ? *contact : context_.domain();

  bool known = false;
  const std::string bare = user->bare_string();
  const std::string thread =
      co_await threads_.incoming(bare, mail.in_reply_to, mail.references, known);
  gateway::ContactMessage chat{.from = from, .to = user->bare(), .body = body_of(mail, known)};
  if (!mail.subject.empty()) {
    chat.subject = mail.subject;
  }
  chat.thread = thread;
  // The thread is recorded in the same transaction that keeps the message.
  const std::string peer = sender ? sender->comparison_key() : std::string();
  const auto now = gateway::unix_time_now();
  const auto remember = threads_.rows_to_record(bare, peer, thread, mail.message_id, now);
  if (!co_await bridge_.keep(chat, remember, ec)) {
    co_return not_kept(ec);
  }
  co_return SmtpVerdict{250, "2.0.0", "Delivered"};
}

SmtpVerdict EmailInbound::not_kept(const std::error_code& ec) {
  context_.log().warning("component " + context_.domain().domain(),
                         "a received mail could not be kept for its user (" + ec.message() +
                             "); answered 451 so that the sending server tries again");
  return store_down;
}

gateway::Awaitable<std::optional<gateway::MessageFailure>>
EmailInbound::bounce_of(const std::string& user, const ParsedMail& mail) {
  const auto& report = mail.report;
  if (report.original_message_id.empty()) {
    co_return std::nullopt;
  }
  std::error_code ec;
  const std::string kind(sent_mail_kind);
  const auto sent = co_await context_.repositories().correlations().find_by_legacy(
      context_.domain().domain(), kind, report.original_message_id, ec);
  const auto to = sent ? xmpp::Jid::parse(sent->user) : std::nullopt;
  if (!to || to->bare_string() != user) {
    co_return std::nullopt;
  }
  const auto peer = parse_email_address(sent->peer);
  const auto contact = peer ? contact_jid(*peer, context_.domain().domain()) : std::nullopt;
  if (!contact) {
    co_return std::nullopt;
  }
  std::string text = "the mail to " + sent->peer + " bounced";
  if (!report.status.empty()) {
    text += ": " + report.status;
  }
  if (!report.diagnostic.empty()) {
    text += " (" + report.diagnostic + ")";
  }
  const auto condition = report.status.starts_with("5.1.") ? xmpp::Condition::item_not_found
                                                           : xmpp::Condition::recipient_unavailable;
  co_return gateway::MessageFailure{*contact, *to, sent->xmpp_id,
                                    xmpp::make_stanza_error(condition, text)};
}

} // namespace trestle::smtp
