// The seed model's training step (tanh hidden layer, softmax output, squared
// error against one-hot targets, SGD updates) through the whole optimizer:
// the optimized graph has gemms and fewer nodes, and gives the reference's
// outputs and updates step after step.
#include "test_passes_support.hpp"

#include "compiler/passes/optimize.hpp"
#include "frontend/function_impl.hpp"

using namespace graphjit;
using namespace graphjit::testing;
namespace passes = graphjit::compiler::passes;

namespace {

struct Mlp {
  Variable x = T::matrix("x");
  Variable y = T::vector("y", int32);
  SharedVariable w1 = shared(uniform({20, 8}, -0.3, 0.3, 11), "W1");
  SharedVariable b1 = shared(Tensor::zeros({8}, float64), "b1");
  SharedVariable w2 = shared(uniform({8, 4}, -0.3, 0.3, 12), "W2");
  SharedVariable b2 = shared(Tensor::zeros({4}, float64), "b2");

  std::vector<SharedVariable> params() const { return {w1, b1, w2, b2}; }
  std::vector<Tensor> values() const {
    std::vector<Tensor> v;
    for (const SharedVariable& p : params()) v.push_back(p.get_value());
    return v;
  }

  Function train(Mode mode) const {
    auto hidden = T::tanh(T::dot(x, w1) + b1);
    auto out = T::softmax(T::dot(hidden, w2) + b2);
    auto loss = T::mean(T::sqr(T::extra_ops::to_one_hot(y, 4) - out));
    const std::vector<SharedVariable> ps = params();
    const std::vector<Variable> grads = grad(loss, std::vector<Variable>(ps.begin(), ps.end()));
    FunctionOptions options;
    options.mode = mode;
    for (std::size_t i = 0; i < ps.size(); ++i) options.updates.emplace_back(ps[i], ps[i] - 0.1 * grads[i]);
    return function({x, y}, {loss}, options);
  }
};

Tensor batch(int step) { return uniform({10, 20}, -1, 1, 100 + step); }
Tensor targets(int step) { return labels(10, 4, 200 + step, int32); }

}  // namespace

TEST_CASE("the MLP train step: gemms, fewer nodes, and the reference's outputs and updates over 3 steps") {
  Mlp mlp;
  const Function reference = mlp.train(Mode::reference);
  const compiler::Program& written = reference.impl()->compiled.optimized;  // reference mode rewrites nothing
  const compiler::Program optimized = passes::optimize(written, compiler::CompileOptions{});

  CHECK(count_op(written.outputs, OpCode::Gemm) == 0);
  // The hidden layer's gradient and both weight updates; the two forward
  // layers' products stay dots, their biases added by the kernels reading them.
  CHECK(count_op(optimized.outputs, OpCode::Gemm) == 3);
  CHECK(count_op(optimized.outputs, OpCode::Dot) == 2);
  CHECK(count_nodes(optimized.outputs) < count_nodes(written.outputs));
  MESSAGE("MLP train step: " << count_nodes(written.outputs) << " nodes as written, "
                             << count_nodes(optimized.outputs) << " after the passes");
  // Each weight's update is a gemm onto the weight itself: W - 0.1 * dot(in.T, g).
  for (std::size_t update : {1, 3}) {
    const ir::NodeRef& w = optimized.outputs[update];
    REQUIRE(w->op == OpCode::Gemm);
    CHECK(w->inputs[2]->op == OpCode::Shared);
    CHECK(w->attrs.alpha == -0.1);
    CHECK(w->attrs.beta == 1.0);
    CHECK(w->attrs.trans_a);
  }

  for (int step = 0; step < 3; ++step) {
    CAPTURE(step);
    const InputValues in{{mlp.x, batch(step)}, {mlp.y, targets(step)}};
    // Both graphs read the same current parameters; then the reference's call moves them.
    check_close(evaluate(written.outputs, in), evaluate(optimized.outputs, in), 1e-12);
    const std::vector<Tensor> before = mlp.values();
    reference(batch(step), targets(step));
    CHECK(!mlp.values()[0].equal(before[0]));  // the next step starts from new weights
  }
}

TEST_CASE("the MLP trained by a fast_run function follows the reference function for 3 steps") {
  Mlp a, b;  // equal initial values
  const Function reference = a.train(Mode::reference);
  const Function fast = b.train(Mode::fast_run);
  for (int step = 0; step < 3; ++step) {
    CAPTURE(step);
    check_close(reference(batch(step), targets(step)), fast(batch(step), targets(step)), 1e-10);
    check_close(a.values(), b.values(), 1e-10);
  }
}

TEST_CASE("a 64-layer MLP's train step goes through the whole optimizer") {
  // Issue 7: at 64 tanh layers the optimizer gave up ("rewrite rules keep
  // replacing shape_i..."): the loss's mean reads the batch length through
  // every layer. Width 4 keeps the reference evaluation cheap.
  constexpr int kLayers = 64, kWidth = 4, kClasses = 3;
  auto x = T::matrix("x");
  auto y = T::vector("y", int32);
  std::vector<SharedVariable> params;
  Variable h = x;
  for (int layer = 0; layer <= kLayers; ++layer) {
    const int n_out = layer == kLayers ? kClasses : kWidth;
    params.push_back(shared(uniform({kWidth, n_out}, -0.5, 0.5, 10 + layer), "W"));
    params.push_back(shared(Tensor::zeros({n_out}, float64), "b"));
    const Variable z = T::dot(h, params[params.size() - 2]) + params.back();
    h = layer == kLayers ? T::softmax(z) : T::tanh(z);
  }
  auto loss = T::mean(T::sqr(h - T::extra_ops::to_one_hot(y, kClasses)));
  const std::vector<Variable> grads = grad(loss, std::vector<Variable>(params.begin(), params.end()));
  compiler::Program written;
  written.inputs = {x.node(), y.node()};
  written.outputs = {loss.node()};
  for (std::size_t i = 0; i < params.size(); ++i) written.outputs.push_back((params[i] - 0.1 * grads[i]).node());
  written.num_user_outputs = 1;

  const compiler::Program optimized = passes::optimize(written, compiler::CompileOptions{});
  // Per layer: the weight's update and (above the first layer) the product
  // carrying the gradient down; the forward product (with its bias) is a dot.
  CHECK(count_op(optimized.outputs, OpCode::Gemm) == 2 * (kLayers + 1) - 1);
  CHECK(count_op(optimized.outputs, OpCode::Dot) == kLayers + 1);
  for (const ir::NodeRef& node : ir::toposort(optimized.outputs))
    if (node->op == OpCode::ShapeI) CHECK(node->inputs[0]->op != OpCode::Tanh);
  const InputValues in{{x, uniform({5, kWidth}, -1, 1, 3)}, {y, labels(5, kClasses, 4, int32)}};
  check_close(evaluate(written.outputs, in), evaluate(optimized.outputs, in), 1e-10);
}
