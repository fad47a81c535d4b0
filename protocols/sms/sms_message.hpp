#pragma once

#include <string>
#include <vector>

namespace trestle::sms {

/// How a provider answered a request to send a message.
struct ProviderAnswer {
  enum class Kind {
    /// Taken for delivery; delivery reports follow.
    accepted,
    /// Try again later (a 5xx, 429, no answer).
    temporary,
    /// Refused for good (bad number, bad credentials, ...).
    permanent,
  };
  Kind kind = Kind::temporary;
  /// The provider's error code ("21211") or the HTTP status; empty when none.
  std::string code;
  /// The provider's words, or why there was no answer; for the sender.
  std::string text;
  /// The provider's id of the message, when it gives one (Twilio's `sid`).
  std::string provider_id;
};

/// A media attachment of an inbound MMS.
struct MediaItem {
  std::string url;
  std::string content_type;
};

/// A message from a phone (MO), as a provider's webhook gave it.
struct InboundSms {
  /// The provider's id of the message: a repeated webhook carries the same
  /// one, so it is delivered once. Empty when the provider gives none.
  std::string provider_id;
  /// The sender's number and the number it was sent to, as the provider
  /// wrote them (normalised by the adapter).
  std::string from;
  std::string to;
  /// The text in UTF-8.
  std::string body;
  std::vector<MediaItem> media;
};

/// What a delivery report or status callback says.
enum class DeliveryState { delivered, failed, pending };

/// A delivery report (DLR) or status callback.
struct StatusReport {
  /// Trestle's correlation token, from the callback URL.
  std::string token;
  /// The provider's id of the message, when it gives one.
  std::string provider_id;
  DeliveryState state = DeliveryState::pending;
  /// The provider's error code and its words, for failures.
  std::string code;
  std::string text;
};

} // namespace trestle::sms
