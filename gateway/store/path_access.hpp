#pragma once

// Why a file cannot be written, in words an operator can act on. SQLite only
// says "unable to open database file"; with a bind-mounted data folder that
// belongs to another uid, the owner and the mode are what matter.

#include <string>

namespace trestle::gateway {

/// What in the permission bits keeps the user `uid` (group `gid`) from
/// creating or writing `file`: its folder missing or not writable, or the file
/// itself not writable, with the owner and mode found. "" when nothing does
/// (root may write anything). Reads stat() only: it explains a failure that
/// happened, it does not predict one.
std::string write_access_problem(const std::string& file, unsigned uid, unsigned gid);

} // namespace trestle::gateway
