// R-operators (T::Rop, forward mode) of the LAPACK ops (matrix_inverse, det,
// eigh, solve, cholesky, solve_triangular), tensordot and batched_dot,
// cumsum and cumprod, and user-defined ops: each J v against central finite
// differences of the function along v, in the reference and compiled.
#include <doctest/doctest.h>

#include <graphjit/custom_op.hpp>
#include <graphjit/graphjit.hpp>

#include "op_test_support.hpp"
#include "thrown_message.hpp"

#include <cmath>
#include <functional>
#include <source_location>
#include <vector>

namespace T = graphjit::tensor;
using namespace graphjit;
using namespace graphjit::testing;

namespace {

using Builder = std::function<Variable(const std::vector<Variable>&)>;

// point + step * direction, elementwise (a fresh float64 tensor of point's shape).
Tensor moved(const Tensor& point, double step, const Tensor& direction) {
  std::vector<double> p = point.to_vector<double>();
  const std::vector<double> d = direction.to_vector<double>();
  for (std::size_t i = 0; i < p.size(); ++i) p[i] += step * d[i];
  return Tensor::from_vector(p, point.shape());
}

std::vector<Variable> symbols_like(const std::vector<Tensor>& point, const char* prefix) {
  std::vector<Variable> vars;
  for (std::size_t i = 0; i < point.size(); ++i)
    vars.push_back(T::tensor(float64, std::vector<bool>(static_cast<std::size_t>(point[i].ndim()), false),
                             std::string(prefix) + std::to_string(i), std::source_location::current()));
  return vars;
}

// Rop(f, inputs, directions) against (f(p + eps d) - f(p - eps d)) / 2 eps, in both modes.
void check_rop(const Builder& f, const std::vector<Tensor>& point, const std::vector<Tensor>& direction,
               double tol = 1e-6, std::source_location where = std::source_location::current()) {
  INFO("check_rop at line ", where.line());
  const std::vector<Variable> x = symbols_like(point, "x"), v = symbols_like(point, "v");
  const Variable y = f(x);
  const Variable jv = Rop(y, x, v);
  const double eps = 1e-6;
  std::vector<Tensor> plus, minus;
  for (std::size_t i = 0; i < point.size(); ++i) {
    plus.push_back(moved(point[i], eps, direction[i]));
    minus.push_back(moved(point[i], -eps, direction[i]));
  }
  Function value = function(x, y);
  const std::vector<double> hi = value.call(std::vector<Argument>(plus.begin(), plus.end()))[0].to_vector<double>();
  const std::vector<double> lo = value.call(std::vector<Argument>(minus.begin(), minus.end()))[0].to_vector<double>();
  std::vector<Variable> inputs = x;
  inputs.insert(inputs.end(), v.begin(), v.end());
  std::vector<Argument> args(point.begin(), point.end());
  args.insert(args.end(), direction.begin(), direction.end());
  for (Mode mode : {Mode::reference, Mode::fast_run}) {
    INFO((mode == Mode::reference ? "reference" : "fast_run"));
    const std::vector<double> got =
        function(inputs, {jv}, {.on_unused_input = OnUnusedInput::ignore, .mode = mode}).call(args)[0].to_vector<double>();
    REQUIRE(got.size() == hi.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      const double fd = (hi[i] - lo[i]) / (2 * eps);
      INFO("element ", i, ": Rop ", got[i], ", finite difference ", fd);
      CHECK(std::abs(got[i] - fd) <= tol * std::max(1.0, std::abs(fd)));
    }
  }
}

// A random matrix plus n on the diagonal: well conditioned.
Tensor well_conditioned(std::int64_t n, std::uint64_t seed) {
  Tensor a = random_tensor({n, n}, seed, float64);
  for (std::int64_t i = 0; i < n; ++i) a.set({i, i}, a.get({i, i}) + static_cast<double>(n));
  return a;
}

// m m^T + diag(1..n) * n: symmetric positive definite, eigenvalues apart.
Tensor spd(std::int64_t n, std::uint64_t seed) {
  const Tensor m = random_tensor({n, n}, seed, float64);
  Tensor a = Tensor::zeros({n, n}, float64);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      double s = i == j ? static_cast<double>((i + 1) * n) : 0.0;
      for (std::int64_t k = 0; k < n; ++k) s += m.get({i, k}) * m.get({j, k});
      a.set({i, j}, s);
    }
  return a;
}

}  // namespace

TEST_CASE("Rop of matrix_inverse, det and solve is J v") {
  const Tensor a = well_conditioned(4, 1), da = random_tensor({4, 4}, 2);
  check_rop([](const auto& in) { return T::nlinalg::matrix_inverse(in[0]); }, {a}, {da});
  check_rop([](const auto& in) { return T::nlinalg::det(in[0]); }, {a}, {da});
  check_rop([](const auto& in) { return T::slinalg::solve(in[0], in[1]); }, {a, random_tensor({4, 2}, 3)},
            {da, random_tensor({4, 2}, 4)});
  check_rop([](const auto& in) { return T::slinalg::solve(in[0], in[1]) * 2; }, {a, random_tensor({4}, 5)},
            {da, random_tensor({4}, 6)});
}

