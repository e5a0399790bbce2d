// The measurement behind conv2d's per-shape algorithm choice
// (docs/architecture.md): for each shape, the compiled conv2d forward, input
// gradient and filter gradient under im2col + gemm and under the direct
// loops (nnet::set_conv_algorithm), in milliseconds per call. The two are
// interleaved and each reported as the least CPU time over the repetitions,
// which is what stays meaningful on a loaded machine.
//
//   bench_conv_algorithms [--dtype float32|float64] [--reps N] [--threads N]
#include <graphjit/conv_algorithm.hpp>
#include <graphjit/graphjit.hpp>
#include <graphjit/runtime/random.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <cstring>
#include <iostream>
#include <limits>

namespace T = graphjit::tensor;
namespace nnet = graphjit::tensor::nnet;
using graphjit::Shape;

struct ConvShape {
  const char* name;
  Shape x, w;
};

// CPU seconds the process spends in one call of f (all threads): on a loaded
// machine this, unlike the wall clock, does not count the time other programs
// hold the cores. With --threads 1 nothing spins, so it is the work itself.
template <class F> double seconds(F f) {
  auto cpu_now = [] {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
  };
  const double t0 = cpu_now();
  f();
  return cpu_now() - t0;
}

int main(int argc, char** argv) {
  std::string dtype_name = "float32";
  int reps = 10, threads = 2;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--dtype") && i + 1 < argc) dtype_name = argv[++i];
    else if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
    else {
      std::cerr << "usage: bench_conv_algorithms [--dtype float32|float64] [--reps N] [--threads N]\n";
      return 2;
    }
  }
  graphjit::set_num_threads(threads);
  const graphjit::DType dtype = graphjit::dtype_from_name(dtype_name);
  const ConvShape shapes[] = {
      {"lenet conv1", {500, 1, 28, 28}, {20, 1, 5, 5}},   {"lenet conv2", {500, 20, 12, 12}, {50, 20, 5, 5}},
      {"3 channels 3x3", {64, 3, 32, 32}, {16, 3, 3, 3}}, {"4 channels 3x3", {64, 4, 32, 32}, {16, 4, 3, 3}},
      {"8 channels 3x3", {64, 8, 32, 32}, {16, 8, 3, 3}}, {"2 channels 5x5", {128, 2, 28, 28}, {16, 2, 5, 5}},
  };
  graphjit::RandomState rng(1);
  std::cout << fmt::format("{} CPU ms per call, least of {} ({} threads): gemm / direct\n", dtype_name, reps, threads);
  for (const ConvShape& s : shapes) {
    auto X = T::tensor4("x", dtype), W = T::tensor4("w", dtype), GY = T::tensor4("gy", dtype);
    const graphjit::Tensor x = rng.uniform(-1, 1, s.x, dtype), w = rng.uniform(-1, 1, s.w, dtype);
    auto forward = graphjit::function({X, W}, {nnet::conv2d(X, W)});
    const graphjit::Tensor gy = rng.uniform(-1, 1, forward(x, w)[0].shape(), dtype);
    auto rows = graphjit::constant(s.x[2], graphjit::int64), cols = graphjit::constant(s.x[3], graphjit::int64);
    auto frows = graphjit::constant(s.w[2], graphjit::int64), fcols = graphjit::constant(s.w[3], graphjit::int64);
    auto grad_inputs = graphjit::function({W, GY}, {nnet::conv2d_grad_inputs(W, GY, rows, cols)});
    auto grad_weights = graphjit::function({X, GY}, {nnet::conv2d_grad_weights(X, GY, frows, fcols)});
    double ms[3][2];
    std::fill(&ms[0][0], &ms[0][0] + 6, std::numeric_limits<double>::infinity());
    for (int r = 0; r < reps; ++r)
      for (int a = 0; a < 2; ++a) {
        nnet::set_conv_algorithm(a == 0 ? nnet::ConvAlgorithm::gemm : nnet::ConvAlgorithm::direct);
        ms[0][a] = std::min(ms[0][a], 1e3 * seconds([&] { forward(x, w); }));
        ms[1][a] = std::min(ms[1][a], 1e3 * seconds([&] { grad_inputs(w, gy); }));
        ms[2][a] = std::min(ms[2][a], 1e3 * seconds([&] { grad_weights(x, gy); }));
      }
    nnet::set_conv_algorithm(nnet::ConvAlgorithm::by_shape);
    std::cout << fmt::format("{:16} taps {:4}: forward {:8.2f} / {:8.2f}   grad inputs {:8.2f} / {:8.2f}   grad weights {:8.2f} / {:8.2f}\n",
                             s.name, s.w[1] * s.w[2] * s.w[3], ms[0][0], ms[0][1], ms[1][0], ms[1][1], ms[2][0], ms[2][1]);
  }
  return 0;
}
