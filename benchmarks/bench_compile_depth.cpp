// Compile time against depth: the train step of an MLP with L tanh layers of
// width 64 (784 inputs, a 10-class softmax, categorical crossentropy, SGD on
// every W and b, the batch read through givens as the seed does), built and
// compiled with graphjit::function.
//
//   bench_compile_depth [--grad-per-param] [L ...]      (default L: 1 4 16 64 256)
//
// The gradients come from one T::grad(loss, params) call; --grad-per-param
// calls T::grad once per parameter, as examples/seed_model.hpp does (each
// call builds the backward graph from the loss down to its parameter, so the
// graph built grows with L^2 until merge joins the copies).
//
// Columns, in milliseconds of wall clock: building the graph and its
// gradients; the graph rewrites (compiler/passes); everything after them
// (expansion, fusion, scheduling, kernel generation and LLVM), and of that
// the compile_kernels stage alone (emitting IR, looking kernels up in the
// process-wide cache, LLVM optimization and machine code); the total, and the
// total per layer. On a busy machine the figures are provisional.
#include "compiler/pipeline.hpp"
#include "examples/seed_model.hpp"
#include "frontend/function_impl.hpp"

#include <graphjit/graphjit.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

namespace T = graphjit::tensor;
using clock_type = std::chrono::steady_clock;
using graphjit::SharedVariable;
using graphjit::Variable;

namespace {

constexpr int kWidth = 64;
constexpr int kInputs = 784;
constexpr int kClasses = 10;

double ms_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
}

struct Timing {
  double build_ms = 0, rewrite_ms = 0, lower_ms = 0, llvm_ms = 0, total_ms = 0;
};

std::vector<Variable> gradients(const Variable& loss, const std::vector<SharedVariable>& params, bool per_param) {
  if (!per_param) return graphjit::grad(loss, std::vector<Variable>(params.begin(), params.end()));
  std::vector<Variable> grads;
  for (const SharedVariable& p : params) grads.push_back(graphjit::grad(loss, p));
  return grads;
}

Timing compile_mlp(int layers, bool grad_per_param) {
  const auto t0 = clock_type::now();
  seed::Init init{"glorot", graphjit::RandomState(1), graphjit::float64};
  auto data_x = graphjit::shared(graphjit::Tensor::zeros({1000, kInputs}, graphjit::float64), "train_x", true);
  auto data_y = graphjit::shared(graphjit::Tensor::zeros({1000}, graphjit::int32), "train_y", true);
  auto x = T::matrix("x");
  auto y = T::vector("y", graphjit::int32);

  std::vector<seed::Layer> stack;
  stack.reserve(static_cast<std::size_t>(layers) + 1);
  Variable h = x;
  for (int l = 0; l < layers; ++l) {
    stack.emplace_back(h, l == 0 ? kInputs : kWidth, kWidth, init, seed::tanh_);
    h = stack.back().output;
  }
  stack.emplace_back(h, kWidth, kClasses, init);  // softmax by default
  auto loss = T::mean(T::categorical_crossentropy(stack.back().output, y));

  std::vector<SharedVariable> params;
  for (const seed::Layer& layer : stack) params.insert(params.end(), layer.params.begin(), layer.params.end());
  const std::vector<Variable> grads = gradients(loss, params, grad_per_param);
  std::vector<std::pair<SharedVariable, Variable>> updates;
  for (std::size_t i = 0; i < params.size(); ++i) updates.emplace_back(params[i], params[i] - 0.1 * grads[i]);
  auto index = T::scalar("batch index", graphjit::int32), size = T::scalar("batch size", graphjit::int32);
  Timing t;
  t.build_ms = ms_since(t0);

  const auto t1 = clock_type::now();
  auto train = graphjit::function({index, size}, {loss},
                                  {.updates = updates,
                                   .givens = {{x, data_x[T::slice(index * size, (index + 1) * size)]},
                                              {y, data_y[T::slice(index * size, (index + 1) * size)]}}});
  const double function_ms = ms_since(t1);
  const graphjit::compiler::Compiled& compiled = train.impl()->compiled;
  t.rewrite_ms = compiled.ms("optimize");
  t.lower_ms = function_ms - t.rewrite_ms;
  t.llvm_ms = compiled.ms("compile_kernels");
  t.total_ms = ms_since(t0);
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  bool grad_per_param = false;
  std::vector<int> depths;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--grad-per-param") grad_per_param = true;
    else depths.push_back(std::atoi(argv[i]));
  }
  if (depths.empty()) depths = {1, 4, 16, 64, 256};

  compile_mlp(1, grad_per_param);  // LLVM's one-time initialization is not the function's cost
  std::printf("MLP train step, L tanh layers of width %d, %s (ms, wall clock)\n", kWidth,
              grad_per_param ? "T::grad per parameter" : "one T::grad for all parameters");
  std::printf("%6s %10s %10s %14s %10s %10s %10s\n", "L", "build+grad", "rewrites", "lower+LLVM", "(LLVM)", "total",
              "per layer");
  for (int layers : depths) {
    try {
      const Timing t = compile_mlp(layers, grad_per_param);
      std::printf("%6d %10.1f %10.1f %14.1f %10.1f %10.1f %10.2f\n", layers, t.build_ms, t.rewrite_ms, t.lower_ms,
                  t.llvm_ms, t.total_ms, t.total_ms / layers);
    } catch (const std::exception& e) {
      std::printf("%6d failed: %s\n", layers, e.what());
    }
    std::fflush(stdout);
  }
  return 0;
}
