#include "email_outbox.hpp"

#include "smtp_relay.hpp"

#include <cstdint>
#include <utility>

namespace trestle::smtp {

std::string MailNotes::encode() const {
  return gateway::encode_notes({{"from", from},
                                {"message_id", message_id},
                                {"thread", thread},
                                {"receipt", receipt ? "1" : "0"}});
}

MailNotes MailNotes::decode(const std::string& meta) {
  auto notes = gateway::decode_notes(meta);
  MailNotes mail;
  mail.from = std::move(notes["from"]);
  mail.message_id = std::move(notes["message_id"]);
  mail.thread = std::move(notes["thread"]);
  mail.receipt = notes["receipt"] == "1";
  return mail;
}

EmailOutbox::EmailOutbox(gateway::AdapterContext& context, const smtp::EmailSettings& settings,
                         SmtpRelay& relay, OnDone on_done)
    : pump_(
          context,
          // Longer than any one delivery can take (connect, then six replies).
          gateway::outbox_policy(settings, settings.relay.max_connections,
                                 settings.relay.connect_timeout_seconds +
                                     std::int64_t{6} * settings.relay.reply_timeout_seconds),
          [&relay](const gateway::OutboxItem& item, gateway::OutboxPump::Report report) {
            const auto notes = MailNotes::decode(item.meta);
            OutboundEnvelope envelope;
            envelope.mail_from = notes.from;
            envelope.recipients.push_back(item.peer);
            envelope.data = item.payload;
            return relay.send(
                std::move(envelope), [report = std::move(report)](SmtpOutcome outcome) {
                  gateway::OutboxAttempt attempt;
                  attempt.kind = outcome.kind == SmtpOutcome::Kind::sent
                                     ? gateway::OutboxAttempt::Kind::sent
                                 : outcome.kind == SmtpOutcome::Kind::permanent
                                     ? gateway::OutboxAttempt::Kind::permanent
                                     : gateway::OutboxAttempt::Kind::temporary;
                  attempt.code = outcome.code != 0 ? std::to_string(outcome.code) : "";
                  attempt.text = std::move(outcome.text);
                  report(std::move(attempt));
                });
          },
          std::move(on_done)) {}

} // namespace trestle::smtp
