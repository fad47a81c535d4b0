#include "smtp_relay.hpp"

#include "smtp_relay_delivery.hpp"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <deque>
#include <map>

namespace trestle::smtp {
namespace {

namespace asio = boost::asio;
using Done = std::function<void(SmtpOutcome)>;

constexpr std::string_view shutting_down = "shutting down";

SmtpOutcome shutdown_outcome() {
  SmtpOutcome outcome;
  outcome.kind = SmtpOutcome::Kind::temporary;
  outcome.text = shutting_down;
  return outcome;
}

} // namespace

struct SmtpRelay::Impl : std::enable_shared_from_this<Impl> {
  /// A message waiting for a connection.
  struct Waiting {
    OutboundEnvelope envelope;
    Done done;
  };
  /// A delivery in progress; `done` is empty once the outcome went out.
  struct Running {
    std::unique_ptr<RelayDelivery> delivery;
    Done done;
  };

  Impl(asio::io_context& io_context, SmtpRelayOptions relay, RelayLog sink)
      : io(io_context), options(std::make_shared<const SmtpRelayOptions>(std::move(relay))),
        log(std::move(sink)) {}

  asio::io_context& io;
  /// Shared with the deliveries, which may outlive this object briefly.
  std::shared_ptr<const SmtpRelayOptions> options;
  RelayLog log;
  SmtpRelayStats stats;
  std::deque<Waiting> waiting;
  std::map<std::uint64_t, Running> running;
  std::uint64_t next_id = 0;
  bool stopped = false;

  void say(bool warning, const std::string& line) {
    if (log) {
      log(warning, line);
    }
  }
  std::string where() const { return options->host + ":" + std::to_string(options->port); }
  std::size_t capacity() const { return std::max<std::size_t>(options->max_connections, 1); }
  /// Deliveries waiting or running whose outcome is not known yet.
  std::size_t undecided() const {
    const auto running_undecided = std::count_if(
        running.begin(), running.end(), [](const auto& entry) { return bool(entry.second.done); });
    return waiting.size() + static_cast<std::size_t>(running_undecided);
  }

  void start_next();
  void on_outcome(std::uint64_t id, SmtpOutcome outcome);
  void on_closed(std::uint64_t id);
  void give(Done done, SmtpOutcome outcome, bool log_it);
};

void SmtpRelay::Impl::start_next() {
  while (!stopped && running.size() < capacity() && !waiting.empty()) {
    Waiting job = std::move(waiting.front());
    waiting.pop_front();
    const auto id = next_id++;
    // The hooks hold `this`: the delivery calls them only while it exists,
    // and it is owned by `running`.
    RelayDeliveryHooks hooks;
    hooks.on_outcome = [this, id](SmtpOutcome outcome) {
      on_outcome(id, std::move(outcome));
    };
    hooks.on_closed = [this, id] {
      on_closed(id);
    };
    auto& slot = running[id];
    slot.done = std::move(job.done);
    slot.delivery =
        std::make_unique<RelayDelivery>(io, options, std::move(job.envelope), std::move(hooks));
    ++stats.attempts;
    slot.delivery->start();
  }
}

void SmtpRelay::Impl::on_outcome(std::uint64_t id, SmtpOutcome outcome) {
  const auto found = running.find(id);
  if (found == running.end() || !found->second.done) {
    return;
  }
  Done done = std::move(found->second.done);
  found->second.done = nullptr;
  give(std::move(done), std::move(outcome), !stopped);
}

void SmtpRelay::Impl::on_closed(std::uint64_t id) {
  running.erase(id);
  start_next();
}

void SmtpRelay::Impl::give(Done done, SmtpOutcome outcome, bool log_it) {
  std::string line = "relay " + where() + ": ";
  switch (outcome.kind) {
  case SmtpOutcome::Kind::sent:
    ++stats.sent;
    line += "message accepted";
    if (!outcome.refused.empty()) {
      line += ", " + std::to_string(outcome.refused.size()) + " recipient(s) refused";
    }
    line += " (" + std::to_string(outcome.code) + " " + outcome.text + ")";
    break;
  case SmtpOutcome::Kind::permanent:
    ++stats.permanent_failures;
    line += "message refused for good (" + std::to_string(outcome.code) + " " + outcome.text + ")";
    break;
  case SmtpOutcome::Kind::temporary:
    ++stats.temporary_failures;
    line += "delivery failed for now: " +
            (outcome.code != 0 ? std::to_string(outcome.code) + " " : std::string()) + outcome.text;
    break;
  }
  if (log_it) {
    say(outcome.kind == SmtpOutcome::Kind::temporary, line);
  }
  // Posted: never inside send() or stop(), and never once the relay is gone.
  asio::post(io, [weak = weak_from_this(), done = std::move(done),
                  outcome = std::move(outcome)]() mutable {
    if (const auto self = weak.lock(); self && done) {
      done(std::move(outcome));
    }
  });
}

SmtpRelay::SmtpRelay(asio::io_context& io, SmtpRelayOptions options, RelayLog log)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(log))) {
  const auto& relay = *impl_->options;
  if (relay.security == SmtpRelayOptions::Security::none) {
    impl_->say(true, "the link to the relay " + impl_->where() +
                         " is not encrypted (security none): messages and the relay login "
                         "travel in the clear unless the relay offers STARTTLS");
  } else if (!relay.verify_certificate) {
    impl_->say(true, "the certificate of the relay " + impl_->where() + " is not checked");
  }
}

SmtpRelay::~SmtpRelay() {
  auto& impl = *impl_;
  impl.stopped = true;
  impl.log = nullptr;
  impl.waiting.clear();
  // Destroying a delivery closes its connection without calling its hooks.
  impl.running.clear();
}

bool SmtpRelay::send(OutboundEnvelope envelope, std::function<void(SmtpOutcome)> done) {
  auto& impl = *impl_;
  if (impl.stopped) {
    impl.give(std::move(done), shutdown_outcome(), false);
    return true;
  }
  if (impl.running.size() >= impl.capacity() && impl.waiting.size() >= impl.options->max_waiting) {
    return false;
  }
  impl.waiting.push_back({std::move(envelope), std::move(done)});
  impl.start_next();
  return true;
}

std::size_t SmtpRelay::pending() const {
  return impl_->undecided();
}

void SmtpRelay::stop() {
  auto& impl = *impl_;
  if (!impl.stopped && impl.undecided() > 0) {
    impl.say(false, "relay " + impl.where() + ": stopping; " + std::to_string(impl.running.size()) +
                        " deliveries running and " + std::to_string(impl.waiting.size()) +
                        " waiting end for now");
  }
  impl.stopped = true;
  // abort() reports at once and closes; the entries leave `running` when
  // their coroutines end.
  for (auto& entry : impl.running) {
    entry.second.delivery->abort(std::string(shutting_down));
  }
  auto queued = std::move(impl.waiting);
  impl.waiting.clear();
  for (auto& job : queued) {
    impl.give(std::move(job.done), shutdown_outcome(), false);
  }
}

const SmtpRelayStats& SmtpRelay::stats() const {
  return impl_->stats;
}

} // namespace trestle::smtp
