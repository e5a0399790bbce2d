// The Theano tutorial's examples ("Baby Steps - Algebra", "More Examples"
// with "Copying functions", "Derivatives in Theano"), ported line for line; the expectations are the
// values the tutorial prints.
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include <cmath>
#include <vector>

namespace T = graphjit::tensor;
using graphjit::function;
using graphjit::In;
using graphjit::named;
using graphjit::shared;
using graphjit::Tensor;

namespace {
void check_matrix(const Tensor& got, const std::vector<double>& want, double tol = 5e-9) {
  const std::vector<double> v = got.to_vector<double>();
  REQUIRE(v.size() == want.size());
  for (std::size_t i = 0; i < v.size(); ++i) CHECK(v[i] == doctest::Approx(want[i]).epsilon(tol));
}
}  // namespace

TEST_CASE("baby steps: adding two scalars") {
  auto x = T::dscalar("x");
  auto y = T::dscalar("y");
  auto z = x + y;
  auto f = function({x, y}, z);
  CHECK(f(2, 3).item<double>() == 5.0);
  CHECK(f(16.3, 12.1).item<double>() == doctest::Approx(28.4));
  CHECK(z.eval({{x, Tensor::scalar(16.3)}, {y, Tensor::scalar(12.1)}}).item<double>() == doctest::Approx(28.4));
}

TEST_CASE("baby steps: adding two matrices") {
  auto x = T::dmatrix("x");
  auto y = T::dmatrix("y");
  auto z = x + y;
  auto f = function({x, y}, z);
  check_matrix(f(Tensor({{1, 2}, {3, 4}}), Tensor({{10, 20}, {30, 40}})), {11, 22, 33, 44});
}

TEST_CASE("exercise: a + a ** 10") {
  auto a = T::vector();
  auto out = a + T::pow(a, 10);
  auto f = function({a}, out);
  check_matrix(f(Tensor({0, 1, 2})), {0, 2, 1026});
}

TEST_CASE("more examples: the logistic function, two ways") {
  auto x = T::dmatrix("x");
  auto s = 1 / (1 + T::exp(-x));
  auto logistic = function({x}, s);
  check_matrix(logistic(Tensor({{0, 1}, {-1, -2}})), {0.5, 0.73105858, 0.26894142, 0.11920292});
  auto s2 = (1 + T::tanh(x / 2)) / 2;
  auto logistic2 = function({x}, s2);
  check_matrix(logistic2(Tensor({{0, 1}, {-1, -2}})), {0.5, 0.73105858, 0.26894142, 0.11920292});
}

TEST_CASE("more examples: several outputs at once") {
  auto [a, b] = T::dmatrices("a", "b");
  auto diff = a - b;
  auto abs_diff = T::abs(diff);
  auto diff_squared = T::pow(diff, 2);
  auto f = function({a, b}, {diff, abs_diff, diff_squared});
  auto r = f(Tensor({{1, 1}, {1, 1}}), Tensor({{0, 1}, {2, 3}}));
  check_matrix(r[0], {1, 0, -1, -2});
  check_matrix(r[1], {1, 0, 1, 2});
  check_matrix(r[2], {1, 0, 1, 4});
}

TEST_CASE("more examples: default values for arguments, and arguments by name") {
  {
    auto [x, y] = T::dscalars("x", "y");
    auto z = x + y;
    auto f = function({x, In(y, 1.0)}, z);
    CHECK(f(33).item<double>() == 34.0);
    CHECK(f(33, 2).item<double>() == 35.0);
  }
  auto [x, y, w] = T::dscalars("x", "y", "w");
  auto z = (x + y) * w;
  auto f = function({x, In(y, 1.0), In(w, 2.0, "w_by_name")}, z);
  CHECK(f(33).item<double>() == 68.0);
  CHECK(f(33, 2).item<double>() == 70.0);
  CHECK(f(33, 0, 1).item<double>() == 33.0);
  CHECK(f(33, named("w_by_name", 1)).item<double>() == 34.0);
  CHECK(f(33, named("w_by_name", 1), named("y", 0)).item<double>() == 33.0);
}

TEST_CASE("more examples: shared variables, the accumulator, givens") {
  using namespace graphjit::kw;
  auto state = shared(0);
  auto inc = T::iscalar("inc");
  auto accumulator = function({inc}, state, updates = {{state, state + inc}});
  CHECK(state.get_value().item<std::int64_t>() == 0);
  CHECK(accumulator(1).item<std::int64_t>() == 0);
  CHECK(state.get_value().item<std::int64_t>() == 1);
  CHECK(accumulator(300).item<std::int64_t>() == 1);
  CHECK(state.get_value().item<std::int64_t>() == 301);

  state.set_value(Tensor::scalar(std::int64_t{-1}));
  CHECK(accumulator(3).item<std::int64_t>() == -1);
  CHECK(state.get_value().item<std::int64_t>() == 2);

  auto decrementor = function({inc}, state, updates = {{state, state - inc}});
  CHECK(decrementor(2).item<std::int64_t>() == 2);
  CHECK(state.get_value().item<std::int64_t>() == 0);

  auto fn_of_state = state * 2 + inc;
  // The type of foo must match the shared variable we are replacing with the givens.
  auto foo = T::scalar("foo", state.dtype());
  auto skip_shared = function({inc, foo}, fn_of_state, givens = {{state, foo}});
  CHECK(skip_shared(1, 3).item<std::int64_t>() == 7);
  CHECK(state.get_value().item<std::int64_t>() == 0);  // the old state is still there, unchanged
}

TEST_CASE("derivatives: the gradient of x ** 2 and of the logistic's sum") {
  {
    auto x = T::dscalar("x");
    auto y = T::pow(x, 2);
    auto gy = T::grad(y, x);
    auto f = function({x}, gy);
    CHECK(f(4).item<double>() == doctest::Approx(8.0));
    CHECK(f(94.2).item<double>() == doctest::Approx(188.4));
  }
  auto x = T::dmatrix("x");
  auto s = T::sum(1 / (1 + T::exp(-x)));
  auto gs = T::grad(s, x);
  auto dlogistic = function({x}, gs);
  check_matrix(dlogistic(Tensor({{0, 1}, {-1, -2}})), {0.25, 0.19661193, 0.19661193, 0.10499359});
}

TEST_CASE("more examples: copying functions (swap, delete_updates)") {
  auto state = shared(0, "state");
  auto inc = T::iscalar("inc");
  auto accumulator = function({inc}, state, {.updates = {{state, state + inc}}});
  CHECK(accumulator(10).item<std::int64_t>() == 0);
  CHECK(state.get_value().item<std::int64_t>() == 10);

  auto new_state = shared(0, "new_state");
  auto new_accumulator = accumulator.copy({.swap = {{state, new_state}}});
  CHECK(new_accumulator(100).item<std::int64_t>() == 0);
  CHECK(new_state.get_value().item<std::int64_t>() == 100);
  CHECK(state.get_value().item<std::int64_t>() == 10);

  auto null_accumulator = accumulator.copy({.delete_updates = true});
  CHECK(null_accumulator(9000).item<std::int64_t>() == 10);
  CHECK(state.get_value().item<std::int64_t>() == 10);
}
