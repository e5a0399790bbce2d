// Stabilize: each rule fires, matches the reference on ordinary inputs, and
// stays finite on the inputs where the original over- or underflows.
#include "test_passes_support.hpp"

#include "compiler/passes/optimize.hpp"

using namespace graphjit;
using namespace graphjit::testing;
namespace passes = graphjit::compiler::passes;

namespace {

Graph stable(const std::vector<Variable>& outputs, const Inputs& inputs, double rtol = 1e-12) {
  return rewrite_and_check(passes::stabilize, outputs, inputs, rtol);
}

bool all_finite(const Tensor& t) {
  for (double v : t.to_vector<double>())
    if (!std::isfinite(v)) return false;
  return true;
}

// The whole fast_run pipeline on a graph with the given inputs.
Graph optimized(const std::vector<Variable>& inputs, const std::vector<Variable>& outputs) {
  compiler::Program program;
  for (const Variable& v : inputs) program.inputs.push_back(v.node());
  program.outputs = roots(outputs);
  program.num_user_outputs = outputs.size();
  return passes::optimize(program, compiler::CompileOptions{}).outputs;
}

}  // namespace

TEST_CASE("log(softmax(x)) becomes log_softmax(x), finite where softmax underflows") {
  auto x = T::matrix("x");
  auto y = T::log(T::softmax(x));
  const Graph after = stable({y}, {{x, uniform({4, 5}, -3, 3)}});
  REQUIRE(after[0]->op == OpCode::LogSoftmax);
  CHECK(after[0]->inputs[0] == x.node());
  const Inputs extreme{{x, Tensor::from_vector<double>({0, -800, 800, 0}, {2, 2})}};
  CHECK(!all_finite(evaluate(roots({y}), extreme)[0]));
  CHECK(all_finite(evaluate(after, extreme)[0]));
}

TEST_CASE("log(1 + x) and log(x + 1) become log1p(x), exact for tiny x") {
  auto x = T::vector("x");
  for (const Variable& y : {T::log(1 + x), T::log(x + 1.0)}) {
    const Graph after = stable({y}, {{x, uniform({6}, -0.5, 3)}});
    REQUIRE(after[0]->op == OpCode::Log1p);
    CHECK(after[0]->inputs[0] == x.node());
    const Inputs tiny{{x, Tensor({1e-20})}};
    CHECK(evaluate(roots({y}), tiny)[0].item<double>() == 0.0);  // 1 + 1e-20 rounds to 1
    CHECK(evaluate(after, tiny)[0].item<double>() == 1e-20);
  }
  // log(2 + x) is not log1p.
  CHECK(stable({T::log(2 + x)}, {{x, uniform({3}, 0, 1)}})[0]->op == OpCode::Log);
}

TEST_CASE("log(sigmoid(x)) becomes -softplus(-x) and log(1 - sigmoid(x)) becomes -softplus(x)") {
  auto x = T::vector("x");
  const Inputs in{{x, uniform({8}, -5, 5)}};
  const Inputs extreme{{x, Tensor({-800.0, 800.0})}};

  auto log_s = T::log(T::sigmoid(x));
  const Graph a = stable({log_s}, in);
  REQUIRE(a[0]->op == OpCode::Neg);
  REQUIRE(a[0]->inputs[0]->op == OpCode::Softplus);
  CHECK(a[0]->inputs[0]->inputs[0]->op == OpCode::Neg);
  CHECK(evaluate(a, extreme)[0].to_vector<double>() == std::vector<double>{-800.0, 0.0});
  CHECK(!all_finite(evaluate(roots({log_s}), extreme)[0]));

  auto log_1ms = T::log(1 - T::sigmoid(x));
  const Graph b = stable({log_1ms}, in);
  REQUIRE(b[0]->op == OpCode::Neg);
  REQUIRE(b[0]->inputs[0]->op == OpCode::Softplus);
  CHECK(b[0]->inputs[0]->inputs[0] == x.node());
  CHECK(evaluate(b, extreme)[0].to_vector<double>() == std::vector<double>{0.0, -800.0});
  CHECK(!all_finite(evaluate(roots({log_1ms}), extreme)[0]));
}

TEST_CASE("log(exp(x)) and exp(log(x)) become x (the latter only equal for x >= 0)") {
  auto x = T::vector("x");
  const Graph a = stable({T::log(T::exp(x))}, {{x, uniform({5}, -3, 3)}});
  CHECK(a[0] == x.node());
  CHECK(evaluate(a, {{x, Tensor({1000.0})}})[0].item<double>() == 1000.0);  // exp(1000) is inf
  const Graph b = stable({T::exp(T::log(x))}, {{x, uniform({5}, 0.1, 3)}});
  CHECK(b[0] == x.node());
  // An integer x is converted to the float result type.
  auto i = T::vector("i", int32);
  const Graph c = stable({T::log(T::exp(i))}, {{i, Tensor::from_vector<std::int32_t>({1, 2})}});
  REQUIRE(c[0]->op == OpCode::Cast);
  CHECK(c[0]->inputs[0] == i.node());
}

