// ifelse (issue 12): lazy in every mode (a branch that would fail is not
// computed; the profile counts the steps of each branch), nested branches,
// gradients through both branches, and the type rule.
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include <string>
#include <vector>

namespace T = graphjit::tensor;
using graphjit::ifelse;
using graphjit::Mode;
using graphjit::Tensor;
using graphjit::Variable;

namespace {

const Mode kModes[] = {Mode::reference, Mode::fast_compile, Mode::fast_run, Mode::debug};

Tensor vec(std::vector<double> v) { return Tensor::from_vector(v); }

double scalar_of(const Tensor& t) { return t.item<double>(); }

}  // namespace

TEST_CASE("ifelse picks a branch; switch_ stays elementwise") {
  auto c = T::scalar("c", graphjit::int64);
  auto x = T::vector("x");
  for (Mode mode : kModes) {
    CAPTURE(graphjit::mode_name(mode));
    auto f = graphjit::function({c, x}, {ifelse(c, x * 2.0, x + 1.0)}, {.mode = mode});
    CHECK(f(1, vec({1, 2}))[0].to_vector<double>() == std::vector<double>{2, 4});
    CHECK(f(0, vec({1, 2}))[0].to_vector<double>() == std::vector<double>{2, 3});
  }
}

TEST_CASE("only the branch taken is computed: a branch that would fail does not run") {
  auto c = T::scalar("c", graphjit::bool_);
  auto x = T::vector("x");
  // Reshaping 10 elements into rows of 7 fails when it runs.
  auto failing = T::sum(x.reshape(std::vector<std::int64_t>{-1, 7}));
  for (Mode mode : kModes) {
    CAPTURE(graphjit::mode_name(mode));
    auto f = graphjit::function({c, x}, {ifelse(c, failing, T::sum(x) * 2.0)}, {.mode = mode});
    const Tensor ten = Tensor::full({10}, 1.0, graphjit::float64);
    CHECK(scalar_of(f(Tensor::scalar(false), ten)[0]) == 20.0);
    CHECK_THROWS_AS(f(Tensor::scalar(true), ten), graphjit::ShapeError);
  }
}

TEST_CASE("the profile counts each branch's steps only when it is taken") {
  auto c = T::scalar("c", graphjit::int64);
  auto x = T::vector("x");
  // One native step per branch: a dot, and a concatenation.
  auto out = ifelse(c, T::dot(x, x), T::sum(T::concatenate({x, x})));
  auto f = graphjit::function({c, x}, {out}, {.profile = true});
  for (int call = 0; call < 3; ++call) f(1, vec({1, 2, 3}));
  CHECK(scalar_of(f(0, vec({1, 2, 3}))[0]) == 12.0);
  std::size_t dots = 0, concats = 0;
  for (const auto& step : graphjit::profile(f).steps) {
    if (step.kind == "dot") dots = step.calls;
    if (step.kind == "concatenate") concats = step.calls;
  }
  CHECK(dots == 3);
  CHECK(concats == 1);
}

TEST_CASE("nested ifelse: an inner branch runs only when both conditions select it") {
  auto a = T::scalar("a", graphjit::int64), b = T::scalar("b", graphjit::int64);
  auto x = T::vector("x");
  auto failing = T::sum(x.reshape(std::vector<std::int64_t>{-1, 7}));
  // The inner condition is computed either way; the failing branch only under a and b.
  auto out = ifelse(a, ifelse(b, failing, T::sum(x)), T::max(x));
  for (Mode mode : kModes) {
    CAPTURE(graphjit::mode_name(mode));
    auto f = graphjit::function({a, b, x}, {out}, {.mode = mode});
    const Tensor v = vec({1, 5, 2});
    CHECK(scalar_of(f(0, 1, v)[0]) == 5.0);
    CHECK(scalar_of(f(1, 0, v)[0]) == 8.0);
    CHECK_THROWS_AS(f(1, 1, v), graphjit::ShapeError);
  }
}

TEST_CASE("gradients flow through the branch taken") {
  auto c = T::scalar("c", graphjit::int64);
  auto x = T::vector("x");
  auto cost = ifelse(c, T::sum(T::sqr(x)), T::sum(T::sin(x)));
  auto g = graphjit::grad(cost, x);
  for (Mode mode : {Mode::reference, Mode::fast_run}) {
    auto f = graphjit::function({c, x}, {g}, {.mode = mode});
    const auto taken = f(1, vec({1, -2}))[0].to_vector<double>();
    CHECK(taken == std::vector<double>{2, -4});
    const auto other = f(0, vec({0.5, 1}))[0].to_vector<double>();
    CHECK(other[0] == doctest::Approx(std::cos(0.5)));
    CHECK(other[1] == doctest::Approx(std::cos(1.0)));
  }
  for (std::int64_t branch : {0, 1})
    graphjit::verify_grad(
        [&](const std::vector<Variable>& in) {
          return ifelse(graphjit::constant(branch, graphjit::int64), T::tanh(in[0]) * in[1], in[0] * in[0] + in[1]);
        },
        {vec({0.3, -0.7}), vec({1.5, 2.0})});
}

TEST_CASE("ifelse's type rule names the problem") {
  auto x = T::vector("x");
  CHECK_THROWS_WITH_AS(ifelse(T::vector("c"), x, x), doctest::Contains("condition must be a scalar"),
                       graphjit::TypeError);
  CHECK_THROWS_WITH_AS(ifelse(T::scalar("c"), x, T::matrix("m")), doctest::Contains("same type"), graphjit::TypeError);
}
