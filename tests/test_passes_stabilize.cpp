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

// ---- Theano's stabilization catalogue: each rule, before and after, at z = +-40 and +-800 ----

namespace {

const std::vector<double> kExtremes{-800, -40, 40, 800};

long double sigmoid_exact(long double z) { return 1.0L / (1.0L + expl(-z)); }
long double softplus_exact(long double z) { return z > 0 ? z + log1pl(expl(-z)) : log1pl(expl(z)); }

// `after` on the extremes: finite where `exact` is, and within a few ulps of it.
void check_extremes(const Graph& after, const Variable& z, long double (*exact)(long double)) {
  const std::vector<double> got = evaluate(after, {{z, Tensor::from_vector(kExtremes)}})[0].to_vector<double>();
  for (std::size_t i = 0; i < kExtremes.size(); ++i) {
    CAPTURE(kExtremes[i]);
    const double want = static_cast<double>(exact(kExtremes[i]));
    CHECK(std::isfinite(got[i]) == std::isfinite(want));
    if (std::isfinite(want)) CHECK(std::abs(got[i] - want) <= 1e-15 * std::max(std::abs(want), 1e-300));
  }
}

// d(out)/dz through T::grad, evaluated at the extremes in `mode`.
std::vector<double> derivative(const Variable& out, const Variable& z, Mode mode) {
  const Variable g = grad(T::sum(out), z);
  return function({z}, {g}, {.mode = mode}).call({Tensor::from_vector(kExtremes)})[0].to_vector<double>();
}

}  // namespace

TEST_CASE("sigmoid_from_exp: 1/(1+exp(-z)) and exp(z)/(1+exp(z)) become sigmoid(z)") {
  auto z = T::vector("z");
  const Inputs in{{z, uniform({8}, -5, 5)}};
  for (const Variable& p : {1 / (1 + T::exp(-z)), 1.0 / (T::exp(-z) + 1), T::exp(z) / (1 + T::exp(z))}) {
    const Graph after = stable({p}, in);
    INFO(dump(after));
    REQUIRE(after[0]->op == OpCode::Sigmoid);
    CHECK(after[0]->inputs[0] == z.node());
    check_extremes(after, z, sigmoid_exact);
  }
  // exp(z)/(1+exp(z)) is inf/inf = nan at z = 800 as written.
  CHECK(std::isnan(evaluate(roots({T::exp(z) / (1 + T::exp(z))}), {{z, Tensor({800.0})}})[0].item<double>()));
  // 1/(1+exp(y)) of any y is sigmoid(-y); 2/(1+exp(z)) is not a sigmoid.
  const Graph shifted = stable({1 / (1 + T::exp(z * 3))}, in);
  REQUIRE(shifted[0]->op == OpCode::Sigmoid);
  CHECK(shifted[0]->inputs[0]->op == OpCode::Neg);
  CHECK(stable({2 / (1 + T::exp(z))}, in)[0]->op == OpCode::TrueDiv);
}

TEST_CASE("one_minus_sigmoid: 1 - sigmoid(z) becomes sigmoid(-z), keeping its digits at z = 40") {
  auto z = T::vector("z");
  const Variable q = 1 - T::sigmoid(z);
  const Graph after = stable({q}, {{z, uniform({8}, -5, 5)}});
  REQUIRE(after[0]->op == OpCode::Sigmoid);
  REQUIRE(after[0]->inputs[0]->op == OpCode::Neg);
  CHECK(after[0]->inputs[0]->inputs[0] == z.node());
  check_extremes(after, z, [](long double x) { return sigmoid_exact(-x); });
  CHECK(evaluate(roots({q}), {{z, Tensor({40.0})}})[0].item<double>() == 0.0);  // 1 - (1 - 4e-18) as written
}

TEST_CASE("softplus_from_log_exp: log(1 + exp(z)) and log1p(exp(z)) become softplus(z)") {
  auto z = T::vector("z");
  for (const Variable& y : {T::log(1 + T::exp(z)), T::log(T::exp(z) + 1.0), T::log1p(T::exp(z))}) {
    const Graph after = stable({y}, {{z, uniform({8}, -5, 5)}});
    REQUIRE(after[0]->op == OpCode::Softplus);
    CHECK(after[0]->inputs[0] == z.node());
    check_extremes(after, z, softplus_exact);
    CHECK(std::isinf(evaluate(roots({y}), {{z, Tensor({800.0})}})[0].item<double>()));
  }
}

