// examples/rnn_mnist's train step (28 steps, hidden 128, batch 100) on
// synthetic images, for instruction counts and profiles of the scan loop:
//
//   perf stat -e instructions build/benchmarks/bench_rnn_step --steps 50 [--dtype float32]
//   build/benchmarks/bench_rnn_step --steps 50 --profile     (per-step table on stderr)
//
// Prints the compile time and the median ms per train step (provisional on a
// shared machine); run with --steps 0 to count the set-up alone, and take the
// difference to get the instructions per step.
#include "compiler/pipeline.hpp"
#include "examples/rnn_model.hpp"
#include "frontend/function_impl.hpp"

#include <graphjit/graphjit.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

namespace {

// CPU time of the calling thread: less disturbed by other processes than wall
// time on a shared machine.
double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  int steps = 50;
  graphjit::DType dtype = graphjit::float64;
  bool profile = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--steps" && i + 1 < argc) steps = std::atoi(argv[++i]);
    else if (a == "--dtype" && i + 1 < argc) dtype = std::string(argv[++i]) == "float32" ? graphjit::float32 : graphjit::float64;
    else if (a == "--profile") profile = true;
    else {
      std::fprintf(stderr, "usage: bench_rnn_step [--steps N] [--dtype float64|float32] [--profile]\n");
      return 2;
    }
  }
  if (profile) graphjit::set_flags("profile=true");
  constexpr int kBatch = 100, kRows = 1000;
  graphjit::RandomState rng(1);
  const seed::SharedSplit data{graphjit::shared(rng.uniform(0, 1, {kRows, seed::kPixels}, dtype), "x", true),
                               graphjit::shared(rng.uniform(0, 10, {kRows}).astype(graphjit::int32), "y", true)};
  seed::Init init{"glorot", graphjit::RandomState(1234), dtype};
  const auto t0 = std::chrono::steady_clock::now();
  const double cpu0 = thread_cpu_ms();
  seed::Program p = rnn::build_rnn(128, 0.05, 0, dtype, init, data, data, data);
  std::printf("compile %.0f ms (train function %.0f ms; %.0f ms of this thread's CPU time)\n",
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count(),
              p.train_seconds_to_compile * 1e3, thread_cpu_ms() - cpu0);
  // Where the train function's compile time goes (the scan bodies compile in
  // compile_kernels, their LLVM time counted in the llvm figures).
  const graphjit::compiler::Compiled& compiled = p.train.impl()->compiled;
  for (const auto& [stage, stage_ms] : compiled.stage_ms) std::printf("  %-16s %7.1f ms\n", stage.c_str(), stage_ms);
  std::printf("  (llvm CPU: optimize %.1f ms, codegen %.1f ms; llvm wall %.1f ms)\n", compiled.llvm_optimize_ms,
              compiled.llvm_codegen_ms, compiled.llvm_wall_ms);
  std::vector<double> ms;
  for (int s = 0; s < steps; ++s) {
    const auto start = std::chrono::steady_clock::now();
    p.train(s % (kRows / kBatch), kBatch);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  if (!ms.empty()) {
    std::sort(ms.begin(), ms.end());
    std::printf("%d steps, median %.3f ms per step (provisional)\n", steps, ms[ms.size() / 2]);
  }
  if (profile) std::cout << graphjit::profile(p.train).table();
}
