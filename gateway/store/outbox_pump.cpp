#include "outbox_pump.hpp"

#include "adapter.hpp"
#include "backoff.hpp"
#include "log.hpp"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <random>
#include <system_error>
#include <utility>

namespace trestle::gateway {

namespace asio = boost::asio;

namespace {

/// The longest a timer sleeps, so that a changed wall clock is noticed.
constexpr std::int64_t max_sleep_seconds = 60;

} // namespace

std::string encode_notes(const std::map<std::string, std::string>& notes) {
  std::string out;
  for (const auto& [key, value] : notes) {
    out += key;
    out += '=';
    for (const char c : value) {
      if (c == '\\') {
        out += "\\\\";
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out += c;
      }
    }
    out += '\n';
  }
  return out;
}

std::map<std::string, std::string> decode_notes(std::string_view text) {
  std::map<std::string, std::string> notes;
  while (!text.empty()) {
    const auto end = text.find('\n');
    const auto line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    const auto equals = line.find('=');
    if (equals == std::string_view::npos) {
      continue;
    }
    std::string value;
    for (std::size_t i = equals + 1; i < line.size(); ++i) {
      if (line[i] == '\\' && i + 1 < line.size()) {
        value += line[++i] == 'n' ? '\n' : line[i];
      } else {
        value += line[i];
      }
    }
    notes.insert_or_assign(std::string(line.substr(0, equals)), std::move(value));
  }
  return notes;
}

struct OutboxPump::Timer {
  explicit Timer(asio::io_context& io) : timer(io) {}
  asio::steady_timer timer;
};

OutboxPump::OutboxPump(AdapterContext& context, OutboxPolicy policy, Send send, OnDone on_done)
    : context_(context), policy_(policy), send_(std::move(send)), on_done_(std::move(on_done)),
      component_(context.domain().domain()), timer_(std::make_unique<Timer>(context.io())),
      alive_(std::make_shared<bool>(true)) {
  policy_.max_in_flight = std::max<std::size_t>(policy_.max_in_flight, 1);
}

OutboxPump::~OutboxPump() {
  *alive_ = false;
}

Awaitable<OutboxPump::Added> OutboxPump::add(const OutboxItem& given) {
  auto& outbox = context_.repositories().outbox();
  std::error_code ec;
  const std::string everyone;
  const auto total = co_await outbox.count(component_, everyone, ec);
  if (ec) {
    co_return Added::failed;
  }
  const auto mine = co_await outbox.count(component_, given.user, ec);
  if (ec) {
    co_return Added::failed;
  }
  // Counted, then added: two adds at once may pass a limit by one each,
  // which is what a limit on a queue that drains anyway can bear.
  if (total >= policy_.max_queued || mine >= policy_.max_queued_per_user) {
    co_return Added::full;
  }
  OutboxItem item = given;
  item.component = component_;
  item.created_at = unix_time_now();
  item.next_attempt_at = item.created_at;
  item.attempts = 0;
  item.id = co_await outbox.add(item, ec);
  if (ec || item.id == 0) {
    co_return Added::failed;
  }
  if (!stopped_) {
    pump();
  }
  co_return Added::queued;
}

void OutboxPump::start() {
  stopped_ = false;
  pump();
}

void OutboxPump::stop() {
  stopped_ = true;
  timer_->timer.cancel();
  // What is in flight becomes due again, so a restart sends it at once.
  std::error_code ec;
  for (const auto& [id, item] : in_flight_) {
    context_.store().reschedule_outbox(id, unix_time_now(), item.attempts, item.last_error, ec);
  }
  in_flight_.clear();
}

void OutboxPump::pump() {
  if (stopped_) {
    return;
  }
  const std::size_t slots = policy_.max_in_flight;
  if (in_flight_.size() >= slots) {
    return;
  }
  std::error_code ec;
  const auto now = unix_time_now();
  // Picking and leasing is one step, so another instance sharing the
  // database never takes the same message; what is in flight here is not
  // due (its lease runs), so it is not picked again.
  const auto due = context_.store().lease_due_outbox(component_, now, now + policy_.lease_seconds,
                                                     slots - in_flight_.size(), ec);
  if (ec) {
    log_store_failure("read the queue", ec);
  }
  for (const auto& item : due) {
    if (item.attempts > 0 &&
        now - item.created_at >= static_cast<std::int64_t>(policy_.retry_max_age_seconds)) {
      give_up(item, {OutboxResult::Kind::expired, {}, item.last_error, {}});
      continue;
    }
    send(item);
  }
  arm_timer();
}

void OutboxPump::send(const OutboxItem& item) {
  in_flight_.emplace(item.id, item);
  const bool taken = send_(item, [this, alive = alive_, item](OutboxAttempt attempt) {
    if (*alive) {
      finished(item, std::move(attempt));
    }
  });
  if (!taken) {
    in_flight_.erase(item.id);
    std::error_code ec;
    context_.store().reschedule_outbox(item.id, unix_time_now() + policy_.retry_min_delay_seconds,
                                       item.attempts, "the transport's queue is full", ec);
  }
}

void OutboxPump::finished(const OutboxItem& item, OutboxAttempt attempt) {
  if (in_flight_.erase(item.id) == 0 || stopped_) {
    return; // stop() made it due again already
  }
  switch (attempt.kind) {
  case OutboxAttempt::Kind::sent:
    give_up(item, {OutboxResult::Kind::sent, std::move(attempt.code), std::move(attempt.text),
                   std::move(attempt.reference)});
    break;
  case OutboxAttempt::Kind::permanent:
    give_up(item,
            {OutboxResult::Kind::refused, std::move(attempt.code), std::move(attempt.text), {}});
    break;
  case OutboxAttempt::Kind::temporary: {
    const int attempts = item.attempts + 1;
    const auto now = unix_time_now();
    context_.log().info("component " + component_, "outbox: message " + std::to_string(item.id) +
                                                       " attempt " + std::to_string(attempts) +
                                                       " failed: " + attempt.text);
    if (now - item.created_at >= static_cast<std::int64_t>(policy_.retry_max_age_seconds)) {
      give_up(item,
              {OutboxResult::Kind::expired, std::move(attempt.code), std::move(attempt.text), {}});
      break;
    }
    xmpp::Backoff backoff(std::chrono::seconds(policy_.retry_min_delay_seconds),
                          std::chrono::seconds(policy_.retry_max_delay_seconds),
                          std::random_device{}());
    backoff.resume_after(static_cast<unsigned>(attempts - 1));
    const auto delay = std::chrono::duration_cast<std::chrono::seconds>(backoff.next()).count();
    std::error_code ec;
    context_.store().reschedule_outbox(item.id, now + std::max<std::int64_t>(delay, 1), attempts,
                                       attempt.text, ec);
    break;
  }
  }
  pump();
}

void OutboxPump::give_up(const OutboxItem& item, OutboxResult result) {
  std::error_code ec;
  context_.store().remove_outbox(item.id, ec);
  if (ec) {
    // It stays queued and will be tried again: a duplicate is better than a loss.
    log_store_failure("remove message " + std::to_string(item.id), ec);
  }
  on_done_(item, result);
}

void OutboxPump::arm_timer() {
  std::error_code ec;
  const auto next = context_.store().next_outbox_due(component_, ec);
  if (!next || stopped_) {
    return;
  }
  const auto wait = std::clamp<std::int64_t>(*next - unix_time_now(), 1, max_sleep_seconds);
  timer_->timer.expires_after(std::chrono::seconds(wait));
  timer_->timer.async_wait([this, alive = alive_](const boost::system::error_code& error) {
    if (!error && *alive) {
      pump();
    }
  });
}

void OutboxPump::log_store_failure(std::string_view what, const std::error_code& ec) {
  context_.log().error("component " + component_,
                       "outbox: cannot " + std::string(what) + ": " + ec.message());
}

} // namespace trestle::gateway
