// Compiling and destroying functions returns all of their memory: a program
// that builds functions in a loop (a hyperparameter search, a server) must
// not grow. Measured as the heap bytes in use (mallinfo2), which unlike RSS
// do not depend on how the allocator keeps freed pages.
//
// Under AddressSanitizer (scripts/test-sanitizers.sh) malloc is ASan's, so
// mallinfo2 sees none of it and freed memory sits in ASan's quarantine
// (256 MB), so RSS grows by design: there the heap in use is ASan's count of
// live bytes, RSS is not checked, LeakSanitizer checks that nothing became
// unreachable, and the seed runs a few cycles (each one is about 5 times
// slower).
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include "examples/seed_model.hpp"

#include <cstdlib>
#include <fstream>
#include <malloc.h>
#include <string>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define GRAPHJIT_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GRAPHJIT_TEST_ASAN 1
#endif
#endif
#ifdef GRAPHJIT_TEST_ASAN
#include <sanitizer/allocator_interface.h>
#include <sanitizer/lsan_interface.h>
#endif

namespace T = graphjit::tensor;

namespace {
#ifdef GRAPHJIT_TEST_ASAN
constexpr bool kAsan = true;
long heap_in_use() { return static_cast<long>(__sanitizer_get_current_allocated_bytes()); }
// Whether LeakSanitizer finds memory that nothing points to any more.
bool leaks_found() { return __lsan_do_recoverable_leak_check() != 0; }
#else
constexpr bool kAsan = false;
long heap_in_use() { return static_cast<long>(mallinfo2().uordblks); }
bool leaks_found() { return false; }
#endif

long resident_bytes() {
  long pages = 0, resident = 0;
  std::ifstream("/proc/self/statm") >> pages >> resident;
  return resident * ::sysconf(_SC_PAGESIZE);
}

// Cycles of the seed test: GRAPHJIT_SEED_COMPILE_CYCLES (scripts/test.sh: 1,000;
// 20 by default, 10 under ASan).
int seed_cycles() {
  const char* n = std::getenv("GRAPHJIT_SEED_COMPILE_CYCLES");
  return n && *n ? std::atoi(n) : kAsan ? 10 : 20;
}

// The seed's program (train, valid and test functions of the MLP) built,
// run once and destroyed, on small stand-in data.
void seed_cycle(const seed::SharedSplit& split) {
  seed::Init init{"glorot", graphjit::RandomState(1), graphjit::float64};
  seed::Program p = seed::build_program("mlp", 128, 0.3, graphjit::float64, init, split, split, split);
  p.train(0, 10);
}

// One compile/run/destroy cycle of a function with a fused kernel and a gemm.
void cycle(const graphjit::SharedVariable& w) {
  const auto x = T::matrix("x");
  auto f = graphjit::function({x}, {T::sum(T::tanh(T::dot(x, w)) * 2 + 1)});
  f(graphjit::Tensor::full({4, 3}, 0.5, graphjit::float64));
}
}  // namespace

TEST_CASE("compiling and destroying a function leaves no memory behind") {
  const auto w = graphjit::shared(graphjit::Tensor::full({3, 5}, 0.25, graphjit::float64), "w");
  // Hash tables in LLVM and graphjit grow in steps to their steady size over
  // the first hundred or so cycles (about 25 KB here); after that nothing grows.
  for (int i = 0; i < 100; ++i) cycle(w);
  const long before = heap_in_use();
  constexpr int kCycles = 150;
  for (int i = 0; i < kCycles; ++i) cycle(w);
  const long growth = heap_in_use() - before;
  MESSAGE("heap growth over " << kCycles << " compile/destroy cycles: " << growth << " bytes");
  // Once every cycle left its JIT symbol names behind: about 100 bytes a
  // cycle here in the steady state (15 KB over these cycles), 1.2 KB for
  // the seed's train step.
  CHECK(growth < 6 * 1024);
  CHECK_FALSE(leaks_found());
}

TEST_CASE("compiling and destroying the seed's train, valid and test functions keeps RSS and the heap flat") {
  const seed::SharedSplit split{graphjit::shared(graphjit::Tensor::full({20, 784}, 0.5, graphjit::float64), "x"),
                                graphjit::shared(graphjit::Tensor::zeros({20}, graphjit::int32), "y")};
  for (int i = 0; i < 10; ++i) seed_cycle(split);
  const long rss_before = resident_bytes(), heap_before = heap_in_use();
  const int cycles = seed_cycles();
  for (int i = 0; i < cycles; ++i) seed_cycle(split);
  const long rss_growth = resident_bytes() - rss_before, heap_growth = heap_in_use() - heap_before;
  MESSAGE("over " << cycles << " cycles of the seed's program: RSS grew " << rss_growth << " bytes, the heap "
                  << heap_growth << " bytes");
  if (!kAsan) CHECK(rss_growth < 1024 * 1024);
  CHECK(heap_growth < 64 * 1024);
  CHECK_FALSE(leaks_found());
}
