// The seed MLP's train step (784-128-10, batch 500) against its GEMM-only
// bound, in one process, measured in CPU time as well as wall time, so that a
// shared machine's load barely enters the comparison (issue 7, item 6).
//
// Rounds alternate between the step (one pass of `batches` train calls over a
// 20,000-row training set, so x streams from memory as in the real loop) and
// the bound (the same five matrix products per batch, on the same rows, with
// nothing else: benchmarks/peers/gemm_bound.cpp's loop). Each round is timed
// by the wall clock, by the process's CPU time (all threads, spinning
// included) and by the calling thread's CPU time; the least of each over the
// rounds is printed per step, with step / bound.
//
//   build/benchmarks/bench_mlp_step [--dtype float64|float32] [--threads N] [--rounds R] [--batches B]
//
// With --threads 1, thread CPU time is the work itself; with 2 threads the
// process's CPU time also counts what threads spend waiting for each other,
// and the context switches per step show threads handing cores to each other.
#include "examples/seed_model.hpp"

#include <graphjit/graphjit.hpp>
#include <graphjit/runtime/blas.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <sys/resource.h>
#include <functional>
#include <stdexcept>
#include <string>

namespace T = graphjit::tensor;
using graphjit::Tensor;

namespace {

constexpr int kRows = 20000, kBatch = 500, kHidden = 128;

double cpu_seconds(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}
double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Times {
  double wall = 1e30, process = 1e30, thread = 1e30;  // least seconds per step over the rounds
  double switches = 1e30;  // least context switches (the process's threads, both kinds) per step
};

double context_switches() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_nvcsw + usage.ru_nivcsw);
}

void time_round(Times& best, int steps, const std::function<void()>& round) {
  const double w = wall_seconds(), p = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID), t = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
  const double s = context_switches();
  round();
  best.switches = std::min(best.switches, (context_switches() - s) / steps);
  best.wall = std::min(best.wall, (wall_seconds() - w) / steps);
  best.process = std::min(best.process, (cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) - p) / steps);
  best.thread = std::min(best.thread, (cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - t) / steps);
}

// The five products of one batch: forward, then backward, as gemm_bound.cpp.
struct Bound {
  Tensor x, w1, w2, d_logits, hidden, logits, grad_w2, d_hidden, grad_w1;
  Bound(const Tensor& train_x, graphjit::DType dtype, graphjit::RandomState& rng)
      : x(train_x),
        w1(rng.uniform(-1, 1, {seed::kPixels, kHidden}, dtype)),
        w2(rng.uniform(-1, 1, {kHidden, seed::kClasses}, dtype)),
        d_logits(rng.uniform(-1, 1, {kBatch, seed::kClasses}, dtype)),
        hidden(Tensor::zeros({kBatch, kHidden}, dtype)),
        logits(Tensor::zeros({kBatch, seed::kClasses}, dtype)),
        grad_w2(Tensor::zeros({kHidden, seed::kClasses}, dtype)),
        d_hidden(Tensor::zeros({kBatch, kHidden}, dtype)),
        grad_w1(Tensor::zeros({seed::kPixels, kHidden}, dtype)) {}
  void step(int batch) {
    const Tensor xb = x.slice(0, std::int64_t{batch} * kBatch, std::int64_t{batch + 1} * kBatch);
    graphjit::gemm(false, false, 1, xb, w1, 0, hidden);
    graphjit::gemm(false, false, 1, hidden, w2, 0, logits);
    graphjit::gemm(true, false, 1, hidden, d_logits, 0, grad_w2);
    graphjit::gemm(false, true, 1, d_logits, w2, 0, d_hidden);
    graphjit::gemm(true, false, 1, xb, d_hidden, 0, grad_w1);
  }
};

struct Options {
  graphjit::DType dtype = graphjit::float64;
  int threads = 1, rounds = 7, batches = kRows / kBatch;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--dtype") o.dtype = value == "float32" ? graphjit::float32 : graphjit::float64;
    else if (flag == "--threads") o.threads = std::stoi(value);
    else if (flag == "--rounds") o.rounds = std::stoi(value);
    else if (flag == "--batches") o.batches = std::clamp(std::stoi(value), 1, kRows / kBatch);
    else throw std::invalid_argument("unknown flag " + flag + " (use --dtype, --threads, --rounds, --batches)");
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  graphjit::set_num_threads(o.threads);
  graphjit::RandomState rng(1);
  const Tensor train_x = rng.uniform(0, 1, {kRows, seed::kPixels}, o.dtype);
  const seed::SharedSplit data{graphjit::shared(train_x, "train x", true),
                               graphjit::shared(rng.uniform(0, 10, {kRows}).astype(graphjit::int32), "train y", true)};
  seed::Init init{"glorot", graphjit::RandomState(2), o.dtype};
  seed::Program program = seed::build_program("mlp", kHidden, 0.01, o.dtype, init, data, data, data);
  Bound bound(train_x, o.dtype, rng);
  Times step, floor;
  for (int r = 0; r < o.rounds; ++r) {
    time_round(step, o.batches, [&] {
      for (int b = 0; b < o.batches; ++b) program.train(b, kBatch);
    });
    time_round(floor, o.batches, [&] {
      for (int b = 0; b < o.batches; ++b) bound.step(b);
    });
  }
  std::printf("%s, %d thread(s), least of %d rounds of %d steps (us per step)\n",
              graphjit::dtype_name(o.dtype), o.threads, o.rounds, o.batches);
  std::printf("            step     bound  step/bound\n");
  const auto row = [](const char* what, double s, double b) {
    std::printf("%-8s %8.0f  %8.0f  %10.3f\n", what, 1e6 * s, 1e6 * b, s / b);
  };
  row("wall", step.wall, floor.wall);
  row("process", step.process, floor.process);
  row("thread", step.thread, floor.thread);
  std::printf("%-8s %8.1f  %8.1f\n", "switches", step.switches, floor.switches);
}
