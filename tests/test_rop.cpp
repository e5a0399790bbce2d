// Rop (forward mode), Lop, jacobian and hessian (issue 12), against finite
// differences and against each other: Rop's Jv equals jacobian times v, Lop's
// v^T J equals v times the jacobian, and Rop of the gradient equals Hv.
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include <cmath>
#include <vector>

namespace T = graphjit::tensor;
using graphjit::Mode;
using graphjit::Tensor;
using graphjit::Variable;

namespace {

Tensor vec(std::vector<double> v) { return Tensor::from_vector(v); }

void check_close(const std::vector<double>& got, const std::vector<double>& want, double tol = 1e-6) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(want[i]).epsilon(tol).scale(1));
}

std::vector<double> axpy(const std::vector<double>& x, double a, const std::vector<double>& v) {
  std::vector<double> r = x;
  for (std::size_t i = 0; i < r.size(); ++i) r[i] += a * v[i];
  return r;
}

// (f(x + eps d) - f(x - eps d)) / 2 eps for the one-input function f.
std::vector<double> central_difference(const graphjit::Function& f, const std::vector<double>& x, const std::vector<double>& d) {
  const double eps = 1e-6;
  const auto plus = f(vec(axpy(x, eps, d)))[0].to_vector<double>();
  const auto minus = f(vec(axpy(x, -eps, d)))[0].to_vector<double>();
  std::vector<double> fd(plus.size());
  for (std::size_t i = 0; i < fd.size(); ++i) fd[i] = (plus[i] - minus[i]) / (2 * eps);
  return fd;
}

std::vector<double> unit(int j) {
  std::vector<double> e(3, 0.0);
  e[static_cast<std::size_t>(j)] = 1;
  return e;
}

const std::vector<double> kX{0.3, -0.8, 1.1}, kV{0.5, 2.0, -1.0};

// f(x) = tanh(W x + b) * sum(x) + softmax(x) * x: elementwise, broadcasting, dot, reductions, softmax.
Variable model(const Variable& x) {
  const Tensor w = Tensor::from_vector<double>({0.2, -0.4, 0.9, 1.3, 0.1, -0.7, 0.5, 0.6, -0.2}, {3, 3});
  auto hidden = T::tanh(T::dot(graphjit::constant(w), x) + 0.3);
  return hidden * T::sum(x) + T::nnet::softmax(x.dimshuffle({-1, 0})).flatten() * x + T::sqr(T::sigmoid(x));
}

}  // namespace

TEST_CASE("Rop is Jv: against central finite differences, in the reference and compiled") {
  auto x = T::vector("x"), v = T::vector("v");
  auto f = model(x);
  auto jv = graphjit::Rop(f, x, v);
  const auto fd = central_difference(graphjit::function({x}, {f}), kX, kV);
  for (Mode mode : {Mode::reference, Mode::fast_run}) {
    auto r = graphjit::function({x, v}, {jv}, {.mode = mode});
    check_close(r(vec(kX), vec(kV))[0].to_vector<double>(), fd, 1e-6);
  }
}

TEST_CASE("Rop's Jv equals jacobian times v; Lop's v^T J equals v times the jacobian") {
  auto x = T::vector("x"), v = T::vector("v"), u = T::vector("u");
  auto f = model(x);
  auto J = graphjit::jacobian(f, x, 3);
  auto fn = graphjit::function({x, v, u}, {graphjit::Rop(f, x, v), T::dot(J, v), graphjit::Lop(f, x, u), T::dot(u, J), J});
  const auto out = fn(vec(kX), vec(kV), vec({1.0, -2.0, 0.5}));
  check_close(out[0].to_vector<double>(), out[1].to_vector<double>(), 1e-10);
  check_close(out[2].to_vector<double>(), out[3].to_vector<double>(), 1e-10);
  CHECK(out[4].shape() == graphjit::Shape{3, 3});
  // The jacobian's rows against finite differences.
  auto value = graphjit::function({x}, {f});
  for (int j = 0; j < 3; ++j) {
    const auto column = central_difference(value, kX, unit(j));
    for (int i = 0; i < 3; ++i) CHECK(out[4].get({i, j}) == doctest::Approx(column[i]).epsilon(1e-6));
  }
  // A wrong size is caught when the function runs.
  auto wrong = graphjit::function({x}, {graphjit::jacobian(f, x, 4)});
  CHECK_THROWS_AS(wrong(vec(kX)), graphjit::ShapeError);
}

TEST_CASE("hessian: symmetric, against finite differences of the gradient, and Rop of the gradient is Hv") {
  auto x = T::vector("x"), v = T::vector("v");
  auto cost = T::sum(model(x) * T::cos(x));
  auto g = graphjit::grad(cost, x);
  auto H = graphjit::hessian(cost, x, 3);
  auto fn = graphjit::function({x, v}, {H, T::dot(H, v), graphjit::Rop(g, x, v)});
  const auto out = fn(vec(kX), vec(kV));
  check_close(out[1].to_vector<double>(), out[2].to_vector<double>(), 1e-9);
  auto gradient = graphjit::function({x}, {g});
  for (int j = 0; j < 3; ++j) {
    const auto column = central_difference(gradient, kX, unit(j));
    for (int i = 0; i < 3; ++i) {
      CHECK(out[0].get({i, j}) == doctest::Approx(column[i]).epsilon(1e-5));
      CHECK(out[0].get({i, j}) == doctest::Approx(out[0].get({j, i})).epsilon(1e-10));
    }
  }
}

TEST_CASE("Rop through indexing, concatenation, ifelse and matrices with broadcasting") {
  auto x = T::matrix("x"), v = T::matrix("v"), b = T::vector("b"), vb = T::vector("vb");
  auto c = T::scalar("c", graphjit::int64);
  auto y = T::concatenate({T::exp(x + b) [graphjit::tensor::slice(0, 1)], T::log1p(T::sqr(x))}, 0);
  auto f = graphjit::ifelse(c, T::sum(y, std::vector<int>{1}) + T::max(y, std::vector<int>{1}),
                            T::sum(T::sin(x), std::vector<int>{1}));
  auto jv = graphjit::Rop(f, {x, b}, {v, vb});
  auto value = graphjit::function({c, x, b}, {f});
  auto r = graphjit::function({c, x, b, v, vb}, {jv});
  const Tensor X = Tensor::from_vector<double>({0.1, 0.2, -0.3, 0.4}, {2, 2}), V = Tensor::from_vector<double>({1, -1, 2, 0.5}, {2, 2});
  const Tensor B = vec({0.7, -0.2}), VB = vec({0.3, 0.9});
  const double eps = 1e-6;
  auto shifted = [&](const Tensor& t, const Tensor& d, double a) {
    Tensor s = t.copy();
    for (std::int64_t i = 0; i < t.size(); ++i) s.data<double>()[i] += a * d.data<double>()[i];
    return s;
  };
  const auto plus = value(1, shifted(X, V, eps), shifted(B, VB, eps))[0].to_vector<double>();
  const auto minus = value(1, shifted(X, V, -eps), shifted(B, VB, -eps))[0].to_vector<double>();
  const auto got = r(1, X, B, V, VB)[0].to_vector<double>();
  for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx((plus[i] - minus[i]) / (2 * eps)).epsilon(1e-6));
  // prod has no R-operator: Rop names it.
  CHECK_THROWS_WITH_AS(graphjit::Rop(T::prod(x), x, v), doctest::Contains("has no R-operator"), graphjit::GradError);
}
