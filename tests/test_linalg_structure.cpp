// Linear algebra that reads a matrix's structure: slinalg::solve_triangular,
// solve with an assumed structure, eigh's UPLO, and LinAlgError for LAPACK
// failures.
// slinalg::solve_triangular (scipy.linalg.solve_triangular's trans, lower and
// unit_diagonal; Theano's solve_lower_triangular / solve_upper_triangular):
// scipy's values, fast_run (LAPACK trtrs) against the reference
// (substitution) on strided and transposed inputs and at float32, gradients
// by verify_grad, and the error for a zero on the diagonal (a LinAlgError).
// Expected values are scipy 1.10.1's, printed by:
//   /usr/bin/python3 -c "import numpy as np, scipy.linalg as sl
//   a = np.array([[2., 1., -1.], [0.5, 3., 2.], [-1., 4., 5.]]); b = np.array([[1., 2.], [3., -1.], [0.5, 4.]])
//   for trans in (0, 1):
//     for lower in (False, True):
//       for unit in (False, True):
//         print(trans, lower, unit, repr(sl.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit).ravel().tolist()))
//   print(repr(sl.solve_triangular(a, b[:, 0], lower=True).tolist()))"
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include "op_test_support.hpp"
#include "thrown_message.hpp"

#include <cmath>
#include <vector>

namespace T = graphjit::tensor;
using namespace graphjit;
using namespace graphjit::testing;

namespace {

void check_close(const Tensor& got, const std::vector<double>& want, double rel = 1e-12) {
  const std::vector<double> v = got.to_vector<double>();
  REQUIRE(v.size() == want.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    INFO("element ", i, ": got ", v[i], ", want ", want[i]);
    CHECK(std::abs(v[i] - want[i]) <= rel * std::max(1.0, std::abs(want[i])));
  }
}

const Tensor kA = tensor_of({2, 1, -1, 0.5, 3, 2, -1, 4, 5}, {3, 3});
const Tensor kB = tensor_of({1, 2, 3, -1, 0.5, 4}, {3, 2});

struct Case {
  int trans;
  bool lower, unit_diagonal;
  std::vector<double> want;
};

const std::vector<Case> kScipy = {
    {0, false, false, {0.08333333333333343, 1.8333333333333333, 0.9333333333333332, -0.8666666666666667, 0.1, 0.8}},
    {0, false, true, {-0.5, 15.0, 2.0, -9.0, 0.5, 4.0}},
    {0, true, false, {0.5, 1.0, 0.9166666666666666, -0.5, -0.5333333333333333, 1.4000000000000001}},
    {0, true, true, {1.0, 2.0, 2.5, -2.0, -8.5, 14.0}},
    {1, false, false, {0.5, 1.0, 0.8333333333333333, -0.6666666666666666, -0.1333333333333333, 1.2666666666666666}},
    {1, false, true, {1.0, 2.0, 2.0, -3.0, -2.5, 12.0}},
    {1, true, false, {0.33333333333333337, 1.75, 0.8666666666666667, -1.4, 0.1, 0.8}},
    {1, true, true, {1.0, 14.5, 1.0, -17.0, 0.5, 4.0}},
};

}  // namespace

TEST_CASE("solve_triangular matches scipy for every trans, lower and unit_diagonal") {
  auto a = T::matrix("a"), b = T::matrix("b");
  for (const Case& c : kScipy) {
    INFO("trans ", c.trans, " lower ", c.lower, " unit_diagonal ", c.unit_diagonal);
    check_close(run({a, b}, {T::slinalg::solve_triangular(a, b, c.trans, c.lower, c.unit_diagonal)}, {kA, kB})[0], c.want);
  }
  // trans = 2 (a^H) is trans = 1 for real matrices.
  check_close(run({a, b}, {T::slinalg::solve_triangular(a, b, 2, true)}, {kA, kB})[0], kScipy[6].want);
  auto v = T::vector("v");
  const auto out = run({a, v, b}, {T::slinalg::solve_triangular(a, v, 0, true), T::slinalg::solve_lower_triangular(a, v),
                                T::slinalg::solve_upper_triangular(a, b)},
                       {kA, tensor_of({1, 3, 0.5}, {3}), kB});
  CHECK(out[0].shape() == Shape{3});
  check_close(out[0], {0.5, 0.9166666666666666, -0.5333333333333333});
  check_close(out[1], out[0].to_vector<double>());
  check_close(out[2], kScipy[0].want);
}

