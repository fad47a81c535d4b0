#include "outbox_pump.hpp"

#include "adapter.hpp"
#include "backoff.hpp"
#include "cancelled.hpp"
#include "log.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
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
      component_(context.domain().domain()), timer_(std::make_unique<Timer>(context.io())) {
  policy_.max_in_flight = std::max<std::size_t>(policy_.max_in_flight, 1);
}

OutboxPump::~OutboxPump() = default;

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
  pump();
  co_return Added::queued;
}

namespace {

/// One store write that outlives whoever asked for it.
Awaitable<void> write_reschedule(Outbox& outbox, Logger& log, std::string area, std::int64_t id,
                                 std::int64_t at, int attempts, std::string last_error) {
  std::error_code ec;
  co_await outbox.reschedule(id, at, attempts, last_error, ec);
  if (ec) {
    log.error(area,
              "outbox: cannot reschedule message " + std::to_string(id) + ": " + ec.message());
  }
}

Awaitable<void> write_removal(Outbox& outbox, Logger& log, std::string area, std::int64_t id) {
  std::error_code ec;
  co_await outbox.remove(id, ec);
  if (ec) {
    // It stays queued and will be tried again: a duplicate is better than a loss.
    log.error(area, "outbox: cannot remove message " + std::to_string(id) + ": " + ec.message());
  }
}

} // namespace

Awaitable<void> OutboxPump::run() {
  // Cancellation ends the loop below instead of throwing out of it, so that
  // what is in flight is written back first.
  co_await asio::this_coro::throw_if_cancelled(false);
  stopped_ = false;
  while (!co_await cancelled()) {
    wake_ = false;
    co_await fill();
    if (!wake_ && !co_await cancelled()) {
      co_await sleep_until_due();
    }
  }
  stopped_ = true;
  // What is in flight is due again at once, so a restart sends it.
  const auto now = unix_time_now();
  auto in_flight = std::move(in_flight_);
  in_flight_.clear();
  for (const auto& [id, item] : in_flight) {
    co_await write_reschedule(context_.repositories().outbox(), context_.log(),
                              "component " + component_, id, now, item.attempts, item.last_error);
  }
}

void OutboxPump::reschedule(std::int64_t id, std::int64_t at, int attempts,
                            std::string last_error) {
  asio::co_spawn(context_.io(),
                 write_reschedule(context_.repositories().outbox(), context_.log(),
                                  "component " + component_, id, at, attempts,
                                  std::move(last_error)),
                 asio::detached);
}

void OutboxPump::pump() {
  wake_ = true;
  timer_->timer.cancel();
}

Awaitable<void> OutboxPump::fill() {
  const std::size_t slots = policy_.max_in_flight;
  if (in_flight_.size() >= slots) {
    co_return;
  }
  std::error_code ec;
  const auto now = unix_time_now();
  const std::int64_t lease_until = now + policy_.lease_seconds;
  const std::size_t wanted = slots - in_flight_.size();
  // Picking and leasing is one step, so another instance sharing the
  // database never takes the same message; what is in flight here is not
  // due (its lease runs), so it is not picked again.
  const auto due =
      co_await context_.repositories().outbox().lease_due(component_, now, lease_until, wanted, ec);
  if (ec) {
    log_store_failure("read the queue", ec);
  }
  for (const auto& item : due) {
    if (item.attempts > 0 &&
        now - item.created_at >= static_cast<std::int64_t>(policy_.retry_max_age_seconds)) {
      give_up(item, {OutboxResult::Kind::expired, {}, item.last_error, {}});
    } else {
      send(item);
    }
  }
}

void OutboxPump::send(const OutboxItem& item) {
  in_flight_.emplace(item.id, item);
  const bool taken =
      send_(item, [this, item](OutboxAttempt attempt) { finished(item, std::move(attempt)); });
  if (!taken) {
    in_flight_.erase(item.id);
    reschedule(item.id, unix_time_now() + policy_.retry_min_delay_seconds, item.attempts,
               "the transport's queue is full");
  }
}

void OutboxPump::finished(const OutboxItem& item, OutboxAttempt attempt) {
  if (in_flight_.erase(item.id) == 0 || stopped_) {
    return; // run() ended and made it due again already
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
    reschedule(item.id, now + std::max<std::int64_t>(delay, 1), attempts, std::move(attempt.text));
    break;
  }
  }
  pump();
}

void OutboxPump::give_up(const OutboxItem& item, OutboxResult result) {
  asio::co_spawn(context_.io(),
                 write_removal(context_.repositories().outbox(), context_.log(),
                               "component " + component_, item.id),
                 asio::detached);
  on_done_(item, result);
}

Awaitable<void> OutboxPump::sleep_until_due() {
  std::error_code ec;
  const auto next = co_await context_.repositories().outbox().next_due(component_, ec);
  if (wake_) {
    co_return;
  }
  // Nothing due: a pump() wakes it, or the longest sleep ends.
  const auto wait = next ? std::clamp<std::int64_t>(*next - unix_time_now(), 1, max_sleep_seconds)
                         : max_sleep_seconds;
  timer_->timer.expires_after(std::chrono::seconds(wait));
  boost::system::error_code waited; // cancelled by pump() or by the cancellation
  co_await timer_->timer.async_wait(asio::redirect_error(asio::use_awaitable, waited));
}

void OutboxPump::log_store_failure(std::string_view what, const std::error_code& ec) {
  context_.log().error("component " + component_,
                       "outbox: cannot " + std::string(what) + ": " + ec.message());
}

} // namespace trestle::gateway
