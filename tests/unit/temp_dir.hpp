#pragma once

// Test support: a temporary directory that goes away with the test.

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace trestle::test {

/// A new directory under the system's temporary directory, removed with
/// everything in it when this object goes. mkdtemp makes each one unique, so
/// tests that run at the same time never share one.
class TempDir {
public:
  explicit TempDir(const std::string& prefix = "trestle-test") {
    std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
    }
    directory_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  /// The path of `name` in the directory, whether it exists or not.
  std::string path(const std::string& name) const { return (directory_ / name).string(); }

  /// Writes `text` to the file `name` in the directory; returns its path.
  std::string write(const std::string& name, const std::string& text) const {
    const auto file = path(name);
    std::ofstream(file) << text;
    return file;
  }

private:
  std::filesystem::path directory_;
};

} // namespace trestle::test
