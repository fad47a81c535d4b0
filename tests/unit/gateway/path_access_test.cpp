#include "gateway/store/path_access.hpp"
#include "temp_dir.hpp"

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace {

using trestle::gateway::write_access_problem;
using trestle::test::TempDir;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// Owner and group of `path`, to ask as someone else (never as root).
struct Owner {
  unsigned uid;
  unsigned gid;
};

Owner owner_of(const std::string& path) {
  struct stat info {};
  BOOST_REQUIRE(::stat(path.c_str(), &info) == 0);
  return {static_cast<unsigned>(info.st_uid), static_cast<unsigned>(info.st_gid)};
}

/// A uid and gid other than the owner's, as a container user is.
Owner stranger(const Owner& owner) {
  return {owner.uid + 10001, owner.gid + 10001};
}

void set_mode(const std::string& path, int mode) {
  std::filesystem::permissions(path, static_cast<std::filesystem::perms>(mode),
                               std::filesystem::perm_options::replace);
}

/// The folder `data` in `dir`, with the permission bits `mode`.
std::string data_folder(const TempDir& dir, int mode) {
  const auto folder = dir.path("data");
  std::filesystem::create_directory(folder);
  set_mode(folder, mode);
  return folder;
}

} // namespace

BOOST_AUTO_TEST_SUITE(path_access)

BOOST_AUTO_TEST_CASE(a_folder_of_another_user_is_named_with_its_owner_and_mode) {
  TempDir dir;
  const auto folder = data_folder(dir, 0755);
  const auto owner = owner_of(folder);
  const auto other = stranger(owner);
  const auto problem = write_access_problem(folder + "/trestle.db", other.uid, other.gid);
  BOOST_TEST(problem == "the folder " + folder + " is not writable by uid " +
                            std::to_string(other.uid) + " (gid " + std::to_string(other.gid) +
                            "): it belongs to uid " + std::to_string(owner.uid) + ", gid " +
                            std::to_string(owner.gid) + ", mode 755");
}

BOOST_AUTO_TEST_CASE(the_owner_of_a_read_only_folder_is_refused_too) {
  TempDir dir;
  const auto folder = data_folder(dir, 0500);
  // Root may write anything, so as root the folder goes to an ordinary uid.
  if (::geteuid() == 0) {
    BOOST_REQUIRE(::chown(folder.c_str(), 4242, 4242) == 0);
  }
  const auto owner = owner_of(folder);
  BOOST_TEST(owner.uid != 0U);
  const auto problem = write_access_problem(folder + "/trestle.db", owner.uid, owner.gid);
  BOOST_TEST(contains(problem, "belongs to uid " + std::to_string(owner.uid)));
  BOOST_TEST(contains(problem, "mode 500"));
}

BOOST_AUTO_TEST_CASE(the_group_bits_count_for_a_member_of_the_group) {
  TempDir dir;
  const auto folder = data_folder(dir, 0770);
  const auto owner = owner_of(folder);
  const auto other = stranger(owner);
  BOOST_TEST(write_access_problem(folder + "/trestle.db", other.uid, owner.gid).empty());
  BOOST_TEST(!write_access_problem(folder + "/trestle.db", other.uid, other.gid).empty());
}

BOOST_AUTO_TEST_CASE(a_file_that_is_not_writable_in_a_writable_folder_is_named) {
  TempDir dir;
  const auto folder = data_folder(dir, 0777);
  const auto file = dir.write("data/trestle.db", "");
  set_mode(file, 0600);
  const auto other = stranger(owner_of(file));
  const auto problem = write_access_problem(file, other.uid, other.gid);
  BOOST_TEST(contains(problem, "the file " + file + " is not writable"));
  BOOST_TEST(contains(problem, "mode 600"));
}

BOOST_AUTO_TEST_CASE(nothing_stands_in_the_way_of_a_writable_folder_or_of_root) {
  TempDir dir;
  const auto folder = data_folder(dir, 0500);
  const auto owner = owner_of(folder);
  BOOST_TEST(write_access_problem(folder + "/trestle.db", 0, 0).empty());
  set_mode(folder, 0777);
  const auto other = stranger(owner);
  BOOST_TEST(write_access_problem(folder + "/trestle.db", other.uid, other.gid).empty());
}

BOOST_AUTO_TEST_CASE(a_missing_folder_is_named_with_the_reason) {
  TempDir dir;
  const auto problem = write_access_problem(dir.path("gone/trestle.db"), 10001, 10001);
  BOOST_TEST(problem == "the folder " + dir.path("gone") + ": No such file or directory");
}

BOOST_AUTO_TEST_CASE(a_bare_file_name_is_looked_up_in_the_working_folder) {
  BOOST_TEST(write_access_problem("trestle.db", 0, 0).empty());
}

BOOST_AUTO_TEST_SUITE_END()
