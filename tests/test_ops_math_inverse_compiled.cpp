// log2, log10, arcsinh, arccosh, arctanh, arcsin, arccos and arctan2 through
// graphjit functions, where fast_run runs the vector code of
// compiler/codegen/vector_log_bases.cpp, vector_inverse_hyperbolic.cpp,
// vector_arcsin.cpp and vector_arctan.cpp: against the reference evaluator
// (libm) on random tensors, broadcasting and strided views, at both float
// dtypes, and against NumPy at the arguments where the vector code changes
// form or rounds hardest. tests/test_vector_math_inverse.cpp measures the ulps.
// The NumPy values were printed by (numpy 1.24):
//   /usr/bin/python3 -c "import numpy as np; x = np.array([...]); print([repr(float(v)) for v in np.log2(x)])"
//   (and likewise for each function and argument list below; arctan2 as np.arctan2(y, x)).
#include "op_test_support.hpp"

#include <cmath>
#include <limits>

namespace T = graphjit::tensor;
using namespace graphjit;
using graphjit::testing::check_same_result;
using graphjit::testing::run;

namespace {

constexpr double kMax = std::numeric_limits<double>::max();
constexpr double kInf = std::numeric_limits<double>::infinity();

using Unary = Variable (*)(const Variable&, std::source_location);

struct Case {
  const char* name;
  Unary fn;
  double lo, hi;  // the random arguments' range
};
const Case unary_cases[] = {
    {"log2", T::log2, 1e-3, 1e3},      {"log10", T::log10, 1e-3, 1e3},  {"arcsinh", T::arcsinh, -30, 30},
    {"arccosh", T::arccosh, 1, 30},    {"arctanh", T::arctanh, -1, 1},  {"arcsin", T::arcsin, -1, 1},
    {"arccos", T::arccos, -1, 1},
};

Tensor random_in(const Shape& shape, DType dtype, double lo, double hi, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  Tensor t = Tensor::empty(shape, dtype);
  for_each_index(shape, [&](const std::vector<std::int64_t>& idx) { t.set(idx, dist(rng)); });
  return t;
}

// fn(x) in fast_run against numpy's values to `rel` (the vector code is within 2 ulps).
void expect_numpy(Unary fn, const std::vector<double>& xs, const std::vector<double>& want, double rel = 5e-16) {
  const Variable x = T::vector("x");
  const std::vector<double> got =
      function({x}, {fn(x, std::source_location::current())}, {.mode = Mode::fast_run})(Tensor::from_vector(xs))[0]
          .to_vector<double>();
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    INFO("x = ", xs[i], ": got ", got[i], ", numpy ", want[i]);
    CHECK(std::abs(got[i] - want[i]) <= rel * std::abs(want[i]));
  }
}

}  // namespace

TEST_CASE("compiled inverse functions match the reference on random tensors, broadcasting and strided views") {
  for (DType dtype : {float64, float32}) {
    for (const Case& c : unary_cases) {
      CAPTURE(c.name);
      CAPTURE(dtype_name(dtype));
      // A matrix with rows of 37 (partial vectors) read transposed (a strided view), plus a broadcast row.
      const Variable x = T::tensor(dtype, {false, false}, "x"), r = T::tensor(dtype, {true, false}, "r");
      const Tensor xv = random_in({37, 6}, dtype, c.lo, c.hi, 1), rv = random_in({1, 37}, dtype, 0, 0.001, 2);
      const Variable y = c.fn(x.T() * (1 - r) + r * (c.lo + c.hi) / 2, std::source_location::current());
      run({x, r}, {y}, {xv, rv});
    }
    CAPTURE(dtype_name(dtype));
    // arctan2 of a column against a row, over all four quadrants, and of a transposed matrix.
    const Variable y = T::tensor(dtype, {false, true}, "y"), x = T::tensor(dtype, {true, false}, "x");
    const Variable m = T::tensor(dtype, {false, false}, "m");
    run({y, x, m}, {T::arctan2(y, x), T::arctan2(m.T(), x)},
        {random_in({41, 1}, dtype, -5, 5, 3), random_in({1, 41}, dtype, -5, 5, 4), random_in({41, 41}, dtype, -5, 5, 5)});
  }
}

