// The JIT's vector erfinv, gammaln, psi and tri_gamma (compiler/codegen/vector_special.cpp):
// accuracy in ulps against long double references over many arguments, values
// against scipy, the special values and poles, agreement with the reference
// evaluator in fused kernels, and that the kernels are vector code.
#include "frontend/ops/special_functions.hpp"
#include "ulp_arguments.hpp"
#include "ulp_error.hpp"
#include "vector_ir_probe.hpp"

#include <graphjit/graphjit.hpp>

#include <limits>
#include <numbers>

using namespace codegen_test;
using graphjit::testing::ulp_error;

namespace {

// erfinv(a) to long double precision: the double function refined by two
// Newton steps on erf (on erfc near 1, where 1 - a is exact).
long double exact_erfinv(long double y) {
  const long double a = fabsl(y);
  if (!(a < 1)) return a == 1 ? copysignl(HUGE_VALL, y) : NAN;
  long double x = graphjit::ops::erfinv(static_cast<double>(a));
  for (int step = 0; step < 2; ++step) {
    const long double f = a < 0.5L ? erfl(x) - a : (1 - a) - erfcl(x);
    x -= f / (2 / sqrtl(std::numbers::pi_v<long double>) * expl(-x * x));
  }
  return copysignl(x, y);
}

// psi's Taylor coefficients psi^(k)(y0)/k!, k = 1 .. 18, at its positive zero
// y0 = psi_zero_hi + psi_zero_lo. Computed with mpmath (dps 50):
//   x0 = mp.findroot(mp.digamma, 1.46)
//   [mp.nstr(mp.polygamma(k, x0) / mp.factorial(k), 25) for k in range(1, 19)]
constexpr long double psi_taylor[] = {
    0.9676722454476211704274448L,     -0.4427631689835921060928653L,   0.2584997609556510106244014L,
    -0.1639427054424065275042513L,    0.1078240506912623657571829L,    -0.07219956125645471092612178L,
    0.04880428816414310722509253L,    -0.0331611264748473592922584L,   0.02259764823221810465962483L,
    -0.01542476590494895913880032L,   0.01053879161661217538812405L,   -0.007204534386356868240970474L,
    0.004926781395729853446354266L,   -0.003369801655439328082792857L, 0.00230512632673492783693838L,
    -0.001576936771430197259270935L,  0.001078825201916296580691918L,  -0.0007380709389960051295660474L};
constexpr double psi_zero_hi = 0x1.762d86356be3fp+0;
constexpr long double psi_zero_lo = 9.549995429965697715184199e-17L;

// psi in long double: Taylor at the positive zero within 0.1 of it (where the
// recurrence below would cancel), else the recurrence up to 30 and the
// asymptotic series; the reflection for x < 0.
long double exact_psi(long double x) {
  if (std::isnan(x) || x == -HUGE_VALL) return NAN;
  if (x == 0) return std::signbit(x) ? HUGE_VALL : -HUGE_VALL;
  if (x == HUGE_VALL) return x;
  if (x < 0) {
    if (x == floorl(x)) return NAN;
    const long double r = x - roundl(x), pi = std::numbers::pi_v<long double>;
    return exact_psi(1 - x) - pi * cosl(pi * r) / sinl(pi * r);
  }
  const long double d = (x - psi_zero_hi) - psi_zero_lo;
  if (fabsl(d) < 0.1L) {
    long double sum = 0;
    for (int k = 17; k >= 0; --k) sum = (sum + psi_taylor[k]) * d;
    return sum;
  }
  long double shift = 0;
  for (; x < 30; x += 1) shift -= 1 / x;
  // Bernoulli numbers B_2k / (2k), k = 1 .. 9: the next term is below 1e-25 at x >= 30.
  const long double terms[] = {1.0L / 12, -1.0L / 120, 1.0L / 252, -1.0L / 240, 1.0L / 132,
                               -691.0L / 32760, 1.0L / 12, -3617.0L / 8160, 43867.0L / 14364};
  const long double f = 1 / (x * x);
  long double tail = 0;
  for (int k = 8; k >= 0; --k) tail = (tail + terms[k]) * f;
  return shift + logl(x) - 0.5L / x - tail;
}

// psi1 = tri_gamma in long double: the recurrence up to 30 and the
// asymptotic series 1/x + 1/(2x^2) + sum of B_2k / x^(2k+1); the reflection
// psi1(x) = pi^2 / sin^2(pi x) - psi1(1 - x) for x < 0.
long double exact_trigamma(long double x) {
  if (std::isnan(x)) return x;
  if (x == HUGE_VALL) return 0;
  if (x <= 0 && x == floorl(x)) return HUGE_VALL;  // also -inf
  if (x < 0) {
    const long double pi = std::numbers::pi_v<long double>, s = sinl(pi * (x - roundl(x)));
    return pi * pi / (s * s) - exact_trigamma(1 - x);
  }
  long double shift = 0;
  for (; x < 30; x += 1) shift += 1 / (x * x);
  // B_2k, k = 1 .. 9: the next term is below 1e-25 of the sum at x >= 30.
  const long double bernoulli[] = {1.0L / 6, -1.0L / 30, 1.0L / 42, -1.0L / 30, 5.0L / 66,
                                   -691.0L / 2730, 7.0L / 6, -3617.0L / 510, 43867.0L / 798};
  const long double f = 1 / (x * x);
  long double tail = 0;
  for (int k = 8; k >= 0; --k) tail = (tail + bernoulli[k]) * f;
  return shift + 1 / x + f / 2 + tail / x;
}

struct SpecialFunction {
  OpCode op;
  const char* name;
  long double (*exact)(long double);
  // For x < 0, where gammaln and psi have a zero between every two poles and
  // are computed by reflection, f(x) = g(x) - f(1 - x) with g = log(pi/|sin(pi x)|)
  // or -pi cot(pi x): errors there are in ulps of |f(x)| + |f(1 - x)| (at least
  // 1), which bounds the terms that cancel (absolute near the zeros).
  // Elsewhere they are relative.
  bool reflected_below_zero;
  double max_ulps_f64, max_ulps_f32;
};

const SpecialFunction functions[] = {
    {OpCode::Erfinv, "erfinv", exact_erfinv, false, 3, 1},
    {OpCode::Gammaln, "gammaln", [](long double x) { return x <= 0 && x == floorl(x) ? HUGE_VALL : lgammal(x); },
     true, 3, 1},
    {OpCode::Psi, "psi", exact_psi, true, 3, 1},
    {OpCode::TriGamma, "tri_gamma", exact_trigamma, true, 4, 1},
};

template <class T> std::vector<T> arguments(OpCode op) {
  graphjit::testing::UlpArguments<T> args(17);
  if (op == OpCode::Erfinv) {
    args.magnitudes(0, 100000);
    args.uniform(-1, 1, 200000);
    // 1 - 2^-u: the tail, down to the last double (or float) below 1.
    for (int i = 0; i < 50000; ++i) {
      const T x = static_cast<T>(1 - std::exp2(-1 - (std::numeric_limits<T>::digits - 1) * args.unit()));
      args.push_back(i % 2 ? x : -x);
    }
    // w = 6.25 and w = 16, where the pieces meet.
    args.either_side({0.99903239390103592, -0.99903239390103592, 0.99999994373, 1, -1, 0.5});
  } else {
    args.magnitudes(std::numeric_limits<T>::max_exponent, 100000);
    args.uniform(0, 10, 100000);
    args.uniform(-10, 0, 100000);
    args.uniform(-200, 200, 50000);
    args.uniform(0.5, 3, 50000);
    args.either_side({0.5, 1, 1.4616321449683623, 1.5, 2, 2.5, 3, 7.5, 8, 10, -1, -2, -1e-8, 1e-8});
  }
  return args.values();
}

std::vector<exec::Kernel> compile_functions(DType dtype) {
  std::vector<OpCode> ops;
  for (const SpecialFunction& f : functions) ops.push_back(f.op);
  return codegen::compile_kernels(single_op_clusters(dtype, ops), "vector_special_test");
}

// Error in ulps of max(|exact|, floor) at T's precision.
template <class T> double error_units(T got, long double exact, double floor) {
  if (std::isfinite(static_cast<T>(exact)) && std::fabs(exact) < floor)
    return std::isfinite(got) ? static_cast<double>(fabsl(got - exact) / std::ldexp(floor, 1 - std::numeric_limits<T>::digits))
                              : 1e30;
  return ulp_error<T>(got, exact);
}

template <class T> void check_accuracy(const SpecialFunction& f, const exec::Kernel& kernel) {
  const std::vector<T> xs = arguments<T>(f.op);
  const std::vector<T> got = run_kernel(kernel, xs);
  double worst = 0, worst_positive = 0;
  T worst_at = 0, worst_got = 0, worst_positive_at = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const long double x = xs[i];
    const long double floor =
        f.reflected_below_zero && x < 0 ? std::max(1.0L, fabsl(f.exact(x)) + fabsl(f.exact(1 - x))) : 0.0;
    const double e = error_units<T>(got[i], f.exact(x), static_cast<double>(floor));
    if (x > 0 && e > worst_positive) worst_positive = e, worst_positive_at = xs[i];
    if (e > worst) worst = e, worst_at = xs[i], worst_got = got[i];
  }
  const double limit = std::is_same_v<T, double> ? f.max_ulps_f64 : f.max_ulps_f32;
  const std::string name = std::string(f.name) + " " + dtype_name(dtype_of<T>());
  MESSAGE(name << ": max error " << worst << " ulp at x = " << worst_at << "; for x > 0 (relative): " << worst_positive
               << " ulp at x = " << worst_positive_at << "; " << xs.size() << " arguments");
  CHECK_MESSAGE(worst <= limit, name << " is off by " << worst << " ulp at x = " << worst_at << ": " << worst_got
                                     << " for " << static_cast<double>(f.exact(worst_at)));
}

}  // namespace

