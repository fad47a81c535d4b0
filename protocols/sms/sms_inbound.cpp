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

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <system_error>
#include <utility>

namespace trestle::sms {

namespace {

constexpr std::string_view oob_namespace = "jabber:x:oob";
/// How often stored texts are tried while the XMPP server is unreachable.
constexpr std::chrono::seconds waiting_poll{2};
/// Stored texts read from the store at a time.
constexpr std::size_t waiting_batch = 100;

/// The text, with the URLs of its media (MMS) on lines of their own.
std::string body_with_media(const InboundSms& sms) {
  std::string body = sms.body;
  for (const auto& media : sms.media) {
    body.append(body.empty() ? "" : "\n").append(media.url);
  }
  return body;
}

/// A message to keep in the store: for `user` (a bare JID), or for nobody.
gateway::HeldMessage held_message(const InboundSms& sms, const std::string& component,
                                  const std::string& to, const std::string& user) {
  gateway::HeldMessage held;
  held.component = component;
  held.peer = sms.from;
  held.recipient = to;
  held.body = body_with_media(sms);
  held.received_at = gateway::unix_time_now();
  held.user = user;
  return held;
}

/// A chat message from a phone to `user`, with an id that clients can
/// react and reply to.
xmpp::Element phone_message(const xmpp::Jid& phone, const xmpp::Jid& user, std::string_view body) {
  auto message = xmpp::make_message(phone, user, "chat", body);
  message.set_attr("id", gateway::random_hex(8));
  return message;
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

} // namespace

struct SmsInbound::Timer {
  explicit Timer(boost::asio::io_context& io) : timer(io) {}
  boost::asio::steady_timer timer;
};

SmsInbound::SmsInbound(const gateway::SmsSettings& settings, gateway::AdapterContext& context,
                       SmsNumbers& numbers)
    : settings_(settings), context_(context), numbers_(numbers),
      timer_(std::make_unique<Timer>(context.io())) {}

SmsInbound::~SmsInbound() {
  *alive_ = false;
}

void SmsInbound::start() {
  stopped_ = false;
  std::error_code ec;
  const auto waiting =
      context_.store().held_messages(context_.domain().domain(), true, 1, ec).size();
  if (ec || waiting > 0) {
    arm_timer();
  }
}

void SmsInbound::stop() {
  stopped_ = true;
  timer_->timer.cancel();
}

void SmsInbound::arm_timer() {
  if (timer_armed_ || stopped_) {
    return;
  }
  timer_armed_ = true;
  timer_->timer.expires_after(waiting_poll);
  timer_->timer.async_wait([this, alive = alive_](const boost::system::error_code& error) {
    if (!*alive) {
      return;
    }
    timer_armed_ = false;
    if (!error && deliver_waiting()) {
      arm_timer();
    }
  });
}

gateway::HttpResponse SmsInbound::handle(const WebhookRead& read) {
  if (read.inbound) {
    return deliver(*read.inbound, read.success);
  }
  if (!context_.stream_ready()) {
    return unavailable("the XMPP server is not reachable");
  }
  if (read.report) {
    return report(*read.report, read.success);
  }
  return read.success;
}

bool SmsInbound::deliver_waiting() {
  if (!context_.stream_ready()) {
    return true;
  }
  const std::string& component = context_.domain().domain();
  auto& store = context_.store();
  std::error_code ec;
  const auto waiting = store.held_messages(component, true, waiting_batch, ec);
  if (ec) {
    context_.log().error("component " + component,
                         "cannot read the texts stored for users: " + ec.message());
    return true;
  }
  for (const auto& held : waiting) {
    const auto contact = phone_jid(held.peer, settings_.default_country, component);
    const auto user = xmpp::Jid::parse(held.user);
    if (contact && user) {
      auto message = phone_message(*contact, *user, held.body);
      xmpp::add_delay(message, component, xmpp::xep0082_datetime(held.received_at));
      if (!context_.send(std::move(message))) {
        return true; // congested or down again: the rest waits
      }
    }
    store.remove_held(held.id, ec);
    if (ec) {
      context_.log().error("component " + component,
                           "cannot remove a delivered text: " + ec.message());
      return true;
    }
  }
  if (!waiting.empty()) {
    context_.log().info("component " + component,
                        std::to_string(waiting.size()) +
                            " texts stored while the XMPP server was unreachable delivered");
  }
  return waiting.size() == waiting_batch;
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
  // Answers to a sender that is not a number are refused.
  const auto contact = phone_jid(sms.from, settings_.default_country, component);
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
  if (!context_.stream_ready()) {
    return wait(sms, to, *user, success);
  }
  auto message = phone_message(*contact, *user, body_with_media(sms));
  for (const auto& media : sms.media) {
    // XEP-0066: clients that know it show the picture, the others the link.
    message.append("x", std::string(oob_namespace)).append("url").append_text(media.url);
  }
  if (!context_.send(std::move(message))) {
    return unavailable("the XMPP stream is congested");
  }
  remember_received(sms, user->bare_string());
  return success;
}

void SmsInbound::remember_received(const InboundSms& sms, const std::string& user) {
  if (sms.provider_id.empty()) {
    return;
  }
  const std::string& component = context_.domain().domain();
  gateway::Correlation received;
  received.component = component;
  received.kind = std::string(received_sms_kind);
  received.legacy_id = sms.provider_id;
  received.user = user;
  received.peer = sms.from;
  received.created_at = gateway::unix_time_now();
  std::error_code ec;
  context_.store().put_correlation(received, ec);
  if (ec) {
    // Delivered or held already: a repeat is better than asking the
    // provider to retry.
    context_.log().warning("component " + component,
                           "cannot remember message " + sms.provider_id + ": " + ec.message());
  }
}

gateway::HttpResponse SmsInbound::wait(const InboundSms& sms, const std::string& to,
                                       const xmpp::Jid& user,
                                       const gateway::HttpResponse& success) {
  const auto held = held_message(sms, context_.domain().domain(), to, user.bare_string());
  std::error_code ec;
  if (context_.store().add_held(held, ec) == 0 || ec) {
    return unavailable("the XMPP server is not reachable and the store failed");
  }
  remember_received(sms, held.user);
  arm_timer();
  return success;
}

gateway::HttpResponse SmsInbound::hold(const InboundSms& sms, const std::string& contact,
                                       const std::string& to,
                                       const gateway::HttpResponse& success) {
  const std::string& component = context_.domain().domain();
  const auto held = held_message(sms, component, to, {});
  std::error_code ec;
  const auto id = context_.store().add_held(held, ec);
  if (ec || id == 0) {
    return unavailable("the store failed");
  }
  // A repeat of this webhook is neither held nor reported again.
  remember_received(sms, {});
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
  if (contact && sender) {
    std::optional<xmpp::Element> stanza;
    if (report.state == DeliveryState::delivered) {
      if (sent->note == "receipt" && !sent->xmpp_id.empty()) {
        stanza = gateway::message_receipt(*contact, *sender, sent->xmpp_id);
      }
    } else {
      std::string why;
      if (!report.code.empty()) {
        why += " (" + report.code + ")";
      }
      if (!report.text.empty()) {
        why += ": " + report.text;
      }
      if (sent->xmpp_id.empty()) {
        // No id to put the error on: the sender reads it in the chat.
        stanza = xmpp::make_message(*contact, *sender, "chat",
                                    "[gateway] a text you sent was not delivered" + why);
        stanza->set_attr("id", gateway::random_hex(8));
      } else {
        stanza =
            gateway::message_error(*contact, *sender, sent->xmpp_id,
                                   xmpp::make_stanza_error(xmpp::Condition::recipient_unavailable,
                                                           "the message was not delivered" + why));
      }
    }
    if (stanza && !context_.send(std::move(*stanza))) {
      return unavailable("the XMPP stream is congested");
    }
  }
  store.remove_correlation(component, std::string(sent_sms_kind), report.token, ec);
  return success;
}

} // namespace trestle::sms
