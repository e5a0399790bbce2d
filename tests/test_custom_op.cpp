// User-defined ops (graphjit/custom_op.hpp), with the example's op
// (examples/pairwise_sqdist.hpp) and small ops defined here: the compiled
// path runs the user's native kernel (counted), the reference mode runs
// perform, debug mode compares the two and names the op when they differ,
// gradients pass verify_grad, and bad definitions or inputs are errors that
// name the op.
#include <doctest/doctest.h>

#include "examples/pairwise_sqdist.hpp"
#include "thrown_message.hpp"

#include <graphjit/graphjit.hpp>

#include <atomic>
#include <cmath>

namespace T = graphjit::tensor;
using graphjit::CustomOp;
using graphjit::Mode;
using graphjit::OpDefinition;
using graphjit::OutputType;
using graphjit::Shape;
using graphjit::Tensor;
using graphjit::Variable;
using graphjit::testing::contains;
using graphjit::testing::thrown_message;

namespace {

std::atomic<int> native_calls{0}, perform_calls{0};

// cube(x) = x^3 elementwise, any rank; `broken` makes its native kernel add 1.
OpDefinition cube_definition(bool broken) {
  return {
      .name = broken ? "broken_cube" : "cube",
      .arity = 1,
      .type = [](const std::vector<Variable>& in) { return OutputType{in[0].dtype(), in[0].broadcastable()}; },
      .shape = [](const std::vector<Shape>& in) { return in[0]; },
      .perform =
          [](const std::vector<Tensor>& in) {
            ++perform_calls;
            Tensor y = in[0].copy();
            std::vector<double> v = y.to_vector<double>();
            for (double& x : v) x = x * x * x;
            return Tensor::from_vector(v, y.shape()).astype(y.dtype());
          },
      .native =
          [broken](const std::vector<Tensor>& in, Tensor& out) {
            ++native_calls;
            const Tensor x = in[0].astype(graphjit::float64).contiguous();
            const double* px = x.data<double>();
            for (std::int64_t i = 0; i < out.size(); ++i) {
              const double y = px[i] * px[i] * px[i] + (broken ? 1 : 0);
              if (out.dtype() == graphjit::float32) out.data<float>()[i] = static_cast<float>(y);
              else out.data<double>()[i] = y;
            }
          },
      .grad = [](const std::vector<Variable>& in, const Variable&,
                 const Variable& g) { return std::vector<Variable>{3.0 * T::sqr(in[0]) * g}; },
  };
}

const CustomOp& cube() {
  static const CustomOp op(cube_definition(false));
  return op;
}

Tensor random_matrix(std::int64_t rows, std::int64_t cols, std::uint64_t seed) {
  graphjit::RandomState rng(seed);
  return rng.uniform(-1, 1, {rows, cols});
}

}  // namespace

TEST_CASE("fast_run runs the user's native kernel, reference runs perform; both give perform's values") {
  auto x = T::dmatrix("x");
  auto y = cube()({x}) + 1.0;
  const Tensor arg = random_matrix(3, 4, 1);
  native_calls = perform_calls = 0;
  const Tensor fast = graphjit::function({x}, y, {.mode = Mode::fast_run})(arg);
  CHECK(native_calls == 1);
  CHECK(perform_calls == 0);
  const Tensor ref = graphjit::function({x}, y, {.mode = Mode::reference})(arg);
  CHECK(perform_calls == 1);
  for (std::int64_t i = 0; i < 3; ++i)
    for (std::int64_t j = 0; j < 4; ++j) {
      const double v = arg.get({i, j});
      CHECK(fast.get({i, j}) == doctest::Approx(v * v * v + 1).epsilon(1e-14));
      CHECK(ref.get({i, j}) == doctest::Approx(v * v * v + 1).epsilon(1e-14));
    }
  CHECK(graphjit::debugprint(y).find("custom{cube}") != std::string::npos);
}

