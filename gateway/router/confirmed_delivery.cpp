#include "confirmed_delivery.hpp"

#include "log.hpp"
#include "namespaces.hpp"
#include "random_hex.hpp"
#include "stanza.hpp"
#include "store_error.hpp"
#include "xml_stream_parser.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdint>
#include <map>
#include <string_view>
#include <utility>
#include <vector>

namespace trestle::gateway {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

constexpr std::string_view ping_id_prefix = "trestle-confirm-";

/// The stanza as kept: with a XEP-0359 origin-id equal to its id, so that a
/// repeat after a reconnect can be recognised by clients.
xmpp::Element with_origin_id(const xmpp::Element& stanza) {
  xmpp::Element kept = stanza;
  const auto id = kept.attr_or("id");
  if (kept.name() == "message" && kept.attr_or("type") != "error" && !id.empty() &&
      !kept.find("origin-id", xmpp::ns::sid)) {
    kept.append("origin-id", std::string(xmpp::ns::sid)).set_attr("id", id);
  }
  return kept;
}

} // namespace

struct ConfirmedDelivery::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io_context, std::string component_domain, UndeliveredStanzas& kept_store,
       DeliveryStream delivery_stream, Logger& logger, ConfirmedDeliveryOptions delivery_options)
      : io(io_context), component(std::move(component_domain)), store(kept_store),
        stream(std::move(delivery_stream)), log(logger), options(delivery_options), wake(io),
        confirm_timer(io), area("component " + component) {}

  asio::io_context& io;
  std::string component;
  UndeliveredStanzas& store;
  DeliveryStream stream;
  Logger& log;
  ConfirmedDeliveryOptions options;
  asio::steady_timer wake;
  asio::steady_timer confirm_timer;
  std::string area;
  bool started = false;
  bool stopped = false;
  /// Some kept stanzas are not sent on the current stream yet: the pump
  /// sends them, in order, and new ones wait behind them.
  bool backlog = true;
  bool pumping = false;
  bool confirm_armed = false;
  /// A store read failed, or the stream refused a stanza though it said it
  /// was ready: the pump waits for a poke or retry_delay.
  bool paused = false;
  bool full_reported = false;
  /// The highest id sent on the current stream.
  std::int64_t sent_upto = 0;
  /// Counts streams, so that a pump that read before a reconnect starts over.
  std::uint64_t stream_number = 0;
  std::size_t kept = 0;
  std::uint64_t pings = 0;
  const std::string run_token = random_hex(8);
  /// Sent since the last ping.
  std::vector<std::int64_t> unconfirmed;
  /// The stanzas each ping that is out confirms, by ping id.
  std::map<std::string, std::vector<std::int64_t>> batches;

  asio::awaitable<void> run();
  asio::awaitable<void> pump();
  asio::awaitable<void> forget(std::vector<std::int64_t> ids);
  /// `id` went out on the current stream: it waits for the next confirmation.
  void sent(std::int64_t id);
  void confirm();
  void arm_confirm();
  void poke() { wake.cancel(); }
};

asio::awaitable<void> ConfirmedDelivery::Impl::run() {
  auto self = shared_from_this();
  std::error_code ec;
  kept = co_await store.count(component, ec);
  if (ec) {
    log.error(area, "cannot count the stanzas waiting for the XMPP server: " + ec.message());
  } else if (kept > 0) {
    log.info(area, std::to_string(kept) +
                       " stanzas from an earlier run wait for the XMPP server; sending them again");
  }
  while (!stopped) {
    if (backlog && stream.ready() && !paused) {
      co_await pump();
      continue;
    }
    // Until poked (a stream up, congestion over, a new stanza), or
    // retry_delay after a pause.
    boost::system::error_code waited;
    if (paused) {
      wake.expires_after(options.retry_delay);
    } else {
      wake.expires_at(Clock::time_point::max());
    }
    co_await wake.async_wait(asio::redirect_error(asio::use_awaitable, waited));
    paused = false;
  }
}

