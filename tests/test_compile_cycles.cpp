// Compiling and destroying functions returns all of their memory: a program
// that builds functions in a loop (a hyperparameter search, a server) must
// not grow. Measured as the heap bytes in use (mallinfo2), which unlike RSS
// do not depend on how the allocator keeps freed pages.
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include <malloc.h>

namespace T = graphjit::tensor;

namespace {
long heap_in_use() { return static_cast<long>(mallinfo2().uordblks); }

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
}
