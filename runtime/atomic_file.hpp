// Writing a file so that readers see either the old file or the complete new
// one, never a half-written one (a crash or an exception mid-write leaves the
// destination untouched).
#pragma once

#include <functional>
#include <string>

namespace graphjit {

// Calls write_to(temp_path) to produce the file under a temporary name in the
// destination's directory ("<path>.tmp.<pid>.<n>"), flushes it to disk,
// renames it over `path` and flushes the directory: after a crash the file is
// the old one or the complete new one. If write_to throws, the temporary file
// is removed and the exception propagates. Temporary files for `path` left by
// processes that no longer run (a save killed mid-write) are removed first.
void write_file_atomically(const std::string& path, const std::function<void(const std::string& temp_path)>& write_to);

}  // namespace graphjit
