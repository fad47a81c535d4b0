#pragma once

#include <optional>
#include <string>
#include <string_view>

/// IRC addresses in biboumi's JID forms (sans-io).
///
/// Multi-server mode: `#chan%irc.server`, `nick%irc.server`, `irc.server`.
/// Fixed-server mode: `#chan`, `nick`, and the empty localpart for the server.
/// Characters a JID localpart cannot carry are written with XEP-0106 escapes.
namespace trestle::irc {

/// Channel prefixes assumed before the server's CHANTYPES is known.
inline constexpr std::string_view default_channel_prefixes = "#&+!";

/// What an IRC address names.
enum class AddressKind { channel, user, server };

/// A parsed IRC address: a channel or a nickname on a server, or the server.
struct IrcAddress {
  AddressKind kind = AddressKind::server;
  /// The channel (with its prefix) or the nickname, as spelled; empty for a server.
  std::string name;
  /// The server's hostname or IPv4 address, lowercase.
  std::string server;

  friend bool operator==(const IrcAddress&, const IrcAddress&) = default;
};

/// How addresses are read on one component.
struct AddressRules {
  /// Characters that start a channel name (the server's CHANTYPES once known).
  std::string channel_prefixes{default_channel_prefixes};
  /// When not empty, the one server this component serves (normalised, see
  /// normalize_server_name()); addresses then carry no server part.
  std::string fixed_server;
};

/// Parses an address typed by a user (gateway prompt): the localpart forms
/// above, unescaped, with surrounding blanks ignored. On failure returns
/// nullopt and, if `error` is given, the reason in English.
std::optional<IrcAddress> parse_typed_address(std::string_view typed, const AddressRules& rules,
                                              std::string* error = nullptr);
/// Parses a JID localpart (XEP-0106 escaped). In fixed-server mode the empty
/// localpart is the server itself.
std::optional<IrcAddress> parse_localpart(std::string_view localpart, const AddressRules& rules,
                                          std::string* error = nullptr);
/// The JID localpart for `address` (escaped). In fixed-server mode the
/// server part is not written, so `address.server` must be the fixed server.
std::string to_localpart(const IrcAddress& address, const AddressRules& rules);
/// The form a user would type for `address` (the inverse of parse_typed_address()).
std::string to_typed(const IrcAddress& address, const AddressRules& rules);

/// Checks a server name (hostname or IPv4 address; a trailing dot is
/// dropped) and returns it in lowercase.
std::optional<std::string> normalize_server_name(std::string_view name,
                                                 std::string* error = nullptr);
/// Checks a channel name: a prefix from `prefixes`, then no blank, comma or control character.
bool is_valid_channel_name(std::string_view name, std::string_view prefixes,
                           std::string* error = nullptr);
/// Checks a nickname: no blank, control character or `,*?!@%.:`, and not
/// starting with a digit, `-` or a channel prefix.
bool is_valid_nickname(std::string_view nick, std::string_view prefixes,
                       std::string* error = nullptr);

} // namespace trestle::irc
