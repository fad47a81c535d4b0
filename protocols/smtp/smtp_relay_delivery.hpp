#pragma once

// One delivery attempt to the relay; SmtpRelay's building block, not used
// elsewhere.

#include "smtp_client_session.hpp"
#include "smtp_relay.hpp"

#include <functional>
#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}

namespace trestle::smtp {

/// What a delivery tells its owner. Both are called from the delivery's
/// coroutine or from abort(), on the io_context's thread, and never after
/// the RelayDelivery is destroyed.
struct RelayDeliveryHooks {
  /// The outcome, once (the owner posts the sender's callback).
  std::function<void(SmtpOutcome)> on_outcome;
  /// The connection is closed; called once, after on_outcome. The owner may
  /// destroy the RelayDelivery inside.
  std::function<void()> on_closed;
};

/// One connection to the relay carrying one message: resolve, connect
/// (every address in turn), implicit TLS or STARTTLS with the certificate
/// checked against `server_name` and SNI, then the SmtpClientSession's
/// dialogue, each step under its deadline. QUIT's answer is awaited briefly
/// after the outcome is known.
class RelayDelivery {
public:
  RelayDelivery(boost::asio::io_context& io, std::shared_ptr<const SmtpRelayOptions> options,
                OutboundEnvelope envelope, RelayDeliveryHooks hooks);
  /// Closes the connection without calling the hooks; the coroutine ends
  /// when the event loop next runs it.
  ~RelayDelivery();
  RelayDelivery(const RelayDelivery&) = delete;
  RelayDelivery& operator=(const RelayDelivery&) = delete;

  /// Starts the attempt; it runs from the event loop, not inside this call.
  void start();
  /// Ends the attempt now: a temporary outcome `why` unless the outcome is
  /// known already; on_closed follows from the event loop.
  void abort(const std::string& why);

private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

} // namespace trestle::smtp
