#include "email_inbound.hpp"

#include "adapter.hpp"
#include "email_address.hpp"
#include "email_identity.hpp"
#include "email_stanzas.hpp"
#include "email_threads.hpp"
#include "log.hpp"
#include "mime_text.hpp"
#include "stanza.hpp"
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
    : context_(context), identities_(identities), threads_(threads) {}

std::optional<xmpp::Jid> EmailInbound::resolve(const std::string& address, SmtpVerdict& refusal) {
  const auto parsed = parse_email_address(address);
  if (!parsed || parsed->domain != identities_.mail_domain()) {
    refusal = unknown_recipient;
    return std::nullopt;
  }
  bool store_failed = false;
  auto user = identities_.user_of(parsed->local, store_failed);
  if (store_failed) {
    refusal = store_down;
    return std::nullopt;
  }
  if (!user || !context_.user_allowed(*user)) {
    refusal = unknown_recipient;
    return std::nullopt;
  }
  return user;
}

SmtpVerdict EmailInbound::check_recipient(const std::string& address) {
  SmtpVerdict refusal;
  return resolve(address, refusal) ? SmtpVerdict{250, "2.1.5", "OK"} : refusal;
}

gateway::Awaitable<std::vector<SmtpVerdict>> EmailInbound::deliver(InboundMessage message) {
  const ParsedMail mail = parse_mail(message.data);
  std::vector<SmtpVerdict> verdicts;
  verdicts.reserve(message.recipients.size());
  for (const auto& recipient : message.recipients) {
    verdicts.push_back(co_await deliver_to(recipient, message, mail));
  }
  co_return verdicts;
}

gateway::Awaitable<SmtpVerdict> EmailInbound::deliver_to(const std::string& recipient,
                                                         const InboundMessage& message,
                                                         const ParsedMail& mail) {
  SmtpVerdict refusal;
  const auto user = resolve(recipient, refusal);
  if (!user) {
    co_return refusal;
  }
  std::error_code ec;
  if (mail.is_delivery_report) {
    if (const auto bounce = bounce_of(user->bare_string(), mail)) {
      if (!co_await context_.send_confirmed(*bounce, ec)) {
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
  const std::string thread =
      threads_.incoming(user->bare_string(), mail.in_reply_to, mail.references, known);
  auto stanza = xmpp::make_message(from, user->bare(), "chat", body_of(mail, known));
  stanza.set_attr("id", gateway::random_hex(8));
  if (!mail.subject.empty()) {
    stanza.append("subject").append_text(mail.subject);
  }
  stanza.append("thread").append_text(thread);
  // The thread is recorded in the same transaction that keeps the message.
  const std::string peer = sender ? sender->comparison_key() : std::string();
  const auto remember = threads_.rows_to_record(user->bare_string(), peer, thread, mail.message_id,
                                                gateway::unix_time_now());
  if (!co_await context_.send_confirmed(stanza, remember, ec)) {
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

std::optional<xmpp::Element> EmailInbound::bounce_of(const std::string& user,
                                                     const ParsedMail& mail) {
  const auto& report = mail.report;
  if (report.original_message_id.empty()) {
    return std::nullopt;
  }
  std::error_code ec;
  const auto sent = context_.store().find_correlation_by_legacy(
      context_.domain().domain(), std::string(sent_mail_kind), report.original_message_id, ec);
  const auto to = sent ? xmpp::Jid::parse(sent->user) : std::nullopt;
  if (!to || to->bare_string() != user) {
    return std::nullopt;
  }
  const auto peer = parse_email_address(sent->peer);
  const auto contact = peer ? contact_jid(*peer, context_.domain().domain()) : std::nullopt;
  if (!contact) {
    return std::nullopt;
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
  return message_error(*contact, *to, sent->xmpp_id, xmpp::make_stanza_error(condition, text));
}

} // namespace trestle::smtp
