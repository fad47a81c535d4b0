#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trestle::irc {

/// How a server folds the case of nicknames and channel names (ISUPPORT CASEMAPPING).
enum class CaseMapping {
  /// Only A-Z fold to a-z.
  ascii,
  /// A-Z and []\~ fold to a-z and {}|^ (the default of RFC 1459 servers).
  rfc1459,
  /// As rfc1459 but without ~ and ^.
  strict_rfc1459,
  /// PRECIS (RFC 7613). Only ASCII is folded here, as with `ascii`: full
  /// Unicode case folding is the server's business, so two names that differ
  /// only in the case of a non-ASCII letter compare unequal on our side.
  rfc7613,
};

/// What a server announced in RPL_ISUPPORT (005), with the defaults that hold
/// before or without it (https://modern.ircdocs.horse/#rplisupport-005).
class ISupport {
public:
  /// The mapping assumed until the server names one.
  static constexpr CaseMapping default_case_mapping = CaseMapping::rfc1459;
  static constexpr std::string_view default_chantypes = "#&";
  static constexpr std::string_view default_prefix = "(ov)@+";
  /// Tokens kept for value(): real servers send a few dozen, and a hostile
  /// one must not grow our memory by sending more.
  static constexpr std::size_t max_tokens = 256;

  ISupport();

  /// Applies the parameters of one RPL_ISUPPORT: the first (our nick) and
  /// the last (the human-readable text) are skipped, the rest are tokens.
  void feed(const std::vector<std::string>& params);
  /// Applies one token: `KEY`, `KEY=value` (with `\xHH` escapes; control
  /// characters are dropped) or `-KEY`, which restores the default. A value
  /// that does not parse leaves the setting as it was; an unknown
  /// CASEMAPPING counts as `ascii`, which folds the least.
  void apply(std::string_view token);

  CaseMapping case_mapping() const { return case_mapping_; }
  /// Characters that start a channel name (CHANTYPES).
  const std::string& chantypes() const { return chantypes_; }
  /// Membership modes, highest rank first (`ov` by default).
  const std::string& prefix_modes() const { return prefix_modes_; }
  /// Membership prefixes in the same order (`@+` by default).
  const std::string& prefix_symbols() const { return prefix_symbols_; }
  /// NICKLEN, when announced.
  std::optional<std::size_t> nick_length() const { return nick_length_; }
  /// CHANNELLEN, when announced with a value (without one it means no limit).
  std::optional<std::size_t> channel_length() const { return channel_length_; }
  /// NETWORK, or empty.
  const std::string& network() const { return network_; }
  /// The value of any announced token, unescaped ("" for a token without one).
  std::optional<std::string> value(std::string_view key) const;

  /// `name` folded by the server's case mapping, to compare or to key a map.
  std::string fold(std::string_view name) const;
  /// True when `a` and `b` name the same nick or channel on this server.
  bool equal(std::string_view a, std::string_view b) const;
  /// True when `name` starts with one of CHANTYPES.
  bool is_channel(std::string_view name) const;

  /// The membership {mode, prefix} for a mode letter, e.g. 'o' gives {'o', '@'}.
  std::optional<std::pair<char, char>> membership_by_mode(char mode) const;
  /// The membership {mode, prefix} for a prefix, e.g. '@' gives {'o', '@'}.
  std::optional<std::pair<char, char>> membership_by_prefix(char prefix) const;
  /// A NAMES entry without its membership prefixes (all of them, for
  /// multi-prefix); they go to `*prefixes_out` when it is given.
  std::string_view strip_prefixes(std::string_view nick_with_prefixes,
                                  std::string* prefixes_out = nullptr) const;

private:
  void set_prefix(std::string_view value);
  static void set_length(std::optional<std::size_t>& length, bool removal, std::string_view value);
  char fold_char(char c) const;

  CaseMapping case_mapping_ = default_case_mapping;
  std::string chantypes_;
  std::string prefix_modes_;
  std::string prefix_symbols_;
  std::optional<std::size_t> nick_length_;
  std::optional<std::size_t> channel_length_;
  std::string network_;
  std::map<std::string, std::string, std::less<>> tokens_;
};

} // namespace trestle::irc
