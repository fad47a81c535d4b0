#include "sms_inbound.hpp"

#include "adapter.hpp"
#include "log.hpp"
#include "outbox_pump.hpp"
#include "phone_number.hpp"
#include "sms_numbers.hpp"
#include "sms_provider.hpp"
#include "store.hpp"
#include "xep0106.hpp"

#include <system_error>
#include <utility>
#include <variant>

namespace trestle::sms {

namespace {

/// Texts stored by earlier versions, handed over at start at most.
constexpr std::size_t waiting_batch = 10000;

/// The text, with the URLs of its media (MMS) on lines of their own.
std::string body_with_media(const InboundSms& sms) {
  std::string body = sms.body;
  for (const auto& media : sms.media) {
    body.append(body.empty() ? "" : "\n").append(media.url);
  }
  return body;
}

/// A message to keep in the store for the admins: it is nobody's.
gateway::HeldMessage held_message(const InboundSms& sms, const std::string& component,
                                  const std::string& to) {
  gateway::HeldMessage held;
  held.component = component;
  held.peer = sms.from;
  held.recipient = to;
  held.body = body_with_media(sms);
  held.received_at = gateway::unix_time_now();
  return held;
}

/// A chat message from a phone to `user` (a random id, which clients can
/// react and reply to).
gateway::ContactMessage phone_message(const xmpp::Jid& phone, const xmpp::Jid& user,
                                      std::string body) {
  return {.from = phone, .to = user, .body = std::move(body)};
}

/// The JID of a phone; a sender that is not a number (an alphanumeric
/// sender id such as a bank's name) still gets one, escaped.
std::optional<xmpp::Jid> phone_jid(const std::string& from, const std::string& default_country,
                                   const std::string& component) {
  const auto number = PhoneNumber::parse(from, default_country);
  return xmpp::Jid::from_parts(number ? number->localpart() : xmpp::xep0106::escape(from),
                               component, {});
}

gateway::HttpResponse unavailable(std::string why) {
  gateway::HttpResponse response;
  response.status = 503;
  response.body = std::move(why) + "; try again later\n";
  return response;
}

/// What a delivery report tells the sender: a receipt when one was asked
/// for, an error when the text was not delivered, or nothing.
using ReportAnswer = std::variant<std::monostate, gateway::Receipt, gateway::ContactMessage,
                                  gateway::MessageFailure>;

ReportAnswer report_answer(const StatusReport& report, const gateway::Correlation& sent,
                           const xmpp::Jid& contact, const xmpp::Jid& sender) {
  if (report.state == DeliveryState::delivered) {
    if (sent.note == "receipt" && !sent.xmpp_id.empty()) {
      return gateway::Receipt{contact, sender, sent.xmpp_id};
    }
    return std::monostate{};
  }
  std::string why;
  if (!report.code.empty()) {
    why += " (" + report.code + ")";
  }
  if (!report.text.empty()) {
    why += ": " + report.text;
  }
  if (sent.xmpp_id.empty()) {
    // No id to put the error on: the sender reads it in the chat.
    return phone_message(contact, sender, "[gateway] a text you sent was not delivered" + why);
  }
  return gateway::MessageFailure{contact, sender, sent.xmpp_id,
                                 xmpp::make_stanza_error(xmpp::Condition::recipient_unavailable,
                                                         "the message was not delivered" + why)};
}

} // namespace

SmsInbound::SmsInbound(const sms::SmsSettings& settings, gateway::AdapterContext& context,
                       SmsNumbers& numbers)
    : settings_(settings), context_(context), bridge_(context), numbers_(numbers) {}

gateway::Awaitable<gateway::HttpResponse> SmsInbound::handle(WebhookRead read) {
  if (read.inbound) {
    co_return co_await deliver(*read.inbound, read.success);
  }
  if (read.report) {
    co_return co_await report(*read.report, read.success);
  }
  co_return read.success;
}

gateway::Awaitable<void> SmsInbound::hand_over_waiting() {
  // Earlier versions kept a text for a user here while the XMPP server was
  // down; they now go the way of every text (send_confirmed()).
  const std::string& component = context_.domain().domain();
  auto& held_messages = context_.repositories().held();
  std::error_code ec;
  const auto waiting = co_await held_messages.list(component, true, waiting_batch, ec);
  if (ec) {
    context_.log().error("component " + component,
                         "cannot read the texts stored for users: " + ec.message());
    co_return;
  }
  for (const auto& held : waiting) {
    const auto contact = phone_jid(held.peer, settings_.default_country, component);
    const auto user = xmpp::Jid::parse(held.user);
    if (contact && user) {
      auto message = phone_message(*contact, *user, held.body);
      message.received_at = held.received_at;
      const std::vector<gateway::Correlation> nothing;
      if (!co_await bridge_.keep(message, nothing, ec)) {
        context_.log().error("component " + component,
                             "cannot hand over a stored text: " + ec.message());
        co_return;
      }
    }
    co_await held_messages.remove(held.id, ec);
  }
  if (!waiting.empty()) {
    context_.log().info("component " + component, std::to_string(waiting.size()) +
                                                      " texts stored by an earlier version "
                                                      "handed over for delivery");
  }
}

gateway::Awaitable<gateway::HttpResponse>
SmsInbound::deliver(const InboundSms& sms, const gateway::HttpResponse& success) {
  const std::string& component = context_.domain().domain();
  std::error_code ec;
  // Answers to a sender that is not a number are refused.
  const auto contact = phone_jid(sms.from, settings_.default_country, component);
  const auto receiver = PhoneNumber::parse(sms.to, settings_.default_country);
  const std::string to = receiver ? receiver->e164() : sms.to;
  bool store_failed = false;
  std::optional<xmpp::Jid> user;
  if (receiver) {
    user = co_await numbers_.owner_of(to, store_failed);
  }
  bool allowed = false;
  if (user) {
    allowed = co_await context_.user_allowed(*user, ec);
  }
  if (store_failed || ec) {
    co_return unavailable("the store failed");
  }
  if (!contact || !allowed) {
    const std::string sender = contact ? contact->to_string() : sms.from;
    co_return co_await hold(sms, sender, to, success);
  }
  auto message = phone_message(*contact, *user, body_with_media(sms));
  for (const auto& media : sms.media) {
    // XEP-0066: clients that know it show the picture, the others the link.
    message.attachments.push_back(media.url);
  }
  // Kept with the provider's id in one transaction: a repeat of the webhook
  // is known exactly when the text is kept, and is not kept again (one
  // round trip, and atomic when several instances share the store).
  const auto remember = received(sms, user->bare_string());
  if (!co_await bridge_.keep(message, remember, ec)) {
    co_return not_kept(ec);
  }
  co_return success;
}

gateway::HttpResponse SmsInbound::not_kept(const std::error_code& ec) {
  context_.log().warning("component " + context_.domain().domain(),
                         "a webhook's message could not be kept for its user (" + ec.message() +
                             "); answered 503 so that the provider tries again");
  return unavailable("the message cannot be kept now");
}

std::vector<gateway::Correlation> SmsInbound::received(const InboundSms& sms,
                                                       const std::string& user) const {
  if (sms.provider_id.empty()) {
    return {};
  }
  gateway::Correlation received;
  received.component = context_.domain().domain();
  received.kind = std::string(received_sms_kind);
  received.legacy_id = sms.provider_id;
  received.user = user;
  received.peer = sms.from;
  received.created_at = gateway::unix_time_now();
  received.if_present = gateway::IfPresent::refuse;
  return {received};
}

gateway::Awaitable<gateway::HttpResponse> SmsInbound::hold(const InboundSms& sms,
                                                           const std::string& contact,
                                                           const std::string& to,
                                                           const gateway::HttpResponse& success) {
  const std::string& component = context_.domain().domain();
  std::error_code ec;
  if (!sms.provider_id.empty()) {
    // Held is the rare way: one more round trip to know a repeat.
    const std::string kind(received_sms_kind);
    const auto seen = co_await context_.repositories().correlations().find_by_legacy(
        component, kind, sms.provider_id, ec);
    if (ec) {
      co_return unavailable("the store failed");
    }
    if (seen) {
      context_.log().debug("component " + component,
                           "message " + sms.provider_id + " was taken before; not again");
      co_return success;
    }
  }
  const auto held = held_message(sms, component, to);
  const auto id = co_await context_.repositories().held().add(held, ec);
  if (ec || id == 0) {
    co_return unavailable("the store failed");
  }
  // A repeat of this webhook is neither held nor reported again.
  const auto remember = received(sms, {});
  if (!remember.empty()) {
    co_await context_.repositories().correlations().put_all(remember, ec);
    if (ec) {
      // Held already: a repeat is better than asking the provider to retry.
      context_.log().warning("component " + component,
                             "cannot remember message " + sms.provider_id + ": " + ec.message());
    }
  }
  context_.log().warning("component " + component, "a message from " + sms.from + " to " + to +
                                                       ", a number no allowed user has, is held (" +
                                                       std::to_string(id) + ")");
  const auto domain = context_.domain();
  for (const auto& admin : context_.admins()) {
    bridge_.send(phone_message(
        domain, admin,
        "A text message to " + to + ", a number that belongs to no allowed user, is held (" +
            std::to_string(id) + "). From " + contact + ":\n" + held.body +
            "\nThe ad-hoc command \"SMS usage per user\" lists the held messages."));
  }
  co_return success;
}

gateway::Awaitable<gateway::HttpResponse> SmsInbound::report(const StatusReport& report,
                                                             const gateway::HttpResponse& success) {
  if (report.state == DeliveryState::pending) {
    co_return success;
  }
  const std::string& component = context_.domain().domain();
  const std::string kind(sent_sms_kind);
  auto& correlations = context_.repositories().correlations();
  std::error_code ec;
  const auto sent = co_await correlations.find_by_legacy(component, kind, report.token, ec);
  if (ec) {
    co_return unavailable("the store failed");
  }
  if (!sent) {
    // Reported before, or too old: nothing is waiting for it.
    co_return success;
  }
  const auto contact = xmpp::Jid::from_parts(sent->peer, component, {});
  const auto sender = xmpp::Jid::parse(sent->user);
  if (contact && sender) {
    const auto answer = report_answer(report, *sent, *contact, *sender);
    const std::vector<gateway::Correlation> nothing;
    bool kept = true;
    if (const auto* receipt = std::get_if<gateway::Receipt>(&answer)) {
      kept = co_await bridge_.keep(*receipt, nothing, ec);
    } else if (const auto* message = std::get_if<gateway::ContactMessage>(&answer)) {
      kept = co_await bridge_.keep(*message, nothing, ec);
    } else if (const auto* failure = std::get_if<gateway::MessageFailure>(&answer)) {
      kept = co_await bridge_.keep(*failure, nothing, ec);
    }
    if (!kept) {
      co_return not_kept(ec);
    }
  }
  co_await correlations.remove(component, kind, report.token, ec);
  co_return success;
}

} // namespace trestle::sms