TEST_CASE("the example's pairwise_sqdist: native against reference on strided views, float32 and float64") {
  const auto& sqdist = examples::pairwise_sqdist();
  for (auto dtype : {graphjit::float64, graphjit::float32}) {
    auto a = T::matrix("a", dtype);
    auto b = T::matrix("b", dtype);
    auto d = sqdist({a, b.T()});  // b.T() is a strided view in the compiled function
    const Tensor av = random_matrix(5, 3, 2).astype(dtype);
    const Tensor bv = random_matrix(3, 4, 3).astype(dtype);
    const Tensor fast = graphjit::function({a, b}, d, {.mode = Mode::fast_run})(av, bv);
    const Tensor ref = graphjit::function({a, b}, d, {.mode = Mode::reference})(av, bv);
    const Tensor debug = graphjit::function({a, b}, d, {.mode = Mode::debug})(av, bv);
    REQUIRE(fast.shape() == Shape{5, 4});
    CHECK(fast.dtype() == dtype);
    const double tol = dtype == graphjit::float32 ? 1e-5 : 1e-12;
    for (std::int64_t i = 0; i < 5; ++i)
      for (std::int64_t j = 0; j < 4; ++j) {
        CHECK(fast.get({i, j}) == doctest::Approx(ref.get({i, j})).epsilon(tol));
        CHECK(debug.get({i, j}) == doctest::Approx(ref.get({i, j})).epsilon(tol));
      }
  }
}

TEST_CASE("debug mode names the user op whose native kernel disagrees with perform") {
  static const CustomOp broken(cube_definition(true));
  auto x = T::dvector("x");
  auto f = graphjit::function({x}, broken({x}) * 2.0, {.mode = Mode::debug});
  const std::string message = thrown_message([&] { f(Tensor::from_vector(std::vector<double>{1, 2})); });
  CAPTURE(message);
  CHECK(contains(message, "broken_cube"));
}

TEST_CASE("gradients through user ops pass verify_grad") {
  graphjit::RandomState rng(5);
  graphjit::verify_grad([](const std::vector<Variable>& in) { return T::sum(cube()({in[0]}) * in[0]); },
                        {rng.uniform(-1, 1, {3, 2})});
  const auto& sqdist = examples::pairwise_sqdist();
  graphjit::verify_grad(
      [&](const std::vector<Variable>& in) { return T::sum(T::sqrt(sqdist({in[0], in[1]}) + 1.0)); },
      {rng.uniform(-1, 1, {4, 3}), rng.uniform(-1, 1, {5, 3})});
}

TEST_CASE("an op without a gradient, bad definitions and bad inputs are errors naming the op") {
  static const CustomOp no_grad({.name = "no_grad_op",
                                 .type = [](const std::vector<Variable>& in) {
                                   return OutputType{in[0].dtype(), in[0].broadcastable()};
                                 },
                                 .shape = [](const std::vector<Shape>& in) { return in[0]; },
                                 .perform = [](const std::vector<Tensor>& in) { return in[0].copy(); }});
  auto x = T::dvector("x");
  CHECK(contains(thrown_message([&] { T::grad(T::sum(no_grad({x})), x); }), "user op 'no_grad_op'"));
  CHECK(contains(thrown_message([&] { CustomOp({.name = "half"}); }), "lacks a type rule, a shape rule, perform"));
  const auto& sqdist = examples::pairwise_sqdist();
  const std::string type_message = thrown_message([&] { sqdist({x, x}); });
  CHECK(contains(type_message, "pairwise_sqdist"));
  CHECK(contains(type_message, "needs two float matrices"));
  CHECK(contains(thrown_message([&] { sqdist({x}); }), "takes 2 inputs, got 1"));
  auto a = T::dmatrix("a");
  auto f = graphjit::function({a}, sqdist({a, a.T()}));
  const std::string shape_message = thrown_message([&] { f(random_matrix(2, 3, 1)); });
  CHECK(contains(shape_message, "pairwise_sqdist"));
  CHECK(contains(shape_message, "rows of (2, 3) and (3, 2) differ in length"));
}

TEST_CASE("a perform that breaks its own rules is reported, not trusted") {
  static const CustomOp liar({.name = "liar",
                              .type = [](const std::vector<Variable>& in) {
                                return OutputType{in[0].dtype(), in[0].broadcastable()};
                              },
                              .shape = [](const std::vector<Shape>& in) { return in[0]; },
                              .perform = [](const std::vector<Tensor>&) { return Tensor::zeros({7}, graphjit::float64); }});
  auto x = T::dvector("x");
  for (Mode mode : {Mode::reference, Mode::fast_run}) {
    auto f = graphjit::function({x}, liar({x}), {.mode = mode});
    const std::string message = thrown_message([&] { f(Tensor::from_vector(std::vector<double>{1, 2})); });
    CHECK(contains(message, "perform of user op 'liar' returned float64 (7,), but its rules say float64 (2,)"));
  }
}
