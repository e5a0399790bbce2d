#include "runtime/atomic_file.hpp"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <stdexcept>
#include <system_error>

namespace graphjit {

namespace fs = std::filesystem;

namespace {

// Unique within the machine: the pid separates processes, the counter threads.
std::string temp_name_for(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  return path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
}

}  // namespace

void write_file_atomically(const std::string& path, const std::function<void(const std::string&)>& write_to) {
  // Same directory as the destination, so the rename cannot cross file systems.
  const std::string temp = temp_name_for(path);
  try {
    write_to(temp);
    std::error_code ec;
    fs::rename(temp, path, ec);
    if (ec) throw std::runtime_error("cannot rename " + temp + " to " + path + ": " + ec.message());
  } catch (...) {
    std::error_code ignored;  // the original error is the one worth reporting
    fs::remove(temp, ignored);
    throw;
  }
}

}  // namespace graphjit