asio::awaitable<void> ConfirmedDelivery::Impl::pump() {
  backlog = false;
  pumping = true;
  const auto stream_at_start = stream_number;
  std::error_code ec;
  const auto items = co_await store.after(component, sent_upto, options.replay_batch, ec);
  pumping = false;
  if (stopped) {
    co_return;
  }
  if (ec) {
    backlog = true;
    paused = true;
    log.error(area, "cannot read the stanzas waiting for the XMPP server: " + ec.message() +
                        "; trying again");
    co_return;
  }
  if (stream_at_start != stream_number) {
    backlog = true; // a new stream starts from the first again
    co_return;
  }
  std::vector<std::int64_t> unreadable;
  for (const auto& item : items) {
    if (item.id <= sent_upto) {
      continue; // sent by send() meanwhile
    }
    if (!stream.ready()) {
      backlog = true;
      break;
    }
    auto stanza = xmpp::parse_stanza(item.stanza);
    if (!stanza) {
      log.error(area, "a kept stanza (" + std::to_string(item.id) + ") cannot be read; dropped");
      unreadable.push_back(item.id);
      sent_upto = item.id;
      continue;
    }
    if (!stanza->find("delay", xmpp::ns::delay)) {
      xmpp::add_delay(*stanza, component, xmpp::xep0082_datetime(item.created_at));
    }
    if (!stream.send(*stanza)) {
      backlog = true;
      paused = true;
      break;
    }
    sent(item.id);
  }
  if (items.size() == options.replay_batch) {
    backlog = true;
  }
  if (!unreadable.empty()) {
    asio::co_spawn(io, forget(std::move(unreadable)), asio::detached);
  }
}

asio::awaitable<void> ConfirmedDelivery::Impl::forget(std::vector<std::int64_t> ids) {
  auto self = shared_from_this();
  std::error_code ec;
  const auto removed = co_await store.remove(component, ids, ec);
  if (ec) {
    log.warning(area, "cannot forget " + std::to_string(ids.size()) + " confirmed stanzas: " +
                          ec.message() + "; they will be sent again after a reconnect");
    co_return;
  }
  kept -= std::min(kept, removed);
  if (kept < options.limit) {
    full_reported = false;
  }
}

void ConfirmedDelivery::Impl::sent(std::int64_t id) {
  sent_upto = id;
  unconfirmed.push_back(id);
  if (unconfirmed.size() >= options.confirm_batch) {
    confirm();
  } else {
    arm_confirm();
  }
}

void ConfirmedDelivery::Impl::arm_confirm() {
  if (confirm_armed || stopped) {
    return;
  }
  confirm_armed = true;
  confirm_timer.expires_after(options.confirm_delay);
  confirm_timer.async_wait([self = shared_from_this()](const boost::system::error_code& error) {
    self->confirm_armed = false;
    if (!error && !self->stopped) {
      self->confirm();
    }
  });
}

void ConfirmedDelivery::Impl::confirm() {
  if (unconfirmed.empty()) {
    return;
  }
  // A ping from the component to itself: the server routes it back over
  // the same stream once it has processed everything sent before it,
  // whoever the recipients were and whichever server hosts them.
  // The run's own token: a ping an earlier process sent just before it died
  // may still come back, and must not confirm this one's.
  auto ping_id = std::string(ping_id_prefix) + run_token + "-" + std::to_string(++pings);
  xmpp::Element ping("iq");
  ping.set_attr("type", "get");
  ping.set_attr("id", ping_id);
  ping.set_attr("from", component);
  ping.set_attr("to", component);
  ping.append("ping", std::string(xmpp::ns::ping));
  if (!stream.send(ping)) {
    arm_confirm(); // down or full: what was sent is confirmed later, or sent again
    return;
  }
  batches.emplace(std::move(ping_id), std::move(unconfirmed));
  unconfirmed.clear();
}

ConfirmedDelivery::ConfirmedDelivery(asio::io_context& io, std::string component,
                                     UndeliveredStanzas& store, DeliveryStream stream, Logger& log,
                                     ConfirmedDeliveryOptions options)
    : impl_(std::make_shared<Impl>(io, std::move(component), store, std::move(stream), log,
                                   options)) {}