TEST_CASE("vector erfinv, gammaln, psi and tri_gamma are accurate (float64)") {
  const std::vector<exec::Kernel> kernels = compile_functions(float64);
  for (std::size_t i = 0; i < std::size(functions); ++i) check_accuracy<double>(functions[i], kernels[i]);
}

TEST_CASE("vector erfinv, gammaln, psi and tri_gamma are accurate (float32)") {
  const std::vector<exec::Kernel> kernels = compile_functions(float32);
  for (std::size_t i = 0; i < std::size(functions); ++i) check_accuracy<float>(functions[i], kernels[i]);
}

namespace {

constexpr double inf = std::numeric_limits<double>::infinity(), not_a_number = std::numeric_limits<double>::quiet_NaN();

// fn(x) through a graphjit function, in the reference evaluator and compiled,
// against scipy's values: poles, signs and nan exactly, finite values to
// `max_ulps` compiled (in ulps of max(|f|, 1) below 0) and to 1e-14 relative
// in the reference evaluator (whose scalar psi cancels near its zeros).
void expect_scipy(graphjit::Variable (*fn)(const graphjit::Variable&, std::source_location),
                  const std::vector<double>& xs, const std::vector<double>& want, double max_ulps) {
  namespace T = graphjit::tensor;
  REQUIRE(xs.size() == want.size());
  for (Mode mode : {Mode::reference, Mode::fast_run}) {
    INFO("mode ", std::string(mode_name(mode)));
    const graphjit::Variable x = T::vector("x", float64);
    const std::vector<double> got =
        graphjit::function({x}, {fn(x, std::source_location::current())}, {.mode = mode})(Tensor::from_vector(xs))[0]
            .to_vector<double>();
    for (std::size_t i = 0; i < xs.size(); ++i) {
      INFO("f(", xs[i], ") = ", got[i], ", scipy ", want[i]);
      if (std::isnan(want[i]) || std::isinf(want[i]) || want[i] == 0) {
        CHECK((std::isnan(want[i]) ? std::isnan(got[i]) : got[i] == want[i]));
        if (want[i] == 0) CHECK(std::signbit(got[i]) == std::signbit(want[i]));
      } else if (mode == Mode::fast_run) {
        // Below 0 in ulps of max(|f(x)|, 1), as in the accuracy tests: the reflection's terms cancel.
        const double scale = xs[i] < 0 ? std::max(1.0, std::fabs(want[i])) : std::fabs(want[i]);
        CHECK(std::fabs(got[i] - want[i]) <= max_ulps * std::ldexp(1.0, std::ilogb(scale) - 52));
      } else {
        CHECK(std::fabs(got[i] - want[i]) <= 1e-14 * std::fabs(want[i]));
      }
    }
  }
}

}  // namespace

