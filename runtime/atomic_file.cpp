#include "runtime/atomic_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>

namespace graphjit {

namespace fs = std::filesystem;

namespace {

// "<name>.tmp.": what every temporary file for `path` starts with.
std::string temp_prefix(const std::string& path) { return fs::path(path).filename().string() + ".tmp."; }

// Unique within the machine: the pid separates processes, the counter threads.
std::string temp_name_for(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  return path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
}

bool process_exists(long pid) {
  // EPERM: it exists but belongs to someone else.
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

// Removes the temporary files earlier saves to `path` left behind when their
// process was killed mid-write (they can be as large as the file). Files of
// processes still running may be saves in progress, and are kept.
void remove_stale_temp_files(const std::string& path) {
  const fs::path dir = fs::path(path).parent_path().empty() ? fs::path(".") : fs::path(path).parent_path();
  const std::string prefix = temp_prefix(path);
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    // The rest must be "<pid>.<counter>", both decimal: anything else is not ours.
    const std::string rest = name.substr(prefix.size());
    const auto dot = rest.find('.');
    if (dot == 0 || dot == std::string::npos || dot + 1 == rest.size() || rest.size() > 40 ||
        rest.find_first_not_of("0123456789.") != std::string::npos || rest.find('.', dot + 1) != std::string::npos)
      continue;
    const long pid = std::stol(rest.substr(0, dot));
    if (pid <= 0 || process_exists(pid)) continue;
    std::error_code ignored;  // another saver may have removed it first
    fs::remove(it->path(), ignored);
  }
}

// Flushes a file's (or a directory's) contents to the disk, so that a crash
// after the rename cannot leave a renamed but empty or partial file.
void sync_to_disk(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (directory ? O_DIRECTORY : 0));
  if (fd < 0) throw std::runtime_error("cannot open " + path + " to flush it to disk: " + std::strerror(errno));
  const int rc = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  // Some file systems cannot sync directories; the data itself was synced.
  if (rc != 0 && !(directory && (error == EINVAL || error == EROFS)))
    throw std::runtime_error("cannot flush " + path + " to disk: " + std::strerror(error));
}

}  // namespace

void write_file_atomically(const std::string& path, const std::function<void(const std::string&)>& write_to) {
  remove_stale_temp_files(path);
  // Same directory as the destination, so the rename cannot cross file systems.
  const std::string temp = temp_name_for(path);
  try {
    write_to(temp);
    sync_to_disk(temp, false);
    std::error_code ec;
    fs::rename(temp, path, ec);
    if (ec) throw std::runtime_error("cannot rename " + temp + " to " + path + ": " + ec.message());
  } catch (...) {
    std::error_code ignored;  // the original error is the one worth reporting
    fs::remove(temp, ignored);
    throw;
  }
  // The rename is in the directory: sync it too, or a crash can undo it.
  const fs::path dir = fs::path(path).parent_path();
  sync_to_disk(dir.empty() ? "." : dir.string(), true);
}

}  // namespace graphjit
