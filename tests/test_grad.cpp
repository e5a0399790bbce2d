// T.grad semantics: what may be differentiated, the types of the results,
// accumulation, disconnected and integer paths, shared variables, and
// verify_grad's ability to catch a gradient that is wrong.
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include "thrown_message.hpp"

#include <string>
#include <vector>

namespace T = graphjit::tensor;
using graphjit::GradError;
using graphjit::Tensor;
using graphjit::Variable;
using graphjit::testing::contains;
using graphjit::testing::thrown_message;

namespace {

Tensor f64(std::vector<double> v, graphjit::Shape shape = {}) { return Tensor::from_vector(v, std::move(shape)); }
Tensor f32(std::vector<float> v, graphjit::Shape shape = {}) { return Tensor::from_vector(v, std::move(shape)); }

const graphjit::Mode kModes[] = {graphjit::Mode::reference, graphjit::Mode::fast_run};

// The gradient must have exactly the type of the variable it is taken with respect to.
void check_same_type(const Variable& g, const Variable& wrt) {
  REQUIRE(g.defined());
  CHECK(g.type_str() == wrt.type_str());
  CHECK(g.broadcastable() == wrt.broadcastable());
  CHECK(std::string(graphjit::dtype_name(g.dtype())) == graphjit::dtype_name(wrt.dtype()));
}

// Evaluates `outputs` from `inputs` at `args` in every mode and checks they agree with `want`.
void expect_values(const std::vector<Variable>& inputs, const Variable& output, const std::vector<Tensor>& args,
                   const std::vector<double>& want, const graphjit::Shape& shape) {
  for (auto mode : kModes) {
    auto f = graphjit::function(inputs, {output}, {.on_unused_input = graphjit::OnUnusedInput::ignore, .mode = mode});
    const Tensor got = f.call(std::vector<graphjit::Argument>(args.begin(), args.end()))[0];
    CHECK(graphjit::shape_str(got.shape()) == graphjit::shape_str(shape));
    const std::vector<double> values = got.to_vector<double>();
    REQUIRE(values.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) CHECK(values[i] == doctest::Approx(want[i]).epsilon(1e-12));
  }
}

}  // namespace

TEST_CASE("the cost must be a float scalar") {
  auto x = T::vector("x");
  const std::string vector_cost = thrown_message<GradError>([&] { graphjit::grad(x, x); });
  CHECK(contains(vector_cost, "'x'"));
  CHECK(contains(vector_cost, "scalar"));
  auto doubled = x * 2;
  const std::string expr_cost = thrown_message<GradError>([&] { graphjit::grad(doubled, x); });
  CHECK(contains(expr_cost, "'" + doubled.label() + "'"));
  CHECK(contains(expr_cost, "vector"));

  auto i = T::vector("i", graphjit::int32);
  auto int_cost = T::sum(i);
  const std::string int_msg = thrown_message<GradError>([&] { graphjit::grad(int_cost, i); });
  CHECK(contains(int_msg, int_cost.label()));
  CHECK(contains(int_msg, "int"));
  CHECK(contains(int_msg, "float"));

  CHECK_THROWS_AS(graphjit::grad(Variable(), x), GradError);
  CHECK_THROWS_AS(graphjit::grad(T::sum(x), Variable()), GradError);
}

TEST_CASE("a wrt the cost does not depend on is an error, or zeros of its type when allowed") {
  auto x = T::vector("x");
  auto y = T::matrix("y", graphjit::float32);
  auto cost = T::sum(T::sqr(x));
  const std::string msg = thrown_message<GradError>([&] { graphjit::grad(cost, y); });
  CHECK(contains(msg, "'y'"));
  CHECK(contains(msg, "allow_disconnected"));

  auto grads = graphjit::grad(cost, {x, y}, /*allow_disconnected=*/true);
  REQUIRE(grads.size() == 2);
  check_same_type(grads[0], x);
  check_same_type(grads[1], y);
  for (auto mode : kModes) {
    auto f = graphjit::function({x, y}, grads, {.mode = mode});
    auto out = f(f64({1, -2}), f32({1, 2, 3, 4, 5, 6}, {2, 3}));
    CHECK(out[0].to_vector<double>() == std::vector<double>{2, -4});
    CHECK(std::string(graphjit::dtype_name(out[1].dtype())) == "float32");
    CHECK(graphjit::shape_str(out[1].shape()) == "(2, 3)");
    CHECK(out[1].to_vector<double>() == std::vector<double>(6, 0.0));
  }
}

TEST_CASE("a variable used several times accumulates its gradients") {
  auto x = T::vector("x");
  expect_values({x}, graphjit::grad(T::sum(x * x), x), {f64({1, -2, 3})}, {2, -4, 6}, {3});
  // Three uses along different paths: d/dx [x^2 + 3x + tanh(x)] = 2x + 3 + 1 - tanh(x)^2.
  auto cost = T::sum(x * x + 3 * x + T::tanh(x));
  std::vector<double> want;
  for (double v : {0.5, -1.0}) want.push_back(2 * v + 3 + 1 - std::tanh(v) * std::tanh(v));
  expect_values({x}, graphjit::grad(cost, x), {f64({0.5, -1.0})}, want, {2});
  // The same wrt twice gets the same gradient twice.
  auto both = graphjit::grad(T::sum(x * x), {x, x});
  REQUIRE(both.size() == 2);
  expect_values({x}, both[1], {f64({1, 2})}, {2, 4}, {2});
}

