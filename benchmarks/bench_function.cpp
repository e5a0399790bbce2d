// Compile time of the seed's train function and the cost of calling a tiny
// compiled function: the two fixed costs a user pays beyond the arithmetic.
//
//   build/benchmarks/bench_function
#include "examples/seed_model.hpp"

#include <graphjit/graphjit.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

namespace T = graphjit::tensor;
using clock_type = std::chrono::steady_clock;

namespace {

double seconds(clock_type::time_point t0) { return std::chrono::duration<double>(clock_type::now() - t0).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Building the seed's train function from scratch: graph, gradients, rewrites, LLVM.
double compile_train_ms(graphjit::Mode mode) {
  const auto t0 = clock_type::now();
  seed::Init init{"glorot", graphjit::RandomState(1), graphjit::float64};
  auto data_x = graphjit::shared(graphjit::Tensor::zeros({1000, 784}, graphjit::float64), "train_x", true);
  auto data_y = graphjit::shared(graphjit::Tensor::zeros({1000}, graphjit::int32), "train_y", true);
  auto x = T::matrix("x");
  auto y = T::vector("y", graphjit::int32);
  seed::MLP model(x, 784, 128, 10, init);
  auto loss = model.loss(T::extra_ops::to_one_hot(y, 10));
  auto accuracy = model.accuracy(y);
  auto index = T::scalar("batch index", graphjit::int32), size = T::scalar("batch size", graphjit::int32);
  auto train = graphjit::function({index, size}, {loss, accuracy},
                                  {.updates = model.updates(loss, 0.3),
                                   .givens = {{x, data_x[T::slice(index * size, (index + 1) * size)]},
                                              {y, data_y[T::slice(index * size, (index + 1) * size)]}},
                                   .mode = mode});
  return 1e3 * seconds(t0);
}

double call_ns(const graphjit::Function& f, int calls) {
  std::vector<double> runs;
  for (int r = 0; r < 5; ++r) {
    const auto t0 = clock_type::now();
    for (int i = 0; i < calls; ++i) f(1.5);
    runs.push_back(1e9 * seconds(t0) / calls);
  }
  return median(runs);
}

}  // namespace

int main() {
  compile_train_ms(graphjit::Mode::fast_run);  // LLVM's one-time initialization is not the function's cost
  std::vector<double> fast_run, fast_compile;
  for (int r = 0; r < 5; ++r) {
    fast_run.push_back(compile_train_ms(graphjit::Mode::fast_run));
    fast_compile.push_back(compile_train_ms(graphjit::Mode::fast_compile));
  }
  auto a = T::scalar("a");
  auto tiny = graphjit::function({a}, {a * 2 + 1});
  auto shared_counter = graphjit::shared(graphjit::Tensor::zeros({}, graphjit::float64), "counter");
  auto with_update = graphjit::function({a}, {}, {.updates = {{shared_counter, shared_counter + a}}});

  std::printf("%-58s %12s %10s\n", "what", "measured", "target");
  std::printf("%-58s %9.1f ms %10s\n", "seed train function, build + compile (fast_run, median)", median(fast_run),
              "< 250 ms");
  std::printf("%-58s %9.1f ms %10s\n", "seed train function, build + compile (fast_compile)", median(fast_compile), "");
  std::printf("%-58s %9.0f ns %10s\n", "call of f(a) = a * 2 + 1 (scalar in, scalar out)", call_ns(tiny, 20000),
              "< 2000 ns");
  std::printf("%-58s %9.0f ns %10s\n", "call of f(a) with one update, no outputs", call_ns(with_update, 20000), "");
  return 0;
}
