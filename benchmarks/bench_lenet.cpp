// LeNet's train step (examples/lenet_model.hpp) on random 28x28 images,
// batch 500: seconds per step, the projected epoch time over Fashion-MNIST's
// 50000 training images, the same for PyTorch eager (benchmarks/peers/lenet_torch.py
// --time-steps, run with /usr/bin/python3 and 2 threads; skipped with --no-torch)
// and the ratio, and with --profile the step table (where the time goes).
// The compile time is given as wall time, as the compiling thread's CPU time
// and as the process's CPU time, which adds the threads that compile the
// kernels (flag compile_threads; CPU time barely moves with the machine's
// load, the target is < 500 ms of wall time).
// Whole epochs on the real data: benchmarks/race.py --workload lenet.
//
//   bench_lenet [--dtype float32|float64] [--steps N] [--threads N] [--profile] [--no-torch]
#include "examples/lenet_model.hpp"

#include <graphjit/graphjit.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>

double cpu_seconds(clockid_t clock) {
  timespec t{};
  clock_gettime(clock, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// PyTorch's seconds per step from the peer script, or 0 (with a note) when it cannot run.
double torch_seconds_per_step(const std::string& dtype, int steps, int threads) {
  const std::string script = std::string(GRAPHJIT_SOURCE_DIR) + "/benchmarks/peers/lenet_torch.py";
  const std::string command = fmt::format(
      "OMP_NUM_THREADS={0} OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 {1} --dtype {2} --threads {0} --time-steps {3}",
      threads, script, dtype, steps);
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return 0;
  char line[256] = {};
  double seconds = 0;
  while (std::fgets(line, sizeof line, pipe))
    if (const char* at = std::strstr(line, "\"seconds_per_step\": ")) seconds = std::atof(at + 20);
  if (pclose(pipe) != 0 || seconds <= 0) std::cerr << "bench_lenet: PyTorch did not run: " << command << "\n";
  return seconds;
}

int main(int argc, char** argv) {
  std::string dtype_name = "float32";
  int steps = 5, threads = 2;
  bool show_profile = false, with_torch = true;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--dtype") && i + 1 < argc) dtype_name = argv[++i];
    else if (!std::strcmp(argv[i], "--steps") && i + 1 < argc) steps = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--profile")) show_profile = true;
    else if (!std::strcmp(argv[i], "--no-torch")) with_torch = false;
    else {
      std::cerr << "usage: bench_lenet [--dtype float32|float64] [--steps N] [--threads N] [--profile]\n";
      return 2;
    }
  }
  graphjit::set_num_threads(threads);
  const graphjit::DType dtype = graphjit::dtype_from_name(dtype_name);
  const std::int64_t batch = 500;
  graphjit::RandomState rng(1);
  auto images = graphjit::shared(rng.uniform(0, 1, {batch, seed::kPixels}, dtype), "images");
  const graphjit::Tensor classes = rng.uniform(0, seed::kClasses, {batch}, graphjit::float64);
  graphjit::Tensor label_values = graphjit::Tensor::empty({batch}, graphjit::int32);
  for (std::int64_t i = 0; i < batch; ++i) label_values.set({i}, std::floor(classes.get({i})));
  auto labels = graphjit::shared(label_values, "labels");
  seed::Init init{"glorot", graphjit::RandomState(2), dtype};
  auto x = seed::T::matrix("x", dtype);
  auto y = seed::T::vector("y", graphjit::int32);
  seed::LeNet model(x, y, init);
  const auto loss = model.loss(y);
  const auto t0 = std::chrono::steady_clock::now();
  const double cpu0 = cpu_seconds(CLOCK_THREAD_CPUTIME_ID), process0 = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
  auto train = graphjit::function({}, {loss}, {.updates = model.updates(loss, 0.1), .givens = {{x, images}, {y, labels}},
                                               .profile = show_profile});
  const double compile = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double compile_cpu = cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - cpu0;
  const double compile_process_cpu = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) - process0;
  train();  // warm-up: first-touch of buffers
  const auto t1 = std::chrono::steady_clock::now();
  for (int s = 0; s < steps; ++s) train();
  const double per_step = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count() / steps;
  std::cout << fmt::format("lenet {} batch {}: compile {:.3f} s ({:.3f} s CPU, {:.3f} s with the compile threads), "
                           "{:.4f} s per step, {:.1f} s per 50000-image epoch ({} threads)\n",
                           dtype_name, batch, compile, compile_cpu, compile_process_cpu, per_step, per_step * 100, threads);
  if (with_torch) {
    const double torch_step = torch_seconds_per_step(dtype_name, steps, threads);
    if (torch_step > 0)
      std::cout << fmt::format("torch eager {}: {:.4f} s per step, {:.1f} s per epoch; graphjit / torch = {:.2f}\n",
                               dtype_name, torch_step, torch_step * 100, per_step / torch_step);
  }
  if (show_profile) std::cout << graphjit::profile(train).table();
  return 0;
}