ConfirmedDelivery::~ConfirmedDelivery() {
  // Not stop(): the stream may be gone already.
  impl_->stopped = true;
  impl_->wake.cancel();
  impl_->confirm_timer.cancel();
}

void ConfirmedDelivery::start() {
  auto& impl = *impl_;
  if (impl.started) {
    return;
  }
  impl.started = true;
  asio::co_spawn(impl.io, impl.run(), asio::detached);
}

void ConfirmedDelivery::stop() {
  auto& impl = *impl_;
  if (!impl.stopped && impl.stream.ready()) {
    // Asks now for what was sent since the last ping: the answer comes
    // before the server closes the stream, so a clean restart repeats nothing.
    impl.confirm();
  }
  impl.stopped = true;
  impl.wake.cancel();
  impl.confirm_timer.cancel();
}

Awaitable<bool> ConfirmedDelivery::send(const xmpp::Element& stanza, std::error_code& ec) {
  static const std::vector<Correlation> nothing;
  return send(stanza, nothing, ec);
}

Awaitable<bool> ConfirmedDelivery::send(const xmpp::Element& stanza,
                                        const std::vector<Correlation>& remember,
                                        std::error_code& ec) {
  auto self = impl_;
  auto& impl = *self;
  ec.clear();
  if (impl.stopped) {
    ec = make_error_code(StoreErrc::failed);
    co_return false;
  }
  if (impl.kept >= impl.options.limit) {
    if (!impl.full_reported) {
      impl.full_reported = true;
      impl.log.warning(impl.area, std::to_string(impl.kept) +
                                      " stanzas wait for the XMPP server already; refusing more "
                                      "from the legacy network until it confirms some");
    }
    ec = make_error_code(StoreErrc::full);
    co_return false;
  }
  const auto kept = with_origin_id(stanza);
  const Undelivered record{0, impl.component, xmpp::serialize(kept, xmpp::ns::component),
                           unix_time_now(), remember};
  const auto id = co_await impl.store.add(record, ec);
  if (ec) {
    co_return false;
  }
  if (id == 0) {
    impl.log.debug(impl.area, "a message from the legacy network was taken before; not again");
    co_return true;
  }
  ++impl.kept;
  if (id <= impl.sent_upto) {
    co_return true; // the pump found and sent it meanwhile
  }
  if (!impl.stopped && !impl.pumping && !impl.backlog && impl.stream.ready() &&
      impl.stream.send(kept)) {
    impl.sent(id);
    co_return true;
  }
  impl.backlog = true;
  impl.poke();
  co_return true;
}

void ConfirmedDelivery::stream_up() {
  stream_down(); // everything unconfirmed goes out again on the new stream
  impl_->poke();
}

void ConfirmedDelivery::stream_down() {
  auto& impl = *impl_;
  ++impl.stream_number;
  impl.sent_upto = 0;
  impl.unconfirmed.clear();
  impl.batches.clear();
  impl.backlog = true;
}

void ConfirmedDelivery::stream_uncongested() {
  impl_->poke();
}

bool ConfirmedDelivery::take_answer(const xmpp::Element& stanza) {
  auto& impl = *impl_;
  const auto id = stanza.attr_or("id");
  if (stanza.name() != "iq" || !id.starts_with(ping_id_prefix) ||
      stanza.attr_or("from") != impl.component) {
    return false; // only the server routes our own domain to us
  }
  // The ping itself, routed back; or the server's answer in its place (an
  // error, say). Either way the server processed what came before it.
  const auto found = impl.batches.find(id);
  if (found == impl.batches.end()) {
    return true; // from a stream that is gone, or answered already
  }
  auto ids = std::move(found->second);
  impl.batches.erase(found);
  asio::co_spawn(impl.io, impl.forget(std::move(ids)), asio::detached);
  return true;
}

std::size_t ConfirmedDelivery::waiting() const {
  return impl_->kept;
}

} // namespace trestle::gateway