// Printed by (scipy 1.10): python3 -c "import numpy as np, scipy.special as sc;
//   print([repr(float(sc.gammaln(p))) for p in POINTS])"   (likewise sc.psi, sc.erfinv)
TEST_CASE("erfinv, gammaln, psi and tri_gamma against scipy, in the reference evaluator and compiled") {
  const std::vector<double> points = {-1e300, -3.5, -2.5, -2.0, -1.5, -1.0, -0.5, -1e-10, -0.0, 0.0, 1e-300, 1e-10,
                                      0.1,    0.5,  1.0,  1.5,  2.0,  2.5,  3.0,  7.9,  8.0,    8.1, 10.0, 100.0,
                                      1e10,   1e300, inf, -inf};
  expect_scipy(graphjit::tensor::gammaln, points,
               {inf, -1.3090066849930422, -0.05624371649767401, inf, 0.860047015376481, inf, 1.2655121234846454,
                23.025850929998178, inf, inf, 690.7755278982137, 23.025850929882733, 2.252712651734206, 0.5723649429247,
                0.0, -0.12078223763524526, 0.0, 0.2846828704729192, 0.6931471805599453, 8.32426586800881,
                8.525161361065415, 8.72738826343204, 12.801827480081469, 359.1342053695754, 220258509288.81058,
                6.897755278982137e+302, inf, inf},
               3);
  // psi(-0) = +inf and psi(+0) = -inf, as scipy's (the reference evaluator gave -inf for both).
  expect_scipy(graphjit::tensor::psi, points,
               {not_a_number, 1.388870926359529, 1.1031566406452433, not_a_number, 0.7031566406452434, not_a_number, 0.03648997397857651,
                9999999999.422785, inf, -inf, -9.999999999999999e+299, -10000000000.577215, -10.423754940411076,
                -1.9635100260214235, -0.5772156649015329, 0.03648997397857652, 0.42278433509846713,
                0.7031566406452432, 0.9227843350984671, 2.002238487563571, 2.0156414779556098, 2.028867457080582,
                2.251752589066721, 4.600161852738088, 23.025850929890456, 690.7755278982137, inf, not_a_number},
               4);
  // scipy.special.polygamma(1, POINTS)
  expect_scipy(graphjit::tensor::tri_gamma, points,
               {inf, 9.620879298050347, 9.539246644989124, inf, 9.379246644989124, inf, 8.934802200544679, 1e+20, inf,
                inf, inf, 1e+20, 101.43329915079275, 4.93480220054468, 1.6449340668482266, 0.9348022005446793,
                0.6449340668482266, 0.4903577561002349, 0.39493406684822646, 0.13493078345663442, 0.13313701469403144,
                0.13139024657674378, 0.10516633568168576, 0.010050166663333573, 1.00000000005e-10, 1e-300, 0.0, inf},
               4);
  // erfinv(1 - 2^-53) = 5.8636: the reference evaluator's Halley iteration stopped at 5.709 there.
  expect_scipy(graphjit::tensor::erfinv,
               {-1.0, -0.999999, -0.5, -0.0, 0.0, 1e-300, 0.1, 0.5, 0.9, 0.999, 0.9999999999, 1 - 0x1p-53, 1.0, 1.5},
               {-inf, -3.458910737275499, -0.4769362762044699, -0.0, 0.0, 8.86226925452758e-301, 0.08885599049425769,
                0.4769362762044699, 1.1630871536766743, 2.3267537655135246, 4.572824958544925, 5.8635847487551676, inf,
                not_a_number},
               3);
}