TEST_CASE("compiled inverse functions match numpy where the vector code changes form") {
  expect_numpy(T::log2, {5e-324, 1e-310, 0.7071067811865476, 1.0000000000000002, 3.0, 1e300, kMax},
               {-1074.0, -1029.7977094150824, -0.4999999999999999, 3.203426503814917e-16, 1.584962500721156,
                996.5784284662087, 1024.0});
  expect_numpy(T::log10, {5e-324, 1e-310, 0.7071067811865476, 1.0000000000000002, 3.0, 1e300, kMax},
               {-323.3062153431158, -310.0, -0.15051499783199057, 9.64327466553287e-17, 0.47712125471966244, 300.0,
                308.25471555991675});
  expect_numpy(T::arcsinh, {1e-300, -1e-8, 0.4958053638966593, -1.9999999999999998, 2.0, 3e8, -1e300, kMax},
               {1e-300, -9.999999999999999e-09, 0.47745688453100416, -1.4436354751788103, 1.4436354751788103,
                20.212440213180418, -691.4686750787736, 710.4758600739439});
  expect_numpy(T::arccosh, {1.0000000000000002, 1.0072421672651939, 1.9999999999999998, 2.0, 3e8, 1e300, kMax},
               {2.1073424255447017e-08, 0.12027836555410844, 1.3169578969248166, 1.3169578969248166,
                20.212440213180418, 691.4686750787736, 710.4758600739439});
  expect_numpy(T::arctanh, {1e-300, -0.49999999999999994, 0.5, 0.9999999999999999, -0.9999999999999999, 0.11644017819563857},
               {1e-300, -0.5493061443340548, 0.5493061443340548, 18.714973875118524, -18.714973875118524,
                0.11697074529662056});
  expect_numpy(T::arcsin, {1e-300, 0.49999999999999994, -0.5, 0.5000000000000001, 0.9999999999999999, -0.9999999999999999,
                           0.52436005057275648},
               {1e-300, 0.5235987755982988, -0.5235987755982989, 0.523598775598299, 1.5707963118937354,
                -1.5707963118937354, 0.5519633806627887});
  expect_numpy(T::arccos, {1e-300, 0.49999999999999994, -0.5, 0.5000000000000001, 0.9999999999999999, -0.9999999999999999,
                           0.48926366282093514},
               {1.5707963267948966, 1.0471975511965979, 2.0943951023931957, 1.0471975511965976, 1.4901161193847656e-08,
                3.141592638688632, 1.059551065768941});
  const Variable y = T::vector("y"), x = T::vector("x");
  const std::vector<double> ys = {13249114.551562445, 1e-300, -1e300, kMax, 5e-324, -2.0, 0.0, -0.0, kInf, -kInf};
  const std::vector<double> xs = {31986183.543418553, -1e300, 1e-300, kMax, -5e-324, -2.0000000000000004, -3.0, -0.0,
                                  -kInf, kInf};
  const std::vector<double> want = {0.392699175612094, 3.141592653589793,  -1.5707963267948966, 0.7853981633974483,
                                    2.356194490192345, -2.356194490192345, 3.141592653589793,   -3.141592653589793,
                                    2.356194490192345, -0.7853981633974483};
  const std::vector<double> got = function({y, x}, {T::arctan2(y, x)}, {.mode = Mode::fast_run})(
                                      Tensor::from_vector(ys), Tensor::from_vector(xs))[0]
                                      .to_vector<double>();
  for (std::size_t i = 0; i < want.size(); ++i) {
    INFO("arctan2(", ys[i], ", ", xs[i], ") = ", got[i], ", numpy ", want[i]);
    CHECK(std::abs(got[i] - want[i]) <= 5e-16 * std::abs(want[i]));
  }
}
