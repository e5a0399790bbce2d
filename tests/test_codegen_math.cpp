// The JIT's own exp, log, log1p, tanh, sigmoid and softplus (vector_math.cpp)
// against long double libm over the whole range, and at special values.
#include "codegen_test_support.hpp"
#include "ulp_error.hpp"

#include <cfloat>
#include <limits>

using namespace codegen_test;
using graphjit::testing::ulp_error;

namespace {

struct MathFunction {
  OpCode op;
  const char* name;
  long double (*exact)(long double);
  double (*libm)(double);  // glibc's double version, to put our errors in perspective
  double max_ulps_f64, max_ulps_f32;
};

long double sigmoid_exact(long double x) { return 1.0L / (1.0L + expl(-x)); }
long double softplus_exact(long double x) { return x > 0 ? x + log1pl(expl(-x)) : log1pl(expl(x)); }
double sigmoid_libm(double x) { return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x)); }
double softplus_libm(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }

const MathFunction functions[] = {
    {OpCode::Exp, "exp", [](long double x) { return expl(x); }, [](double x) { return std::exp(x); }, 2, 2},
    {OpCode::Log, "log", [](long double x) { return logl(x); }, [](double x) { return std::log(x); }, 2, 2},
    {OpCode::Log1p, "log1p", [](long double x) { return log1pl(x); }, [](double x) { return std::log1p(x); }, 2, 2},
    {OpCode::Tanh, "tanh", [](long double x) { return tanhl(x); }, [](double x) { return std::tanh(x); }, 4, 4},
    {OpCode::Sigmoid, "sigmoid", sigmoid_exact, sigmoid_libm, 4, 4},
    {OpCode::Softplus, "softplus", softplus_exact, softplus_libm, 4, 4},
    {OpCode::Expm1, "expm1", [](long double x) { return expm1l(x); }, [](double x) { return std::expm1(x); }, 3, 3},
};

// Arguments over the whole range: ±2^u for u uniform over all exponents
// (subnormal to huge), uniform samples where the functions change regime,
// and a dense sweep of [-2, 2].
template <class T> std::vector<T> arguments(OpCode op) {
  std::mt19937_64 rng(42);
  const int min_exp = std::numeric_limits<T>::min_exponent - std::numeric_limits<T>::digits;
  const int max_exp = std::numeric_limits<T>::max_exponent;
  std::uniform_real_distribution<double> exponent(min_exp, max_exp), unit(0, 1);
  std::vector<T> xs;
  for (int i = 0; i < 200000; ++i) {
    const T magnitude = static_cast<T>(std::exp2(exponent(rng)));
    xs.push_back(i % 2 ? magnitude : -magnitude);
  }
  auto uniform = [&](double lo, double hi, int count) {
    for (int i = 0; i < count; ++i) xs.push_back(static_cast<T>(lo + (hi - lo) * unit(rng)));
  };
  const double exp_limit = std::log(static_cast<double>(std::numeric_limits<T>::max()));
  const double exp_floor = std::log(static_cast<double>(std::numeric_limits<T>::denorm_min()));
  uniform(-2, 2, 200000);
  switch (op) {
    case OpCode::Exp: uniform(exp_floor - 2, exp_limit + 2, 200000); break;
    case OpCode::Log:
      uniform(0, 4, 100000);
      uniform(0.5, 1.5, 100000);
      break;
    case OpCode::Log1p:
      uniform(-1, 1, 100000);
      uniform(-1e-3, 1e-3, 100000);
      uniform(-1, -0.9, 50000);
      break;
    case OpCode::Tanh:
      uniform(-25, 25, 200000);
      uniform(-0.1, 0.1, 100000);
      break;
    case OpCode::Sigmoid:
    case OpCode::Softplus: uniform(exp_floor - 2, -exp_floor + 2, 200000); break;
    case OpCode::Expm1:
      uniform(-50, 50, 200000);
      uniform(-1e-3, 1e-3, 100000);
      uniform(exp_limit - 2, exp_limit + 2, 50000);
      break;
    default: break;
  }
  return xs;
}

template <class T> void check_accuracy(const MathFunction& f, const exec::Kernel& kernel) {
  const std::vector<T> xs = arguments<T>(f.op);
  const Tensor x = Tensor::from_vector(xs);
  const std::vector<T> got = kernel.run({x})[0].template to_vector<T>();
  double worst = 0, libm_worst = 0;
  T worst_at = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const long double exact = f.exact(xs[i]);
    const double e = ulp_error<T>(got[i], exact);
    if (e > worst) {
      worst = e;
      worst_at = xs[i];
    }
    if constexpr (std::is_same_v<T, double>) libm_worst = std::max(libm_worst, ulp_error<T>(f.libm(xs[i]), exact));
  }
  const double limit = std::is_same_v<T, double> ? f.max_ulps_f64 : f.max_ulps_f32;
  const std::string name = std::string(f.name) + " " + dtype_name(dtype_of<T>());
  MESSAGE(name << ": max error " << worst << " ulp at x = " << worst_at << " over " << xs.size() << " arguments"
               << (std::is_same_v<T, double> ? " (glibc: " + std::to_string(libm_worst) + " ulp)" : std::string()));
  CHECK_MESSAGE(worst <= limit, name << " is off by " << worst << " ulp at x = " << worst_at);
}