// (test_vector_math shows that the probe does see the scalar calls of an op without vector code.)
TEST_CASE("erfinv, gammaln, psi, tri_gamma and reciprocal kernels are vector code with no scalar call") {
  for (DType dtype : {float64, float32}) {
    CAPTURE(dtype_name(dtype));
    const std::vector<OpCode> ops = {OpCode::Erfinv, OpCode::Gammaln, OpCode::Psi, OpCode::TriGamma, OpCode::Reciprocal};
    const std::vector<std::string> bodies = generated_ir(dtype, ops);
    REQUIRE(bodies.size() == ops.size());
    const std::string vector_type = dtype == float64 ? " x double>" : " x float>";
    for (std::size_t i = 0; i < ops.size(); ++i) {
      CAPTURE(ir::op_info(ops[i]).name);
      CHECK(bodies[i].find(vector_type) != std::string::npos);
      CHECK(scalar_calls_on_the_vector_path(bodies[i]) == 0);
      CHECK(bodies[i].find("beyond_vector_range") == std::string::npos);
    }
  }
}

TEST_CASE("fused with other ops, broadcasting, a transposed operand and a row sum, they match the reference") {
  namespace T = graphjit::tensor;
  for (DType dtype : {float64, float32}) {
    CAPTURE(dtype_name(dtype));
    const graphjit::Variable x = T::matrix("x", dtype), b = T::row("b", dtype);
    // Poles, zeros and both signs: x in [-6, 6] with some exact negative integers and zeros.
    Tensor xv = random_tensor({37, 37}, dtype, -6, 6, 5);
    for (std::int64_t i = 0; i < 37 * 37; i += 13) xv.set({i / 37, i % 37}, -static_cast<double>(i % 7));
    const Tensor bv = random_tensor({1, 37}, dtype, -0.99, 0.99, 6);
    const graphjit::Variable y =
        T::gammaln(x) + T::psi(x.T()) * T::erfinv(b) + T::reciprocal(x) + T::tri_gamma(x) / (T::tri_gamma(x.T()) + 1);
    const std::vector<graphjit::Variable> outputs = {y, T::sum(y, 1)};
    const std::vector<Tensor> want = graphjit::function({x, b}, outputs, {.mode = Mode::reference})(xv, bv);
    const std::vector<Tensor> got = graphjit::function({x, b}, outputs, {.mode = Mode::fast_run})(xv, bv);
    // The reference's scalar psi and gammaln are a few ulps off near their zeros; sums of
    // mixed signs cancel: hence the absolute slack.
    const double atol = dtype == float32 ? 1e-5 : 1e-12;
    check_close(got[0], want[0], 8, atol, "gammaln(x) + psi(x.T) * erfinv(b) + 1/x + psi1(x) / (psi1(x.T) + 1)");
    check_close(got[1], want[1], 64, 37 * atol, "its row sums");
  }
}
