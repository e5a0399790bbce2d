// Large arrays through a call (issue 7, item 7): what a graphjit call on
// millions of float64 elements costs beside its fused kernel alone, beside
// NumPy, and what bandwidth a memory-bound fused chain reaches beside a
// STREAM-triad-like loop measured in the same run.
//
//   bench_large_arrays [elements ...]      (default 1048576 8388608)
//
// Per size, in milliseconds (median of 15 runs after a warm-up):
//   call     graphjit::function({x}, {2*x + 1})(x), which returns fresh memory
//   kernel   the same fused kernel run alone into an output it already wrote
//            (warm pages: no page faults, no allocation)
//   numpy    2*x + 1 in NumPy (Debian's /usr/bin/python3, timeit; "n/a" without it)
// Then GB/s of a*x + y through a call and as its kernel alone, and of the
// triad a[i] = b[i] + s*c[i] split over the same thread pool: bytes are
// counted as STREAM does, 24 per element (two reads, one write).
// On a shared machine the figures are provisional.
#include "compiler/codegen/kernel_compiler.hpp"
#include "compiler/exec/thread_pool.hpp"
#include "compiler/ir/node.hpp"

#include <graphjit/graphjit.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace T = graphjit::tensor;
using namespace graphjit;
using ir::NodeRef;
using ir::OpCode;

namespace {

// Median wall time of 15 runs after one warm-up, in ms.
double median_ms(const std::function<void()>& run) {
  run();
  std::vector<double> times;
  for (int rep = 0; rep < 15; ++rep) {
    const auto start = std::chrono::steady_clock::now();
    run();
    times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

Tensor random_vector(std::int64_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(-1, 1);
  Tensor t = Tensor::empty({n}, float64);
  for (std::int64_t i = 0; i < n; ++i) t.data<double>()[i] = dist(rng);
  return t;
}

NodeRef input(std::vector<bool> broadcastable, const char* name) {
  return ir::make_input(ir::Type{float64, std::move(broadcastable)}, name, std::source_location::current());
}

// NumPy's time for 2*x + 1 on n float64 elements, in ms; negative if NumPy is missing.
double numpy_ms(std::int64_t n) {
  const std::string command =
      "/usr/bin/python3 -c 'import numpy as np, timeit; x = np.random.rand(" + std::to_string(n) +
      "); t = sorted(timeit.repeat(lambda: 2*x + 1, number=1, repeat=15)); print(t[7] * 1e3)' 2>/dev/null";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return -1;
  double ms = -1;
  if (std::fscanf(pipe, "%lf", &ms) != 1) ms = -1;
  pclose(pipe);
  return ms;
}

// a[i] = b[i] + s*c[i], split in contiguous pieces over the kernels' pool.
double triad_ms(std::int64_t n) {
  std::vector<double> a(static_cast<std::size_t>(n)), b(static_cast<std::size_t>(n), 1.0),
      c(static_cast<std::size_t>(n), 2.0);
  exec::ThreadPool& pool = exec::ThreadPool::global();
  const int pieces = pool.concurrency();
  const double s = 3.0;
  return median_ms([&] {
    pool.run(pieces, [&](int p) {
      const std::int64_t begin = n * p / pieces, end = n * (p + 1) / pieces;
      double* pa = a.data();
      const double *pb = b.data(), *pc = c.data();
      for (std::int64_t i = begin; i < end; ++i) pa[i] = pb[i] + s * pc[i];
    });
  });
}

void affine_case(std::int64_t n) {
  auto x = T::vector("x");
  auto f = graphjit::function({x}, {2.0 * x + 1.0});
  const Tensor xv = random_vector(n, 1);
  const double call = median_ms([&] { f(xv); });

  NodeRef xi = input({false}, "x"), two = input({true}, "two"), one = input({true}, "one");
  NodeRef mul = ir::make(OpCode::Mul, {two, xi}), add = ir::make(OpCode::Add, {mul, one});
  const exec::Kernel kernel = codegen::compile_kernels({{"affine", {xi, two, one}, {mul, add}, {add}, {}}}, "affine")[0];
  const std::vector<Tensor> args = {xv, Tensor::full({1}, 2.0, float64), Tensor::full({1}, 1.0, float64)};
  std::vector<Tensor> out = kernel.run(args);
  const double alone = median_ms([&] { kernel.run(args, out); });
  const double numpy = numpy_ms(n);

  char numpy_text[32] = "n/a";
  if (numpy >= 0) std::snprintf(numpy_text, sizeof numpy_text, "%.2f", numpy);
  std::printf("%10lld %10.2f %10.2f %8.2fx %10s\n", static_cast<long long>(n), call, alone, call / alone, numpy_text);
}

void bandwidth_case(std::int64_t n) {
  auto x = T::vector("x"), y = T::vector("y");
  auto f = graphjit::function({x, y}, {3.0 * x + y});
  const Tensor xv = random_vector(n, 2), yv = random_vector(n, 3);
  const double call = median_ms([&] { f(xv, yv); });

  NodeRef xi = input({false}, "x"), yi = input({false}, "y"), a = input({true}, "a");
  NodeRef mul = ir::make(OpCode::Mul, {a, xi}), add = ir::make(OpCode::Add, {mul, yi});
  const exec::Kernel kernel = codegen::compile_kernels({{"axpy", {xi, yi, a}, {mul, add}, {add}, {}}}, "axpy")[0];
  const std::vector<Tensor> args = {xv, yv, Tensor::full({1}, 3.0, float64)};
  std::vector<Tensor> out = kernel.run(args);
  const double alone = median_ms([&] { kernel.run(args, out); });
  const double triad = triad_ms(n);

  const double gb = 24.0 * static_cast<double>(n) / 1e9;
  std::printf("%10lld %12.1f %12.1f %12.1f %10.0f%%\n", static_cast<long long>(n), gb / call * 1e3, gb / alone * 1e3,
              gb / triad * 1e3, 100.0 * triad / call);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::int64_t> sizes;
  for (int i = 1; i < argc; ++i) sizes.push_back(std::atoll(argv[i]));
  if (sizes.empty()) sizes = {1 << 20, 1 << 23};

  std::printf("f(x) = 2*x + 1, float64, %d threads (ms, median of 15)\n", exec::ThreadPool::global().concurrency());
  std::printf("%10s %10s %10s %9s %10s\n", "elements", "call", "kernel", "call/kern", "numpy");
  for (std::int64_t n : sizes) affine_case(n);

  std::printf("\n3*x + y, float64: GB/s at 24 bytes per element; triad a = b + s*c on the same pool\n");
  std::printf("%10s %12s %12s %12s %11s\n", "elements", "call GB/s", "kernel GB/s", "triad GB/s", "call/triad");
  for (std::int64_t n : sizes) bandwidth_case(n);
  return 0;
}
