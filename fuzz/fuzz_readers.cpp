// libFuzzer target: the .npy, .npz and IDX readers on hostile bytes. The first
// byte picks the reader, the rest is the file. A reader may accept the file or
// throw std::runtime_error (with a message of bounded length: no untrusted
// header embedded whole); any other exception, a crash, a sanitizer report, or
// an allocation the data cannot justify (-rss_limit_mb / -malloc_limit_mb)
// is a finding. An accepted array must read back whole.
#include <graphjit/runtime/idx.hpp>
#include <graphjit/runtime/npz.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <unistd.h>

namespace {

const std::string& scratch_path() {
  static const std::string path = "/tmp/graphjit_fuzz_readers." + std::to_string(::getpid());
  return path;
}

void check_readable(const graphjit::Tensor& t) {
  volatile double sink = 0;
  for (double v : t.to_vector<double>()) sink = sink + v;
}

[[noreturn]] void finding(const char* what, const std::exception& e) {
  std::fprintf(stderr, "fuzz_readers: %s %s: %.2000s\n", what, typeid(e).name(), e.what());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  {
    std::ofstream out(scratch_path(), std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data + 1), static_cast<std::streamsize>(size - 1));
  }
  try {
    switch (data[0] % 3) {
      case 0: check_readable(graphjit::load_npy(scratch_path())); break;
      case 1:
        for (const auto& [name, t] : graphjit::load_npz(scratch_path())) check_readable(t);
        break;
      default: check_readable(graphjit::load_idx(scratch_path())); break;
    }
  } catch (const std::runtime_error& e) {
    if (std::string(e.what()).size() > 4096) finding("a message over 4 KB:", e);
  } catch (const std::exception& e) {
    finding("not a std::runtime_error:", e);
  }
  return 0;
}