TEST_CASE("solve_triangular compiled equals the reference on strided, transposed and float32 inputs") {
  Tensor big = random_tensor({10, 8}, 51, float64);
  for (std::int64_t i = 0; i < 4; ++i) big.set({2 * i, 2 * i}, big.get({2 * i, 2 * i}) + 4);  // the strided view's diagonal
  const Tensor strided = big.slice(0, 0, 10, 2).slice(1, 0, 8, 2).slice(0, 0, 4, 1);       // (4, 4), non-contiguous
  const Tensor transposed = strided.transpose();
  const Tensor b = random_tensor({8, 3}, 52).slice(0, 0, 8, 2);                               // (4, 3), strided rows
  auto a = T::matrix("a"), rhs = T::matrix("b");
  for (const Tensor& m : {strided, transposed})
    for (int trans : {0, 1})
      for (bool lower : {false, true}) run({a, rhs}, {T::slinalg::solve_triangular(a, rhs * 2, trans, lower, !lower) + 1}, {m, b});
  auto a32 = T::matrix("a32", float32), b32 = T::matrix("b32", float32);
  const auto single = run({a32, b32}, {T::slinalg::solve_triangular(a32, b32, 0, true)}, {kA.astype(float32), kB.astype(float32)});
  CHECK(single[0].dtype() == float32);
  check_close(single[0], kScipy[2].want, 1e-6);
  // Integers are solved in float64, as numpy.linalg does.
  auto ai = T::matrix("ai", int64);
  CHECK(T::slinalg::solve_triangular(ai, b32).dtype() == float64);
}

TEST_CASE("gradients of solve_triangular") {
  Tensor a = random_tensor({4, 4}, 53);
  for (std::int64_t i = 0; i < 4; ++i) a.set({i, i}, a.get({i, i}) + 4);
  for (int trans : {0, 1})
    for (bool lower : {false, true})
      for (bool unit : {false, true}) {
        INFO("trans ", trans, " lower ", lower, " unit_diagonal ", unit);
        verify_grad([&](const auto& in) { return T::slinalg::solve_triangular(in[0], in[1], trans, lower, unit); },
                    {a, random_tensor({4, 2}, 54)});
      }
  verify_grad([](const auto& in) { return T::slinalg::solve_triangular(in[0], in[1], 1, true); },
              {a, random_tensor({4}, 55)});
  // Other shapes: 1 x 1, and 3 x 3 with a wide right-hand side.
  verify_grad([](const auto& in) { return T::slinalg::solve_triangular(in[0], in[1], 0, true); },
              {tensor_of({1.5}, {1, 1}), random_tensor({1, 3}, 56)});
  Tensor a3 = random_tensor({3, 3}, 57);
  for (std::int64_t i = 0; i < 3; ++i) a3.set({i, i}, a3.get({i, i}) + 3);
  verify_grad([](const auto& in) { return T::slinalg::solve_triangular(in[0], in[1], 1, false, true); },
              {a3, random_tensor({3, 5}, 58)});
}

TEST_CASE("a zero on the diagonal is a LinAlgError naming the op and the line; bad flags are TypeErrors") {
  auto a = T::matrix("a"), b = T::matrix("b");
  const Tensor zero_diagonal = tensor_of({1, 0, 0, 2, 0, 0, 3, 4, 5}, {3, 3});
  for (Mode mode : {Mode::reference, Mode::fast_run}) {
    const std::string message = thrown_message<LinAlgError>([&] {
      function({a, b}, {T::slinalg::solve_triangular(a, b, 0, true)}, {.mode = mode})(zero_diagonal, kB);
    });
    CHECK(contains(message, "solve_triangular"));
    CHECK(contains(message, "singular"));
    CHECK(contains(message, "test_linalg_structure.cpp"));
  }
  // With a unit diagonal the zero is not read.
  CHECK_NOTHROW(run({a, b}, {T::slinalg::solve_triangular(a, b, 0, true, true)}, {zero_diagonal, kB}));
  CHECK(contains(thrown_message<TypeError>([&] { T::slinalg::solve_triangular(a, b, 3); }), "trans is 3"));
  CHECK_THROWS_AS(T::slinalg::solve_triangular(T::vector("x"), b), TypeError);
  CHECK(contains(thrown_message<ShapeError>([&] {
                   function({a, b}, {T::slinalg::solve_triangular(a, b)})(kA, tensor_of({1, 2}, {2, 1}));
                 }),
                 "one row per row"));
}