// One single-op kernel per function, all in one module.
std::vector<exec::Kernel> compile_functions(DType dtype) {
  std::vector<codegen::Cluster> clusters;
  for (const MathFunction& f : functions) {
    NodeRef x = input(dtype, {false}, "x");
    NodeRef y = op(f.op, {x});
    clusters.push_back({f.name, {x}, {y}, {y}, {}});
  }
  return codegen::compile_kernels(clusters, "math_test");
}

template <class T> std::vector<T> apply(const exec::Kernel& kernel, const std::vector<T>& xs) {
  return kernel.run({Tensor::from_vector(xs)})[0].template to_vector<T>();
}

template <class T> void check_special_values() {
  const std::vector<exec::Kernel> k = compile_functions(dtype_of<T>());
  const T inf = std::numeric_limits<T>::infinity(), nan = std::numeric_limits<T>::quiet_NaN();
  const T tiny = std::numeric_limits<T>::denorm_min(), big = std::numeric_limits<T>::max();
  const std::vector<T> xs = {T(0), -T(0), inf, -inf, nan, tiny, -tiny, big, -big, T(1), T(-1), T(-2)};
  enum {
    zero,
    neg_zero,
    pos_inf,
    neg_inf,
    not_a_number,
    denorm,
    neg_denorm,
    huge,
    neg_huge,
    one,
    minus_one,
    minus_two
  };
  const auto exp = apply(k[0], xs), log = apply(k[1], xs), log1p = apply(k[2], xs), tanh = apply(k[3], xs),
             sigmoid = apply(k[4], xs), softplus = apply(k[5], xs);
  for (const auto* results : {&exp, &log, &log1p, &tanh, &sigmoid, &softplus})
    CHECK(std::isnan((*results)[not_a_number]));

  CHECK(exp[zero] == 1);
  CHECK(exp[neg_zero] == 1);
  CHECK(exp[pos_inf] == inf);
  CHECK(exp[neg_inf] == 0);
  CHECK(exp[huge] == inf);
  CHECK(exp[neg_huge] == 0);
  CHECK(exp[denorm] == 1);
  CHECK(ulp_error<T>(exp[one], expl(1.0L)) <= 1);

  CHECK(log[zero] == -inf);
  CHECK(log[neg_zero] == -inf);
  CHECK(log[pos_inf] == inf);
  CHECK(std::isnan(log[neg_inf]));
  CHECK(std::isnan(log[minus_one]));
  CHECK(log[one] == 0);
  CHECK(ulp_error<T>(log[denorm], logl(static_cast<long double>(tiny))) <= 1);
  CHECK(ulp_error<T>(log[huge], logl(static_cast<long double>(big))) <= 1);

  CHECK(log1p[zero] == 0);
  CHECK(log1p[neg_zero] == 0);
  CHECK(std::signbit(log1p[neg_zero]));
  CHECK(log1p[minus_one] == -inf);
  CHECK(std::isnan(log1p[minus_two]));
  CHECK(log1p[pos_inf] == inf);
  CHECK(log1p[denorm] == tiny);
  CHECK(log1p[neg_denorm] == -tiny);

  CHECK(tanh[zero] == 0);
  CHECK(std::signbit(tanh[neg_zero]));
  CHECK(tanh[pos_inf] == 1);
  CHECK(tanh[neg_inf] == -1);
  CHECK(tanh[huge] == 1);
  CHECK(tanh[neg_huge] == -1);
  CHECK(tanh[denorm] == tiny);
  CHECK(tanh[neg_denorm] == -tiny);

  CHECK(sigmoid[zero] == T(0.5));
  CHECK(sigmoid[pos_inf] == 1);
  CHECK(sigmoid[neg_inf] == 0);
  CHECK(sigmoid[huge] == 1);
  CHECK(sigmoid[neg_huge] == 0);

  CHECK(ulp_error<T>(softplus[zero], logl(2.0L)) <= 1);
  CHECK(softplus[pos_inf] == inf);
  CHECK(softplus[neg_inf] == 0);
  CHECK(softplus[huge] == big);
  CHECK(softplus[neg_huge] == 0);
}

}  // namespace

TEST_CASE("vector math is accurate to a few ulps over the whole range (float64)") {
  const std::vector<exec::Kernel> kernels = compile_functions(float64);
  for (std::size_t i = 0; i < std::size(functions); ++i) check_accuracy<double>(functions[i], kernels[i]);
}

TEST_CASE("vector math is accurate to a few ulps over the whole range (float32)") {
  const std::vector<exec::Kernel> kernels = compile_functions(float32);
  for (std::size_t i = 0; i < std::size(functions); ++i) check_accuracy<float>(functions[i], kernels[i]);
}

TEST_CASE("vector math handles zeros, infinities, nan and subnormals (float64)") { check_special_values<double>(); }
TEST_CASE("vector math handles zeros, infinities, nan and subnormals (float32)") { check_special_values<float>(); }