TEST_CASE("expm1: exp(z) - 1 becomes expm1(z), exact for tiny z, in the reference and the JIT") {
  auto z = T::vector("z");
  const Variable y = T::exp(z) - 1;
  const Graph after = stable({y}, {{z, uniform({8}, -5, 5)}});
  REQUIRE(after[0]->op == OpCode::Expm1);
  CHECK(after[0]->inputs[0] == z.node());
  check_extremes(after, z, [](long double x) { return expm1l(x); });
  const Inputs tiny{{z, Tensor({1e-20, -3e-12})}};
  CHECK(evaluate(roots({y}), tiny)[0].to_vector<double>()[0] == 0.0);
  CHECK(evaluate(after, tiny)[0].to_vector<double>() == std::vector<double>{1e-20, std::expm1(-3e-12)});
  // Compiled: the JIT's expm1 and its gradient (exp). (Mode::reference runs
  // the graph as written, without rewrites: there exp(1e-20) - 1 is 0.)
  for (Mode mode : {Mode::fast_run, Mode::fast_compile}) {
    const Variable dy = grad(T::sum(y), z);  // T::grad differentiates expm1(z)
    const Variable e = mode == Mode::fast_run ? y : T::expm1(z);
    const auto out = function({z}, {e, dy}, {.mode = mode}).call({Tensor({1e-20, -40.0, 40.0, 0.5})});
    const std::vector<double> v = out[0].to_vector<double>();
    CHECK(v[0] == 1e-20);
    CHECK(v[1] == -1.0);
    CHECK(v[2] == doctest::Approx(std::expm1(40.0)).epsilon(1e-15));
    CHECK(v[3] == doctest::Approx(std::expm1(0.5)).epsilon(1e-15));
    CHECK(out[1].to_vector<double>()[3] == doctest::Approx(std::exp(0.5)).epsilon(1e-15));
  }
}

TEST_CASE("logsumexp: log(sum(exp(x))) is shifted by the max, finite at +-800 and exact for -inf rows") {
  auto x = T::matrix("x");
  const Tensor rows = Tensor::from_vector<double>({-800, -800, 800, 800, -40, 40, 0, 1}, {4, 2});
  const Tensor far = Tensor::from_vector<double>({-800, -801, 800, 799}, {2, 2});
  for (bool keepdims : {false, true}) {
    CAPTURE(keepdims);
    const Variable y = T::log(T::sum(T::exp(x), std::vector<int>{1}, keepdims));
    const Graph after = stable({y}, {{x, uniform({3, 5}, -5, 5)}});
    CHECK(count_op(after, OpCode::Max) == 1);
    const std::vector<double> got = evaluate(after, {{x, rows}})[0].to_vector<double>();
    const double ln2 = std::log(2.0);
    CHECK(got[0] == doctest::Approx(-800 + ln2).epsilon(1e-15));
    CHECK(got[1] == doctest::Approx(800 + ln2).epsilon(1e-15));
    CHECK(got[2] == doctest::Approx(40 + std::log1p(std::exp(-80.0))).epsilon(1e-15));
    CHECK(got[3] == doctest::Approx(std::log(1 + std::exp(1.0))).epsilon(1e-15));
    const std::vector<double> before = evaluate(roots({y}), {{x, far}})[0].to_vector<double>();
    CHECK(std::isinf(before[0]));
    CHECK(std::isinf(before[1]));
  }
  // Over all axes, and a row of -inf gives -inf (not nan from -inf - -inf).
  const Variable all = T::log(T::sum(T::exp(x)));
  const Graph after = stable({all}, {{x, uniform({3, 5}, -5, 5)}});
  CHECK(evaluate(after, {{x, far}})[0].item<double>() == doctest::Approx(800 + std::log1p(std::exp(-1.0))).epsilon(1e-15));
  const double inf = std::numeric_limits<double>::infinity();
  const Graph by_row = stable({T::log(T::sum(T::exp(x), std::vector<int>{1}))}, {{x, uniform({3, 5}, -5, 5)}});
  const std::vector<double> edge =
      evaluate(by_row, {{x, Tensor::from_vector<double>({-inf, -inf, inf, 0}, {2, 2})}})[0].to_vector<double>();
  CHECK(edge[0] == -inf);
  CHECK(edge[1] == inf);
}