TEST_CASE("Rop of cholesky and eigh is J v, reading the lower triangle") {
  const Tensor a = spd(4, 7), da = random_tensor({4, 4}, 8);  // da not symmetric: only its lower triangle counts
  check_rop([](const auto& in) { return T::slinalg::cholesky(in[0]); }, {a}, {da});
  check_rop([](const auto& in) { return T::nlinalg::eigh(in[0]).first; }, {a}, {da});
  check_rop([](const auto& in) { return T::nlinalg::eigh(in[0]).second; }, {a}, {da}, 1e-5);
}

TEST_CASE("Rop of solve_triangular is J v for every flag") {
  const Tensor a = well_conditioned(4, 9), da = random_tensor({4, 4}, 10);
  const Tensor b = random_tensor({4, 3}, 11), db = random_tensor({4, 3}, 12);
  for (int trans : {0, 1})
    for (bool lower : {false, true})
      for (bool unit : {false, true}) {
        INFO("trans ", trans, " lower ", lower, " unit_diagonal ", unit);
        check_rop([&](const auto& in) { return T::slinalg::solve_triangular(in[0], in[1], trans, lower, unit); },
                  {a, b}, {da, db});
      }
  check_rop([](const auto& in) { return T::slinalg::solve_triangular(in[0], in[1], 0, true); },
            {a, random_tensor({4}, 13)}, {da, random_tensor({4}, 14)});
}

TEST_CASE("Rop of tensordot and batched_dot is J v") {
  check_rop([](const auto& in) { return T::tensordot(in[0], in[1], std::vector<std::int64_t>{2, 0}, std::vector<std::int64_t>{0, 1}); },
            {random_tensor({3, 2, 4}, 15), random_tensor({4, 3, 5}, 16)},
            {random_tensor({3, 2, 4}, 17), random_tensor({4, 3, 5}, 18)});
  check_rop([](const auto& in) { return T::batched_dot(in[0], in[1]); },
            {random_tensor({2, 3, 4}, 19), random_tensor({2, 4, 2}, 20)},
            {random_tensor({2, 3, 4}, 21), random_tensor({2, 4, 2}, 22)});
  check_rop([](const auto& in) { return T::dot(in[0], in[1]); }, {random_tensor({2, 3, 4}, 23), random_tensor({4, 2}, 24)},
            {random_tensor({2, 3, 4}, 25), random_tensor({4, 2}, 26)});
}

TEST_CASE("Rop of cumsum and cumprod is J v, at zeros too") {
  Tensor x = random_tensor({3, 5}, 27);
  check_rop([](const auto& in) { return T::cumsum(in[0], 1); }, {x}, {random_tensor({3, 5}, 28)});
  check_rop([](const auto& in) { return T::cumprod(in[0], 0); }, {x}, {random_tensor({3, 5}, 29)});
  check_rop([](const auto& in) { return T::cumprod(in[0]); }, {x}, {random_tensor({3, 5}, 30)});
  // Zeros: one per lane, two in one lane; cumprod is a polynomial, so the central difference is exact there.
  x.set({0, 1}, 0);
  x.set({1, 0}, 0);
  x.set({1, 3}, 0);
  x.set({2, 4}, 0);
  check_rop([](const auto& in) { return T::cumprod(in[0], 1); }, {x}, {random_tensor({3, 5}, 31)});
  check_rop([](const auto& in) { return T::cumprod(in[0], 0) * 3; }, {x}, {random_tensor({3, 5}, 32)});
}

TEST_CASE("a user-defined op supplies its Rop; without one, Rop names the op") {
  OpDefinition def{
      .name = "cube_rop_test",
      .arity = 1,
      .type = [](const std::vector<Variable>& in) { return OutputType{in[0].dtype(), in[0].broadcastable()}; },
      .shape = [](const std::vector<Shape>& in) { return in[0]; },
      .perform = [](const std::vector<Tensor>& in) {
        Tensor y = in[0].copy();
        for_each_index(y.shape(), [&](const auto& i) { y.set(i, std::pow(y.get(i), 3)); });
        return y;
      },
      .rop = [](const std::vector<Variable>& in, const Variable&, const std::vector<Variable>& t) {
        return 3.0 * in[0] * in[0] * t[0];
      }};
  const CustomOp cube(def);
  check_rop([&](const auto& in) { return cube({in[0]}) * 2; }, {random_tensor({2, 3}, 33)}, {random_tensor({2, 3}, 34)});
  def.name = "cube_without_rop";
  def.rop = nullptr;
  const CustomOp plain(def);
  auto x = T::matrix("x"), v = T::matrix("v");
  const std::string message = thrown_message<GradError>([&] { Rop(plain({x}), x, v); });
  CHECK(contains(message, "cube_without_rop"));
  CHECK(contains(message, "no R-operator"));
}