TEST_CASE("categorical_crossentropy(softmax(x), int targets) becomes the crossentropy of log_softmax(x)") {
  auto x = T::matrix("x");
  auto y = T::vector("y", int32);
  auto loss = T::categorical_crossentropy(T::softmax(x), y);
  const Graph after = stable({loss}, {{x, uniform({6, 4}, -3, 3)}, {y, labels(6, 4, 3, int32)}});
  REQUIRE(after[0]->op == OpCode::CrossentropyCategorical);
  CHECK(after[0]->attrs.ints == std::vector<std::int64_t>{1});  // of log-probabilities
  CHECK(after[0]->inputs[0]->op == OpCode::LogSoftmax);
  CHECK(count_op(after, OpCode::Softmax) == 0);
  const Inputs extreme{{x, Tensor::from_vector<double>({900, 0, 0, 900}, {2, 2})}, {y, labels(2, 1, 1, int32)}};
  CHECK(!all_finite(evaluate(roots({loss}), extreme)[0]));
  CHECK(evaluate(after, extreme)[0].to_vector<double>() == std::vector<double>{0.0, 900.0});
}

TEST_CASE("the one-hot crossentropy form is stabilized through log(softmax)") {
  auto x = T::matrix("x");
  auto t = T::matrix("t");
  auto loss = T::categorical_crossentropy(T::softmax(x), t);
  const Graph after = stable({loss}, {{x, uniform({5, 3}, -3, 3)}, {t, uniform({5, 3}, 0, 1, 2)}});
  CHECK(count_op(after, OpCode::LogSoftmax) == 1);
  CHECK(count_op(after, OpCode::Log) == 0);
}

bool divides_by_softmax(const Graph& g) {
  for (const ir::NodeRef& n : ir::toposort(g))
    if (n->op == OpCode::TrueDiv && n->inputs[1]->op == OpCode::Softmax) return true;
  return false;
}

TEST_CASE("the gradient of crossentropy(softmax) with int targets loses its division by the probabilities") {
  auto x = T::matrix("x");
  auto w = T::matrix("w");
  auto y = T::vector("y", int32);
  auto loss = T::mean(T::categorical_crossentropy(T::softmax(T::dot(x, w)), y));
  const Variable gw = grad(loss, w);
  const Graph before = roots({loss, gw});
  CHECK(divides_by_softmax(before));
  const Graph after = optimized({x, w, y}, {loss, gw});
  CHECK(!divides_by_softmax(after));
  CHECK(count_op(after, OpCode::SoftmaxGrad) == 0);
  for (const ir::NodeRef& n : ir::toposort(after))
    if (n->op == OpCode::CrossentropyCategorical) CHECK(n->inputs[0]->op == OpCode::LogSoftmax);
  check_close(evaluate(before, {{x, uniform({6, 3}, -1, 1)}, {w, uniform({3, 4}, -1, 1, 2)}, {y, labels(6, 4, 3, int32)}}),
              evaluate(after, {{x, uniform({6, 3}, -1, 1)}, {w, uniform({3, 4}, -1, 1, 2)}, {y, labels(6, 4, 3, int32)}}),
              1e-10);

  // Logits 900 apart: each target's probability underflows to 0. The
  // reference gives an infinite loss and a nan gradient; the optimized graph
  // the true values (loss 900; gradient -x^T (onehot - softmax) / n).
  const Inputs far{{x, Tensor::from_vector<double>({1, 0, 0, 1}, {2, 2})},
                   {w, Tensor::from_vector<double>({900, 0, 0, 900}, {2, 2})},
                   {y, Tensor::from_vector<std::int32_t>({1, 0})}};
  CHECK(!all_finite(evaluate(before, far)[1]));
  const std::vector<Tensor> values = evaluate(after, far);
  CHECK(values[0].item<double>() == 900.0);
  CHECK(values[1].to_vector<double>() == std::vector<double>{0.5, -0.5, -0.5, 0.5});
}

TEST_CASE("the gradient of the one-hot crossentropy form loses its division by the probabilities") {
  auto x = T::matrix("x");
  auto t = T::matrix("t");
  auto loss = T::mean(T::categorical_crossentropy(T::softmax(x), t));
  const Variable gx = grad(loss, x);
  const Graph before = roots({loss, gx});
  CHECK(divides_by_softmax(before));
  const Graph after = optimized({x, t}, {loss, gx});
  CHECK(!divides_by_softmax(after));
  CHECK(count_op(after, OpCode::SoftmaxGrad) == 0);
  const Inputs in{{x, uniform({5, 3}, -3, 3)}, {t, uniform({5, 3}, 0, 1, 2)}};
  check_close(evaluate(before, in), evaluate(after, in), 1e-10);
  const Inputs far{{x, Tensor::from_vector<double>({900, 0, 0, 900}, {2, 2})},
                   {t, Tensor::from_vector<double>({0, 1, 1, 0}, {2, 2})}};
  CHECK(!all_finite(evaluate(before, far)[1]));
  const std::vector<Tensor> values = evaluate(after, far);
  CHECK(values[0].item<double>() == 900.0);
  CHECK(values[1].to_vector<double>() == std::vector<double>{0.5, -0.5, -0.5, 0.5});
}
