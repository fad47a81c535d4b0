#include "sms_inbound.hpp"

#include "adapter.hpp"
#include "adapter_replies.hpp"
#include "log.hpp"
#include "namespaces.hpp"
#include "outbox_pump.hpp"
#include "phone_number.hpp"
#include "sms_numbers.hpp"
#include "sms_provider.hpp"
#include "stanza.hpp"
#include "store.hpp"
#include "xep0106.hpp"

#include <system_error>
#include <utility>

namespace trestle::sms {

namespace {

constexpr std::string_view oob_namespace = "jabber:x:oob";

gateway::HttpResponse unavailable(std::string why) {
  gateway::HttpResponse response;
  response.status = 503;
  response.body = std::move(why) + "; try again later\n";
  return response;
}

} // namespace

SmsInbound::SmsInbound(const gateway::SmsSettings& settings, gateway::AdapterContext& context,
                       SmsNumbers& numbers)
    : settings_(settings), context_(context), numbers_(numbers) {}

gateway::HttpResponse SmsInbound::handle(const WebhookRead& read) {
  if (!context_.stream_ready()) {
    return unavailable("the XMPP server is not reachable");
  }
  if (read.inbound) {
    return deliver(*read.inbound, read.success);
  }
  if (read.report) {
    return report(*read.report, read.success);
  }
  return read.success;
}

gateway::HttpResponse SmsInbound::deliver(const InboundSms& sms,
                                          const gateway::HttpResponse& success) {
  const std::string& component = context_.domain().domain();
  auto& store = context_.store();
  std::error_code ec;
  if (!sms.provider_id.empty()) {
    const auto seen = store.find_correlation_by_legacy(component, std::string(received_sms_kind),
                                                       sms.provider_id, ec);
    if (ec) {
      return unavailable("the store failed");
    }
    if (seen) {
      context_.log().debug("component " + component,
                           "message " + sms.provider_id + " was delivered before; not again");
      return success;
    }
  }
  // A sender that is not a number (an alphanumeric sender id such as a
  // bank's name) still gets a contact; answers to it are refused.
  const auto sender = PhoneNumber::parse(sms.from, settings_.default_country);
  const std::string contact_local = sender ? sender->localpart() : xmpp::xep0106::escape(sms.from);
  const auto contact = xmpp::Jid::from_parts(contact_local, component, {});
  const auto receiver = PhoneNumber::parse(sms.to, settings_.default_country);
  const std::string to = receiver ? receiver->e164() : sms.to;
  bool store_failed = false;
  const auto user = receiver ? numbers_.owner_of(to, store_failed) : std::nullopt;
  if (store_failed) {
    return unavailable("the store failed");
  }
  if (!contact || !user || !context_.user_allowed(*user)) {
    return hold(sms, contact ? contact->to_string() : sms.from, to, success);
  }
  std::string body = sms.body;
  auto message = xmpp::make_message(*contact, *user, "chat");
  message.set_attr("id", gateway::random_hex(8));
  for (const auto& media : sms.media) {
    body += (body.empty() ? "" : "\n") + media.url;
  }
  message.append("body").append_text(body);
  for (const auto& media : sms.media) {
    // XEP-0066: clients that know it show the picture, the others the link.
    message.append("x", std::string(oob_namespace)).append("url").append_text(media.url);
  }
  if (!context_.send(std::move(message))) {
    return unavailable("the XMPP stream is congested");
  }
  if (!sms.provider_id.empty()) {
    gateway::Correlation received;
    received.component = component;
    received.kind = std::string(received_sms_kind);
    received.legacy_id = sms.provider_id;
    received.user = user->bare_string();
    received.peer = sms.from;
    received.created_at = gateway::unix_time_now();
    store.put_correlation(received, ec);
    if (ec) {
      // Delivered already: a repeat is better than asking the provider to retry.
      context_.log().warning("component " + component,
                             "cannot remember message " + sms.provider_id + ": " + ec.message());
    }
  }
  return success;
}

gateway::HttpResponse SmsInbound::hold(const InboundSms& sms, const std::string& contact,
                                       const std::string& to,
                                       const gateway::HttpResponse& success) {
  const std::string& component = context_.domain().domain();
  gateway::HeldMessage held;
  held.component = component;
  held.peer = sms.from;
  held.recipient = to;
  held.body = sms.body;
  for (const auto& media : sms.media) {
    held.body += (held.body.empty() ? "" : "\n") + media.url;
  }
  held.received_at = gateway::unix_time_now();
  std::error_code ec;
  const auto id = context_.store().add_held(held, ec);
  if (ec || id == 0) {
    return unavailable("the store failed");
  }
  context_.log().warning("component " + component, "a message from " + sms.from + " to " + to +
                                                       ", a number no allowed user has, is held (" +
                                                       std::to_string(id) + ")");
  const auto domain = context_.domain();
  for (const auto& admin : context_.admins()) {
    auto notice = xmpp::make_message(
        domain, admin, "chat",
        "A text message to " + to + ", a number that belongs to no allowed user, is held (" +
            std::to_string(id) + "). From " + contact + ":\n" + held.body +
            "\nThe ad-hoc command \"SMS usage per user\" lists the held messages.");
    notice.set_attr("id", gateway::random_hex(8));
    context_.send(std::move(notice));
  }
  return success;
}

gateway::HttpResponse SmsInbound::report(const StatusReport& report,
                                         const gateway::HttpResponse& success) {
  if (report.state == DeliveryState::pending) {
    return success;
  }
  const std::string& component = context_.domain().domain();
  auto& store = context_.store();
  std::error_code ec;
  const auto sent =
      store.find_correlation_by_legacy(component, std::string(sent_sms_kind), report.token, ec);
  if (ec) {
    return unavailable("the store failed");
  }
  if (!sent) {
    // Reported before, or too old: nothing is waiting for it.
    return success;
  }
  const auto contact = xmpp::Jid::from_parts(sent->peer, component, {});
  const auto sender = xmpp::Jid::parse(sent->user);
  if (contact && sender && !sent->xmpp_id.empty()) {
    std::optional<xmpp::Element> stanza;
    if (report.state == DeliveryState::delivered) {
      if (sent->note == "receipt") {
        stanza = gateway::message_receipt(*contact, *sender, sent->xmpp_id);
      }
    } else {
      std::string text = "the message was not delivered";
      if (!report.code.empty()) {
        text += " (" + report.code + ")";
      }
      if (!report.text.empty()) {
        text += ": " + report.text;
      }
      stanza = gateway::message_error(
          *contact, *sender, sent->xmpp_id,
          xmpp::make_stanza_error(xmpp::Condition::recipient_unavailable, text));
    }
    if (stanza && !context_.send(std::move(*stanza))) {
      return unavailable("the XMPP stream is congested");
    }
  }
  store.remove_correlation(component, std::string(sent_sms_kind), report.token, ec);
  return success;
}

} // namespace trestle::sms
