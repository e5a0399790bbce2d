// The environment variables graphjit reads (README, docs/architecture.md):
// a bad value is an error naming the variable, on every call that needs it,
// and leaves nothing behind (no started thread pool, no half-made JIT). This
// executable has one test: the JIT engine and the thread pool are
// process-wide and read their variables once, when first used, so the bad
// values must be tried before that, in this order.
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include "compiler/jit/jit_engine.hpp"
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

graphjit::Function compile() {
  const auto x = T::vector("x");
  return graphjit::function({x}, {T::exp(x) + 1});  // a JIT kernel
}
}  // namespace

TEST_CASE("bad GRAPHJIT_VECTOR_BITS, GRAPHJIT_JIT_OPT_LEVEL and GRAPHJIT_NUM_THREADS are errors on each use") {
  // Read when the JIT engine starts (the first compile).
  for (const char* bad : {"100", "wide", "1024"}) {
    INFO("GRAPHJIT_VECTOR_BITS=", bad);
    REQUIRE(setenv("GRAPHJIT_VECTOR_BITS", bad, 1) == 0);
    for (int attempt = 0; attempt < 2; ++attempt)
      CHECK(contains(thrown_message<std::invalid_argument>([] { compile(); }), "GRAPHJIT_VECTOR_BITS"));
  }
  REQUIRE(setenv("GRAPHJIT_VECTOR_BITS", "128", 1) == 0);
  // Read at every compile.
  for (const char* bad : {"7", "-1", "fast"}) {
    INFO("GRAPHJIT_JIT_OPT_LEVEL=", bad);
    REQUIRE(setenv("GRAPHJIT_JIT_OPT_LEVEL", bad, 1) == 0);
    CHECK(contains(thrown_message<std::invalid_argument>([] { compile(); }), "GRAPHJIT_JIT_OPT_LEVEL"));
  }
  REQUIRE(unsetenv("GRAPHJIT_JIT_OPT_LEVEL") == 0);
  auto f = compile();
  CHECK(graphjit::jit::JitEngine::instance().host().vector_bits == 128);

  // Read when the kernels' thread pool starts (the first kernel run): once a
  // bad value started a pool and threw, on every call (2 -> 102 threads in 100 calls).
  const graphjit::Tensor arg({1.0, 2.0, 3.0});
  for (const char* bad : {"two", "0", "-3", "4x", "99999999999999999999"}) {
    INFO("GRAPHJIT_NUM_THREADS=", bad);
    REQUIRE(setenv("GRAPHJIT_NUM_THREADS", bad, 1) == 0);
    const std::ptrdiff_t before = thread_count();
    for (int call = 0; call < 20; ++call) {
      const std::string msg = thrown_message<std::invalid_argument>([&] { f(arg); });
      CHECK(contains(msg, std::string("GRAPHJIT_NUM_THREADS='") + bad + "' is not a positive integer"));
    }
    CHECK(thread_count() == before);
  }
  // A valid value starts the pool once; later calls reuse it.
  REQUIRE(setenv("GRAPHJIT_NUM_THREADS", "1", 1) == 0);
  CHECK(f(arg)[0].to_vector<double>().size() == 3);
  const std::ptrdiff_t started = thread_count();
  for (int call = 0; call < 20; ++call) f(arg);
  CHECK(thread_count() == started);
}