TEST_CASE("every LAPACK failure is a LinAlgError, still a ShapeError") {
  auto a = T::matrix("a");
  const Tensor singular = tensor_of({1, 2, 2, 4}, {2, 2});
  CHECK_THROWS_AS(function({a}, {T::nlinalg::matrix_inverse(a)})(singular), LinAlgError);
  CHECK_THROWS_AS(function({a}, {T::slinalg::cholesky(a)})(tensor_of({1, 2, 2, 1}, {2, 2})), LinAlgError);
  CHECK_THROWS_AS(function({a}, {T::nlinalg::matrix_inverse(a)}, {.mode = Mode::reference})(singular), ShapeError);
}

// /usr/bin/python3 -c "import numpy as np, scipy.linalg as sl
//   a = np.array([[4., 1., 2.], [1., 5., 0.5], [2., 0.5, 6.]]); b = np.array([1., -2., 3.])
//   print(repr(sl.solve(a, b, assume_a='pos').tolist()), repr(sl.solve(a, b, assume_a='sym').tolist()))"
TEST_CASE("solve with an assumed structure: Theano's A_structure and scipy's assume_a='pos'") {
  auto a = T::matrix("a"), b = T::vector("b");
  const Tensor spd = tensor_of({4, 1, 2, 1, 5, 0.5, 2, 0.5, 6}, {3, 3});
  const Tensor rhs = tensor_of({1, -2, 3}, {3});
  using S = T::slinalg::Structure;
  const auto out = run({a, b}, {T::slinalg::solve(a, b, S::positive_definite), T::slinalg::solve(a, b, S::symmetric),
                                T::slinalg::solve(a, b, S::general), T::slinalg::solve(a, b, S::lower_triangular),
                                T::slinalg::solve(a, b, S::upper_triangular)},
                       {spd, rhs});
  check_close(out[0], {0.11842105263157891, -0.47368421052631565, 0.5}, 1e-14);
  check_close(out[1], {0.11842105263157895, -0.4736842105263158, 0.5}, 1e-14);
  check_close(out[2], out[1].to_vector<double>());
  check_close(out[3], run({a, b}, {T::slinalg::solve_triangular(a, b, 0, true)}, {spd, rhs})[0].to_vector<double>());
  check_close(out[4], run({a, b}, {T::slinalg::solve_triangular(a, b, 0, false)}, {spd, rhs})[0].to_vector<double>());
  // positive_definite reads the lower triangle only, and its gradient is cholesky's and the solves'.
  verify_grad([](const auto& in) { return T::slinalg::solve(in[0], in[1], S::positive_definite); },
              {spd, tensor_of({1, -2, 3}, {3})});
  CHECK_THROWS_AS(function({a, b}, {T::slinalg::solve(a, b, S::positive_definite)})(tensor_of({1, 2, 0, 2, 1, 0, 0, 0, 1}, {3, 3}), rhs),
                  LinAlgError);
}

// /usr/bin/python3 -c "import numpy as np; s = np.array([[2., 1.], [1., 3.]]); u = np.array([[2., 1.], [-7., 3.]])
//   print(repr(np.linalg.eigh(s)[0].tolist()), repr(np.linalg.eigh(u, UPLO='U')[0].tolist()))"
TEST_CASE("eigh reads the triangle UPLO names") {
  auto a = T::matrix("a");
  const Tensor upper_only = tensor_of({2, 1, -7, 3}, {2, 2});  // the lower triangle's -7 must not be read
  const auto out = run({a}, {T::nlinalg::eigh(a, 'U').first, T::nlinalg::eigh(a, 'U').second,
                             T::nlinalg::eigh(a, 'L').first},
                       {upper_only});
  check_close(out[0], {1.381966011250105, 3.618033988749895}, 1e-14);
  const auto lower = run({a}, {T::nlinalg::eigh(a).second}, {tensor_of({2, 1, 1, 3}, {2, 2})});
  check_close(out[1], lower[0].to_vector<double>(), 1e-14);
  CHECK(out[2].to_vector<double>() != out[0].to_vector<double>());
  CHECK(contains(thrown_message<TypeError>([&] { T::nlinalg::eigh(a, 'X'); }), "UPLO"));
}
