#include "test_passes_support.hpp"
#include "compiler/passes/optimize.hpp"
#include "frontend/function_impl.hpp"
using namespace graphjit;
using namespace graphjit::testing;
TEST_CASE("dbg") {
  auto x = T::matrix("x"); auto y = T::vector("y", int32);
  auto w1 = shared(uniform({20, 8}, -0.3, 0.3, 11), "W1");
  auto b1 = shared(Tensor::zeros({8}, float64), "b1");
  auto w2 = shared(uniform({8, 4}, -0.3, 0.3, 12), "W2");
  auto b2 = shared(Tensor::zeros({4}, float64), "b2");
  auto hidden = T::tanh(T::dot(x, w1) + b1);
  auto out = T::softmax(T::dot(hidden, w2) + b2);
  auto loss = T::mean(T::sqr(T::extra_ops::to_one_hot(y, 4) - out));
  auto gs = grad(loss, std::vector<Variable>{w1, b1, w2, b2});
  auto f = function({x, y}, {loss}, {.updates = {{w1, w1 - 0.1 * gs[0]}, {b1, b1 - 0.1 * gs[1]}, {w2, w2 - 0.1 * gs[2]}, {b2, b2 - 0.1 * gs[3]}}, .mode = Mode::reference});
  compiler::Program p = f.impl()->compiled.optimized;
  MESSAGE(dump(p.outputs));
  MESSAGE(dump(compiler::passes::optimize(p, FunctionOptions{}).outputs));
}
