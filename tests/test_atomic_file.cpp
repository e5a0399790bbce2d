// Saving a file atomically: the old file or the new one, never half of one;
// and the temporary files of saves that were killed mid-write are cleaned up
// by the next save instead of piling up next to the model.
#include <doctest/doctest.h>

#include <graphjit/runtime/npz.hpp>

#include "runtime/atomic_file.hpp"
#include "temp_dir.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <string>

using namespace graphjit;
using namespace graphjit::testing;

namespace {
// The pid of a process that has exited (and been reaped): nothing runs under it now.
long dead_pid() {
  const pid_t child = fork();
  if (child == 0) _exit(0);
  int status = 0;
  waitpid(child, &status, 0);
  return child;
}
}  // namespace

TEST_CASE("a save removes the temporary files of killed saves, and only those") {
  TempDir dir;
  const std::string path = dir.file("m.npz");
  const std::string dead = std::to_string(dead_pid());
  const std::string stale_a = path + ".tmp." + dead + ".0", stale_b = path + ".tmp." + dead + ".17";
  const std::string ours = path + ".tmp." + std::to_string(getpid()) + ".999";  // a save in progress here
  const std::string init = path + ".tmp.1.0";                                    // pid 1 always runs
  const std::string foreign = path + ".tmp.notes", other_file = dir.file("other.npz.tmp." + dead + ".0");
  for (const std::string& f : {stale_a, stale_b, ours, init, foreign, other_file}) write_bytes(f, std::string(4096, 'x'));

  save_npz(path, {{"W", Tensor::from_vector<float>({1.0f, 2.0f})}});
  CHECK_FALSE(std::filesystem::exists(stale_a));
  CHECK_FALSE(std::filesystem::exists(stale_b));
  for (const std::string& kept : {ours, init, foreign, other_file}) {
    INFO(kept);
    CHECK(std::filesystem::exists(kept));
  }
  CHECK(load_npz(path)[0].second.equal(Tensor::from_vector<float>({1.0f, 2.0f})));
}

TEST_CASE("a failed write leaves the old file and no temporary file") {
  TempDir dir;
  const std::string path = dir.file("f.bin");
  write_bytes(path, "old");
  CHECK_THROWS_AS(write_file_atomically(path,
                                        [](const std::string& temp) {
                                          write_bytes(temp, "partial");
                                          throw std::runtime_error("disk full");
                                        }),
                  std::runtime_error);
  CHECK(read_bytes(path) == "old");
  CHECK(dir.entry_count() == 1);
  write_file_atomically(path, [](const std::string& temp) { write_bytes(temp, "new"); });
  CHECK(read_bytes(path) == "new");
  CHECK(dir.entry_count() == 1);
}

TEST_CASE("a file in the current directory is saved and synced too") {
  TempDir dir;
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  write_file_atomically("relative.bin", [](const std::string& temp) { write_bytes(temp, "data"); });
  std::filesystem::current_path(cwd);
  CHECK(read_bytes(dir.file("relative.bin")) == "data");
}
