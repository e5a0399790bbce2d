// The num_threads option is checked when the kernels' thread pool starts. A
// bad value (GRAPHJIT_FLAGS is checked at start-up; one set in code reaches
// the pool) is an error on every call that needs the pool, and must not start
// (and leak) a pool of threads each time. This executable has one test: the
// pool is process-wide, so the bad values must be tried before it exists.
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include "thrown_message.hpp"

#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <thread>

namespace T = graphjit::tensor;
using graphjit::testing::contains;
using graphjit::testing::thrown_message;

namespace {
std::ptrdiff_t thread_count() {
  return std::distance(std::filesystem::directory_iterator("/proc/self/task"), std::filesystem::directory_iterator());
}
}  // namespace

TEST_CASE("an invalid num_threads is an error on each call and starts no threads") {
  const auto x = T::vector("x");
  auto f = graphjit::function({x}, {T::exp(x) + 1});  // a JIT kernel: the first use of the pool
  const graphjit::Tensor arg({1.0, 2.0, 3.0});
  for (int bad : {-1, -3, -1000}) {
    INFO("num_threads=", bad);
    graphjit::config().num_threads = bad;
    const std::ptrdiff_t before = thread_count();
    for (int call = 0; call < 20; ++call) {
      const std::string msg = thrown_message<std::exception>([&] { f(arg); });
      CHECK(contains(msg, "num_threads"));
    }
    CHECK(thread_count() == before);
  }
  // A valid value starts the pool once; later calls reuse it.
  graphjit::config().num_threads = 1;
  CHECK(f(arg)[0].to_vector<double>().size() == 3);
  const std::ptrdiff_t started = thread_count();
  for (int call = 0; call < 20; ++call) f(arg);
  CHECK(thread_count() == started);
}