TEST_CASE("gradients through dimshuffle, transpose and broadcasting have the wrt's exact type") {
  auto m = T::matrix("m");
  auto w = T::matrix("w");
  auto g_m = graphjit::grad(T::sum(m.T() * w), m);
  check_same_type(g_m, m);
  // d/dm sum(m^T * w) = w^T.
  expect_values({m, w}, g_m, {f64({0, 0, 0, 0, 0, 0}, {2, 3}), f64({1, 2, 3, 4, 5, 6}, {3, 2})}, {1, 3, 5, 2, 4, 6},
                {2, 3});

  // A declared-broadcastable row added to a matrix: its gradient sums over the rows and stays a row.
  auto row = T::tensor(graphjit::float64, {true, false}, "row");
  auto g_row = graphjit::grad(T::sum((row + m) * m), row);
  check_same_type(g_row, row);
  expect_values({row, m}, g_row, {f64({0, 0, 0}, {1, 3}), f64({1, 2, 3, 4, 5, 6}, {2, 3})}, {5, 7, 9}, {1, 3});

  // A float32 column: the gradient keeps float32 and the broadcastable column dim.
  auto col = T::tensor(graphjit::float32, {false, true}, "col");
  auto m32 = T::matrix("m32", graphjit::float32);
  auto g_col = graphjit::grad(T::sum(col * m32), col);
  check_same_type(g_col, col);

  // A vector implicitly broadcast against a matrix (left-padded dim), and a scalar.
  auto v = T::vector("v");
  auto s = T::scalar("s");
  auto grads = graphjit::grad(T::sum(v * m * s), {v, s});
  check_same_type(grads[0], v);
  check_same_type(grads[1], s);
  const std::vector<Tensor> args = {f64({1, 2, 3}), f64({1, 2, 3, 4, 5, 6}, {2, 3}), f64({2}, {})};
  expect_values({v, m, s}, grads[0], args, {10, 14, 18}, {3});  // s * column sums of m
  expect_values({v, m, s}, grads[1], args, {1 * 5 + 2 * 7 + 3 * 9}, {});

  // An explicit dimshuffle adding and reordering dims.
  auto g_v = graphjit::grad(T::sum(v.dimshuffle({0, -1}) * w), v);
  check_same_type(g_v, v);
  expect_values({v, w}, g_v, {f64({0, 0, 0}), f64({1, 2, 3, 4, 5, 6}, {3, 2})}, {3, 7, 11}, {3});
}

TEST_CASE("gradients w.r.t. float32 inputs stay float32, even through float64 parts of the cost") {
  auto x = T::vector("x", graphjit::float32);
  auto y = T::vector("y");
  auto g_mixed = graphjit::grad(T::sum(x * y), x);  // x * y is float64
  check_same_type(g_mixed, x);
  auto g_cast = graphjit::grad(T::sum(T::cast(x, graphjit::float64) * 3), x);
  check_same_type(g_cast, x);
  expect_values({x}, g_cast, {f32({1, 2})}, {3, 3}, {2});

  // A float32 cost built from every float-preserving elementwise op: no node of the
  // gradient graph may be float64 (a literal in a gradient formula must not upcast).
  auto cost = T::sum(T::sqrt(T::sqr(x) + 1) + T::sigmoid(x) * T::softplus(x) + T::tanh(x) / (1 + T::exp(x)) +
                     T::log1p(T::abs(x)) + T::log(T::sqr(x) + 2) + T::clip(x, -1, 1) + T::relu(x) +
                     T::maximum(x, x * 0.5) - T::minimum(x, x * 0.5) + T::pow(T::sqr(x) + 1, x) + T::switch_(x > 0, x, -x));
  REQUIRE(std::string(graphjit::dtype_name(cost.dtype())) == "float32");
  auto g = graphjit::grad(cost, x);
  check_same_type(g, x);
  CHECK_FALSE(contains(graphjit::debugprint(g), "float64"));
}

TEST_CASE("gradient w.r.t. a shared variable") {
  auto w = graphjit::shared(f64({1, 2, 3}), "w");
  auto x = T::vector("x");
  auto g = graphjit::grad(T::sum(T::sqr(w) * x), w);
  check_same_type(g, w);
  expect_values({x}, g, {f64({1, 10, -1})}, {2, 40, -6}, {3});  // 2 w x
  // The gradient follows set_value.
  w.set_value(f64({-1, 0, 0.5}));
  expect_values({x}, g, {f64({1, 10, -1})}, {-2, 0, -1}, {3});
}