TEST_CASE("binary_crossentropy(sigmoid(z), t) becomes t softplus(-z) + (1 - t) softplus(z)") {
  auto z = T::vector("z");
  auto t = T::vector("t");
  const Variable loss = T::binary_crossentropy(T::sigmoid(z), t);
  const Inputs in{{z, uniform({8}, -5, 5)}, {t, uniform({8}, 0, 1, 2)}};
  const Graph after = stable({loss}, in);
  CHECK(count_op(after, OpCode::Log) == 0);
  CHECK(count_op(after, OpCode::Softplus) == 2);
  const Inputs extreme{{z, Tensor::from_vector(kExtremes)}, {t, Tensor({1.0, 0.0, 1.0, 0.0})}};
  CHECK(!all_finite(evaluate(roots({loss}), extreme)[0]));
  const std::vector<double> got = evaluate(after, extreme)[0].to_vector<double>();
  // t = 1: softplus(-z); t = 0: softplus(z).
  CHECK(got[0] == 800.0);
  CHECK(got[1] == doctest::Approx(static_cast<double>(softplus_exact(-40))).epsilon(1e-15));
  CHECK(got[2] == doctest::Approx(static_cast<double>(softplus_exact(-40))).epsilon(1e-15));
  CHECK(got[3] == 800.0);
}

TEST_CASE("gradients of the stabilized forms are stable: d/dz log(1 - sigmoid(z)) at z = 40 is -1") {
  auto z = T::vector("z");
  for (Mode mode : {Mode::reference, Mode::fast_run}) {
    CAPTURE(mode == Mode::reference);
    // d/dz log(1 - sigmoid(z)) = -sigmoid(z)
    std::vector<double> d = derivative(T::log(1 - T::sigmoid(z)), z, mode);
    CHECK(d[2] == -1.0);
    CHECK(d[3] == -1.0);
    CHECK(d[1] == doctest::Approx(-static_cast<double>(sigmoid_exact(-40))).epsilon(1e-14));
    CHECK(d[0] == 0.0);
    // d/dz log(sigmoid(z)) = sigmoid(-z)
    d = derivative(T::log(T::sigmoid(z)), z, mode);
    CHECK(d[0] == 1.0);
    CHECK(d[3] == 0.0);
    // d/dz log(1/(1+exp(-z))), spelled out: also sigmoid(-z)
    d = derivative(T::log(1 / (1 + T::exp(-z))), z, mode);
    CHECK(d[0] == 1.0);
    CHECK(d[2] == doctest::Approx(static_cast<double>(sigmoid_exact(-40))).epsilon(1e-14));
    CHECK(d[3] == 0.0);
    // d/dz log(1 + exp(z)) = sigmoid(z)
    d = derivative(T::log(1 + T::exp(z)), z, mode);
    CHECK(d[0] == 0.0);
    CHECK(d[1] == doctest::Approx(static_cast<double>(sigmoid_exact(-40))).epsilon(1e-14));
    CHECK(d[2] == 1.0);
    CHECK(d[3] == 1.0);
    for (double v : derivative(T::log(T::sum(T::exp(z))), z, mode)) CHECK(std::isfinite(v));
  }
  // As written, without the rewrite (an intermediate among the wrt variables
  // keeps T::grad from rewriting the cost), the chain rule gives nan at 40 and 800.
  const Variable one_minus = 1 - T::sigmoid(z);
  const Variable g = grad(T::sum(T::log(one_minus)), std::vector<Variable>{z, one_minus})[0];
  const std::vector<double> raw =
      function({z}, {g}, {.mode = Mode::reference}).call({Tensor::from_vector(kExtremes)})[0].to_vector<double>();
  CHECK(std::isnan(raw[3]));
}
