#pragma once

#include <system_error>
#include <type_traits>

namespace trestle::gateway {

/// Why a store operation failed. The kind is what callers act on (retry on
/// `busy`, give up and alert on `corrupt`); the backend's own wording is not
/// part of the code.
enum class StoreErrc {
  /// Another connection holds the lock longer than the busy timeout; retry later.
  busy = 1,
  /// The database cannot be written (permissions, read-only medium).
  read_only,
  /// The write breaks a uniqueness rule, e.g. a JID already mapped to another address.
  constraint,
  /// The database file is damaged or is not a database.
  corrupt,
  /// The disk or the database's size limit is full.
  full,
  /// The operating system failed to read or write the file.
  io_error,
  /// Any other failure (out of memory, value too big, misuse).
  failed,
  /// The database did not answer within the store's deadline (a lock held
  /// elsewhere, a slow disk, too many calls waiting); retry later.
  timeout,
};

/// The "trestle.store" error category.
const std::error_category& store_category() noexcept;

/// Wraps `errc` in a std::error_code of store_category().
std::error_code make_error_code(StoreErrc errc) noexcept;

} // namespace trestle::gateway

/// Lets a StoreErrc compare equal to, and convert to, a std::error_code.
template <> struct std::is_error_code_enum<trestle::gateway::StoreErrc> : std::true_type {};
