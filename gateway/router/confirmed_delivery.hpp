#pragma once

#include "element.hpp"
#include "repositories.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace trestle::gateway {

class Logger;

/// What ConfirmedDelivery needs of its component stream.
struct DeliveryStream {
  /// True while a stanza sent now goes out at once: the stream is up and
  /// not congested.
  std::function<bool()> ready;
  /// Queues a stanza on the stream; false when the stream refused it.
  std::function<bool(const xmpp::Element&)> send;
};

struct ConfirmedDeliveryOptions {
  /// Stanzas kept unconfirmed at most; more are refused (StoreErrc::full).
  std::size_t limit = 10000;
  /// A confirmation is asked for this long after the first unconfirmed
  /// stanza at most...
  std::chrono::milliseconds confirm_delay{50};
  /// ...or at once when this many wait for one.
  std::size_t confirm_batch = 128;
  /// Kept stanzas read from the store at a time when they are sent again.
  std::size_t replay_batch = 128;
  /// After a failed store read, or a stanza the stream refused though it
  /// said it was ready, the next try waits this long at most.
  std::chrono::milliseconds retry_delay{1000};
};

/// At-least-once delivery to the XMPP server for what a legacy network was
/// told is safe (a mail answered 250, a text answered 200).
///
/// deliver() writes the stanza to the store before it answers, and only
/// then sends it. A component stream has no acknowledgements, but it is
/// ordered: when a XEP-0199 ping that the component sends to itself after a
/// stanza comes back, the server has processed that stanza. So, once per
/// batch, such a ping goes out, and its return removes the stanzas sent
/// before it.
/// Whatever is unconfirmed when the stream goes down, or when the process
/// dies, is sent again, in the order it came, when a stream is up again:
/// with the same `id` and `origin-id` (XEP-0359), so that a client can drop
/// a repeat, and with a XEP-0203 delay. Single-threaded: the io_context's
/// thread only.
class ConfirmedDelivery {
public:
  /// `store`, `log` and `io` must outlive this object and every coroutine
  /// of it that the loop still holds.
  ConfirmedDelivery(boost::asio::io_context& io, std::string component, UndeliveredStanzas& store,
                    DeliveryStream stream, Logger& log, ConfirmedDeliveryOptions options = {});
  ~ConfirmedDelivery();
  ConfirmedDelivery(const ConfirmedDelivery&) = delete;
  ConfirmedDelivery& operator=(const ConfirmedDelivery&) = delete;

  /// Starts sending what an earlier run left unconfirmed, once the stream is up.
  void start();
  /// Stops sending, after asking the server to confirm what was sent (call
  /// it before the stream is closed); what is unconfirmed stays in the
  /// store for the next run.
  void stop();

  /// Keeps `stanza` (a message or presence to a user, with an `id`), and
  /// `remember` in the same transaction, and sends it now or when the stream
  /// can take it. True once it is in the store, or when a correlation of
  /// `remember` marked IfPresent::refuse was kept before (the legacy message
  /// was taken already: it is not kept or sent again); false with `ec` when
  /// it could not be kept: the legacy side must be refused for now (451, 503).
  [[nodiscard]] Awaitable<bool> send(const xmpp::Element& stanza,
                                     const std::vector<Correlation>& remember, std::error_code& ec);
  /// send() with nothing to remember.
  [[nodiscard]] Awaitable<bool> send(const xmpp::Element& stanza, std::error_code& ec);

  /// A stream was authenticated: everything unconfirmed goes out again.
  void stream_up();
  /// The stream went down: pings in flight will not be answered.
  void stream_down();
  /// The stream's congestion ended: what waited goes out.
  void stream_uncongested();
  /// Takes one of its own pings coming back, or the server's answer in its
  /// place (true), so that nobody else sees it.
  bool take_answer(const xmpp::Element& stanza);

  /// Stanzas kept and not yet confirmed.
  std::size_t waiting() const;

private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

} // namespace trestle::gateway