TEST_CASE("integer paths stop the gradient") {
  auto x = T::vector("x");
  auto through_int = T::cast(T::cast(x, graphjit::int32), graphjit::float64);
  const std::string msg = thrown_message<GradError>([&] { graphjit::grad(T::sum(through_int), x); });
  CHECK(contains(msg, "'x'"));
  CHECK(contains(msg, "integer"));
  auto zeros = graphjit::grad(T::sum(through_int), x, /*allow_disconnected=*/true);
  check_same_type(zeros, x);
  expect_values({x}, zeros, {f64({1.5, -2.5})}, {0, 0}, {2});
  // Only the float path contributes when both exist.
  expect_values({x}, graphjit::grad(T::sum(x * 2 + through_int), x), {f64({1.5, -2.5})}, {2, 2}, {2});
  // A comparison used as a mask passes no gradient to its operands.
  expect_values({x}, graphjit::grad(T::sum(x * (x > 0)), x), {f64({1.5, -2.5})}, {1, 0}, {2});
  // An integer wrt cannot be differentiated.
  auto i = T::vector("i", graphjit::int32);
  CHECK_THROWS_AS(graphjit::grad(T::sum(x * i), i), GradError);
}

TEST_CASE("gradient w.r.t. an intermediate expression, and of the cost w.r.t. itself") {
  auto x = T::vector("x");
  auto h = T::tanh(x);
  auto g = graphjit::grad(T::sum(h * 3 + x), h);
  check_same_type(g, h);
  expect_values({x}, g, {f64({0.1, 0.2})}, {3, 3}, {2});
  auto s = T::scalar("s");
  expect_values({s}, graphjit::grad(s, s), {f64({4}, {})}, {1}, {});
}

TEST_CASE("gradients are graphs: the gradient of a gradient is the second derivative") {
  auto x = T::vector("x");
  auto first = graphjit::grad(T::sum(x * x * x), x);   // 3 x^2
  auto second = graphjit::grad(T::sum(first), x);      // 6 x
  expect_values({x}, first, {f64({1, -2})}, {3, 12}, {2});
  expect_values({x}, second, {f64({1, -2})}, {6, -12}, {2});
  // d/dx [tanh(x) + x (1 - tanh(x)^2)], checked numerically.
  CHECK_NOTHROW(graphjit::verify_grad(
      [](const auto& in) { return graphjit::grad(T::sum(T::tanh(in[0]) * in[0]), in[0]); }, {f64({0.3, -0.8, 1.7})}));
}

TEST_CASE("gradient through switch goes to the chosen arm only") {
  auto x = T::vector("x");
  auto g = graphjit::grad(T::sum(T::switch_(x > 0, x * x, -3 * x)), x);
  expect_values({x}, g, {f64({2, -1, 0.5})}, {4, -3, 1}, {3});
}

TEST_CASE("verify_grad catches a gradient that does not match finite differences") {
  // sgn's symbolic gradient is 0, but at 0 it jumps: the finite difference is ~1/eps.
  const std::string sgn_msg = thrown_message<GradError>(
      [] { graphjit::verify_grad([](const auto& in) { return T::sgn(in[0]); }, {f64({0.5, 0.0, -0.5})}); });
  CHECK(contains(sgn_msg, "input 0"));
  CHECK(contains(sgn_msg, "(1,)"));  // the index of the bad element
  // relu at its kink: symbolic 0, numeric 1/2.
  CHECK_THROWS_AS(graphjit::verify_grad([](const auto& in) { return T::relu(in[0]); }, {f64({0.0}, {})}), GradError);
  // Same functions away from the kink pass, so it is the kink that is caught.
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return T::sgn(in[0]); }, {f64({0.5, -0.5})}));
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return T::relu(in[0]); }, {f64({0.5}, {})}));
  // The second input is reported when it is the wrong one.
  const std::string second = thrown_message<GradError>([] {
    graphjit::verify_grad([](const auto& in) { return in[0] * T::sgn(in[1]); }, {f64({1.0, 2.0}), f64({0.3, 0.0})});
  });
  CHECK(contains(second, "input 1"));
  // Of several mismatches, the largest is reported.
  const std::string largest = thrown_message<GradError>([] {
    graphjit::verify_grad([](const auto& in) { return T::sgn(in[0]) + 1000 * T::sgn(in[1]); },
                          {f64({0.0}, {}), f64({0.0}, {})});
  });
  CHECK(contains(largest, "largest mismatch is input 1"));
}

TEST_CASE("verify_grad rejects what it cannot check") {
  const std::string int_point = thrown_message<GradError>([] {
    graphjit::verify_grad([](const auto& in) { return T::cast(in[0], graphjit::float64); },
                          {Tensor::from_vector(std::vector<std::int32_t>{1, 2})});
  });
  CHECK(contains(int_point, "int32"));
  const std::string int_output = thrown_message<GradError>(
      [] { graphjit::verify_grad([](const auto& in) { return in[0] > 0; }, {f64({1.0, 2.0})}); });
  CHECK(contains(int_output, "float"));
}

TEST_CASE("verify_grad on a float64 point with a float32 output uses float32 tolerances") {
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return T::tanh(T::cast(in[0], graphjit::float32)); },
                                      {f64({0.3, -0.7, 1.1})}));
}
