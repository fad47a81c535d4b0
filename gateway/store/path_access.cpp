#include "path_access.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <sys/stat.h>

namespace trestle::gateway {
namespace {

/// Whether the permission bits of `info` let `uid`/`gid` write.
bool may_write(const struct stat& info, unsigned uid, unsigned gid) {
  if (info.st_uid == uid) {
    return (info.st_mode & S_IWUSR) != 0;
  }
  if (info.st_gid == gid) {
    return (info.st_mode & S_IWGRP) != 0;
  }
  return (info.st_mode & S_IWOTH) != 0;
}

std::string octal_mode(mode_t mode) {
  std::string text;
  for (int shift = 6; shift >= 0; shift -= 3) {
    text.push_back(static_cast<char>('0' + ((mode >> shift) & 7)));
  }
  return text;
}

/// "the folder /x is not writable by uid 1 (gid 1): it belongs to uid 0, gid 0, mode 755"
std::string refusal(std::string_view what, const std::string& path, const struct stat& info,
                    unsigned uid, unsigned gid) {
  std::string text(what);
  text.append(" ")
      .append(path)
      .append(" is not writable by uid ")
      .append(std::to_string(uid))
      .append(" (gid ")
      .append(std::to_string(gid))
      .append("): it belongs to uid ")
      .append(std::to_string(info.st_uid))
      .append(", gid ")
      .append(std::to_string(info.st_gid))
      .append(", mode ")
      .append(octal_mode(info.st_mode & 0777));
  return text;
}

} // namespace

std::string write_access_problem(const std::string& file, unsigned uid, unsigned gid) {
  auto folder = std::filesystem::path(file).parent_path();
  if (folder.empty()) {
    folder = ".";
  }
  struct stat info {};
  if (::stat(folder.c_str(), &info) != 0) {
    std::string text = "the folder ";
    return text.append(folder.string()).append(": ").append(std::strerror(errno));
  }
  if (uid == 0) {
    return "";
  }
  // SQLite writes its journal files beside the database, so the folder must
  // be writable even when the file exists.
  if (!may_write(info, uid, gid)) {
    return refusal("the folder", folder.string(), info, uid, gid);
  }
  if (::stat(file.c_str(), &info) == 0 && !may_write(info, uid, gid)) {
    return refusal("the file", file, info, uid, gid);
  }
  return "";
}

} // namespace trestle::gateway
