#include "email_outbox.hpp"

#include "adapter.hpp"
#include "backoff.hpp"
#include "log.hpp"
#include "smtp_relay.hpp"
#include "store.hpp"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <random>
#include <sstream>
#include <system_error>
#include <utility>

namespace trestle::smtp {

namespace asio = boost::asio;

namespace {

/// The longest a timer sleeps, so that a changed wall clock is noticed.
constexpr std::int64_t max_sleep_seconds = 60;

} // namespace

std::string MailNotes::encode() const {
  return "from=" + from + "\nmessage_id=" + message_id + "\nthread=" + thread +
         "\nreceipt=" + (receipt ? "1" : "0") + "\n";
}

MailNotes MailNotes::decode(const std::string& meta) {
  MailNotes notes;
  std::istringstream lines(meta);
  std::string line;
  while (std::getline(lines, line)) {
    const auto equals = line.find('=');
    if (equals == std::string::npos) {
      continue;
    }
    const std::string key = line.substr(0, equals);
    std::string value = line.substr(equals + 1);
    if (key == "from") {
      notes.from = std::move(value);
    } else if (key == "message_id") {
      notes.message_id = std::move(value);
    } else if (key == "thread") {
      notes.thread = std::move(value);
    } else if (key == "receipt") {
      notes.receipt = value == "1";
    }
  }
  return notes;
}

struct EmailOutbox::Timer {
  explicit Timer(asio::io_context& io) : timer(io) {}
  asio::steady_timer timer;
};

EmailOutbox::EmailOutbox(gateway::AdapterContext& context, const gateway::EmailSettings& settings,
                         SmtpRelay& relay, OnDone on_done)
    : context_(context), settings_(settings), relay_(relay), on_done_(std::move(on_done)),
      component_(context.domain().domain()), timer_(std::make_unique<Timer>(context.io())),
      alive_(std::make_shared<bool>(true)) {}

EmailOutbox::~EmailOutbox() {
  *alive_ = false;
}

EmailOutbox::Added EmailOutbox::add(gateway::OutboxItem item) {
  auto& store = context_.store();
  std::error_code ec;
  const auto total = store.count_outbox(component_, "", ec);
  const auto mine = ec ? 0 : store.count_outbox(component_, item.user, ec);
  if (ec) {
    return Added::failed;
  }
  if (total >= settings_.max_queued || mine >= settings_.max_queued_per_user) {
    return Added::full;
  }
  item.component = component_;
  item.created_at = gateway::unix_time_now();
  item.next_attempt_at = item.created_at;
  item.attempts = 0;
  item.id = store.add_outbox(item, ec);
  if (ec || item.id == 0) {
    return Added::failed;
  }
  if (!stopped_) {
    pump();
  }
  return Added::queued;
}

void EmailOutbox::start() {
  stopped_ = false;
  pump();
}

void EmailOutbox::stop() {
  stopped_ = true;
  timer_->timer.cancel();
  // What is in flight becomes due again, so a restart sends it at once.
  std::error_code ec;
  for (const auto& [id, item] : in_flight_) {
    context_.store().reschedule_outbox(id, gateway::unix_time_now(), item.attempts, item.last_error,
                                       ec);
  }
  in_flight_.clear();
}

void EmailOutbox::pump() {
  if (stopped_) {
    return;
  }
  const std::size_t slots = settings_.relay.max_connections;
  if (in_flight_.size() >= slots) {
    return;
  }
  std::error_code ec;
  const auto now = gateway::unix_time_now();
  const auto due = context_.store().due_outbox(component_, now, slots + in_flight_.size(), ec);
  if (ec) {
    context_.log().error("component " + component_, "outbox: store: " + ec.message());
  }
  for (const auto& item : due) {
    if (in_flight_.size() >= slots) {
      break;
    }
    if (in_flight_.count(item.id) != 0) {
      continue;
    }
    if (item.attempts > 0 &&
        now - item.created_at >= static_cast<std::int64_t>(settings_.retry_max_age_seconds)) {
      give_up(item, {OutboxResult::Kind::expired, 0, item.last_error});
      continue;
    }
    send(item);
  }
  arm_timer();
}

void EmailOutbox::send(const gateway::OutboxItem& item) {
  // The lease: longer than any one delivery can take, so the item is not
  // due again while it is being sent, yet due again after a crash.
  const auto& relay = settings_.relay;
  const std::int64_t lease = relay.connect_timeout_seconds + 6 * relay.reply_timeout_seconds;
  std::error_code ec;
  context_.store().reschedule_outbox(item.id, gateway::unix_time_now() + lease, item.attempts,
                                     item.last_error, ec);
  if (ec) {
    return;
  }
  const auto notes = MailNotes::decode(item.meta);
  OutboundEnvelope envelope;
  envelope.mail_from = notes.from;
  envelope.recipients.push_back(item.peer);
  envelope.data = item.payload;
  in_flight_.emplace(item.id, item);
  const bool taken = relay_.send(std::move(envelope), [this, alive = alive_,
                                                       item](SmtpOutcome outcome) {
    if (!*alive) {
      return;
    }
    finished(item, outcome.code, std::move(outcome.text),
             outcome.kind == SmtpOutcome::Kind::permanent, outcome.kind == SmtpOutcome::Kind::sent);
  });
  if (!taken) {
    in_flight_.erase(item.id);
    context_.store().reschedule_outbox(item.id,
                                       gateway::unix_time_now() + settings_.retry_min_delay_seconds,
                                       item.attempts, "the relay queue is full", ec);
  }
}

void EmailOutbox::finished(const gateway::OutboxItem& item, int code, std::string text,
                           bool permanent, bool sent) {
  if (in_flight_.erase(item.id) == 0 || stopped_) {
    return; // stop() made it due again already
  }
  if (sent) {
    give_up(item, {OutboxResult::Kind::sent, code, std::move(text)});
  } else if (permanent) {
    give_up(item, {OutboxResult::Kind::refused, code, std::move(text)});
  } else {
    const int attempts = item.attempts + 1;
    const auto now = gateway::unix_time_now();
    context_.log().info("component " + component_, "outbox: mail " + std::to_string(item.id) +
                                                       " attempt " + std::to_string(attempts) +
                                                       " failed: " + text);
    if (now - item.created_at >= static_cast<std::int64_t>(settings_.retry_max_age_seconds)) {
      give_up(item, {OutboxResult::Kind::expired, code, std::move(text)});
    } else {
      xmpp::Backoff backoff(std::chrono::seconds(settings_.retry_min_delay_seconds),
                            std::chrono::seconds(settings_.retry_max_delay_seconds),
                            std::random_device{}());
      backoff.resume_after(static_cast<unsigned>(attempts - 1));
      const auto delay = std::chrono::duration_cast<std::chrono::seconds>(backoff.next()).count();
      std::error_code ec;
      context_.store().reschedule_outbox(item.id, now + std::max<std::int64_t>(delay, 1), attempts,
                                         text, ec);
    }
  }
  pump();
}

void EmailOutbox::give_up(const gateway::OutboxItem& item, OutboxResult result) {
  std::error_code ec;
  context_.store().remove_outbox(item.id, ec);
  if (ec) {
    // It stays queued and will be tried again: a duplicate is better than a loss.
    context_.log().error("component " + component_, "outbox: cannot remove mail " +
                                                        std::to_string(item.id) + ": " +
                                                        ec.message());
  }
  on_done_(item, result);
}

void EmailOutbox::arm_timer() {
  std::error_code ec;
  const auto next = context_.store().next_outbox_due(component_, ec);
  if (!next || stopped_) {
    return;
  }
  const auto wait =
      std::clamp<std::int64_t>(*next - gateway::unix_time_now(), 1, max_sleep_seconds);
  timer_->timer.expires_after(std::chrono::seconds(wait));
  timer_->timer.async_wait([this, alive = alive_](const boost::system::error_code& error) {
    if (!error && *alive) {
      pump();
    }
  });
}

} // namespace trestle::smtp
