// The JIT's vector log2, log10, arcsinh, arccosh, arctanh, arcsin, arccos and
// arctan2 (compiler/codegen/vector_log_bases.cpp, vector_inverse_hyperbolic.cpp,
// vector_arcsin.cpp, vector_arctan.cpp): accuracy in ulps against long double
// libm over arguments of all magnitudes, C's special values (zeros,
// infinities, nan, subnormals, the domain edges), exact results where libm's
// are exact, and that the kernels are vector code with no scalar call.
#include "codegen_test_support.hpp"
#include "compiler/ir/graph.hpp"
#include "compiler/ir/op_info.hpp"
#include "ulp_error.hpp"
#include "vector_ir_probe.hpp"

#include <cmath>
#include <limits>
#include <numbers>

using namespace codegen_test;
using graphjit::testing::ulp_error;

namespace {

// A function of one or two arguments (arctan2(y, x)) with its long double
// reference, its C function at each format (for the special values), and the
// ulp bound asserted at each dtype.
struct InverseFunction {
  OpCode op;
  const char* name;
  long double (*exact)(long double, long double);
  double (*c_double)(double, double);
  float (*c_float)(float, float);
  double max_ulps_f64, max_ulps_f32;
};

#define UNARY(fn) \
  [](long double x, long double) { return fn##l(x); }, [](double x, double) { return std::fn(x); }, \
      [](float x, float) { return std::fn(x); }
const InverseFunction functions[] = {
    {OpCode::Log2, "log2", UNARY(log2), 1.5, 0.51},
    {OpCode::Log10, "log10", UNARY(log10), 1.5, 0.51},
    {OpCode::Arcsinh, "arcsinh", UNARY(asinh), 1.5, 0.51},
    {OpCode::Arccosh, "arccosh", UNARY(acosh), 1.5, 0.51},
    {OpCode::Arctanh, "arctanh", UNARY(atanh), 1.5, 0.51},
    {OpCode::Arcsin, "arcsin", UNARY(asin), 1, 0.51},
    {OpCode::Arccos, "arccos", UNARY(acos), 1.25, 0.51},
    {OpCode::Arctan2, "arctan2", [](long double y, long double x) { return atan2l(y, x); },
     [](double y, double x) { return std::atan2(y, x); }, [](float y, float x) { return std::atan2(y, x); }, 1, 0.51},
};
#undef UNARY

bool binary(const InverseFunction& f) { return ir::op_info(f.op).arity == 2; }

// Arguments (pairs for arctan2: first the y's, then as many x's).
template <class T> class Arguments {
 public:
  std::vector<T> xs, ys;

  void uniform(double lo, double hi, int count) {
    for (int i = 0; i < count; ++i) xs.push_back(static_cast<T>(lo + (hi - lo) * unit_(rng_)));
  }
  // ±2^u (or only +), u uniform from the subnormals up to `top`.
  void magnitudes(double top, int count, bool both_signs = true) {
    for (int i = 0; i < count; ++i) {
      const T m = magnitude(top);
      xs.push_back(both_signs && i % 2 ? -m : m);
    }
  }
  // offset + sign * 2^u with u uniform in [bottom, top]: arguments crowding a point.
  void near(double offset, double bottom, double top, int count) {
    for (int i = 0; i < count; ++i)
      xs.push_back(static_cast<T>(offset + (i % 2 ? -1 : 1) * std::exp2(bottom + (top - bottom) * unit_(rng_))));
  }
  // Arguments next to each other on both sides of each point, and their negatives.
  void around(std::initializer_list<double> points) {
    for (double p : points) {
      T up = static_cast<T>(p), down = static_cast<T>(p);
      for (int k = 0; k < 20; ++k, up = std::nextafter(up, T(INFINITY)), down = std::nextafter(down, T(-INFINITY)))
        for (T x : {up, down, T(-up), T(-down)}) xs.push_back(x);
    }
  }
  // Pairs (y, x) for arctan2: magnitudes independent in each, all four quadrants.
  void pairs(double top, int count) {
    for (int i = 0; i < count; ++i) {
      ys.push_back(i % 2 ? -magnitude(top) : magnitude(top));
      xs.push_back(i % 4 < 2 ? -magnitude(top) : magnitude(top));
    }
  }
  // Pairs with y/x near `ratio` (relative spread 2^-spread_log2 and more), in all quadrants.
  void pairs_near_ratio(double ratio, int count) {
    for (int i = 0; i < count; ++i) {
      const double x = std::exp2(-30 + 60 * unit_(rng_));
      const double y = x * ratio * (1 + (unit_(rng_) - 0.5) * std::exp2(-40 * unit_(rng_)));
      ys.push_back(static_cast<T>(i % 2 ? -y : y));
      xs.push_back(static_cast<T>(i % 4 < 2 ? -x : x));
    }
  }
  void box(double half_width, int count) {
    for (int i = 0; i < count; ++i) {
      ys.push_back(static_cast<T>(half_width * (2 * unit_(rng_) - 1)));
      xs.push_back(static_cast<T>(half_width * (2 * unit_(rng_) - 1)));
    }
  }

 private:
  T magnitude(double top) {
    const int bottom = std::numeric_limits<T>::min_exponent - std::numeric_limits<T>::digits;
    return static_cast<T>(std::exp2(bottom + (top - bottom) * unit_(rng_)));
  }
  std::mt19937_64 rng_{7};
  std::uniform_real_distribution<double> unit_{0, 1};
};

template <class T> Arguments<T> arguments(OpCode op) {
  Arguments<T> a;
  const double top = std::numeric_limits<T>::max_exponent;
  const double epsilon_log2 = -std::numeric_limits<T>::digits;
  switch (op) {
    case OpCode::Log2:
    case OpCode::Log10:
      a.magnitudes(top, 150000, false);
      a.uniform(0.5, 2, 100000);
      a.uniform(0, 1000, 50000);
      a.near(1, epsilon_log2 - 2, -1, 100000);
      a.around({1, std::numbers::sqrt2 / 2, std::numbers::sqrt2, 10, 0.1});
      break;
    case OpCode::Arcsinh:
      a.magnitudes(top, 150000);
      a.uniform(-3, 3, 150000);
      a.uniform(-1e9, 1e9, 50000);
      a.uniform(-0.2, 0.2, 50000);
      a.around({2, 0x1p28, 0.5, 1});
      break;
    case OpCode::Arccosh:
      a.near(1, epsilon_log2 - 2, 0, 150000);
      a.uniform(1, 3, 100000);
      a.magnitudes(top, 100000, false);
      a.uniform(1, 1e9, 50000);
      a.around({1, 2, 0x1p28});
      break;
    case OpCode::Arctanh:  // [-1, 1] and its ends, where each changes form at 1/2
    case OpCode::Arcsin:
    case OpCode::Arccos:
      a.uniform(-1, 1, 150000);
      a.magnitudes(0, 100000);
      a.near(1, epsilon_log2 - 2, -1, 50000);
      a.near(-1, epsilon_log2 - 2, -1, 50000);
      a.uniform(-0.6, 0.6, 50000);
      a.around({0.5, 1, 0.975});
      break;
    case OpCode::Arctan2:
      a.pairs(top, 150000);
      a.box(3, 100000);
      a.pairs_near_ratio(1, 50000);
      a.pairs_near_ratio(std::numbers::sqrt2 - 1, 50000);
      a.pairs_near_ratio(std::numbers::sqrt2 + 1, 50000);
      break;
    default: FAIL("no arguments for this op");
  }
  return a;
}

NodeRef apply(const InverseFunction& f, DType dtype, std::vector<NodeRef>& args) {
  args.push_back(input(dtype, {false}, "x"));
  if (binary(f)) args.push_back(input(dtype, {false}, "y"));
  return op(f.op, args);
}

// One single-op kernel per function, in one module.
std::vector<exec::Kernel> compile_functions(DType dtype) {
  std::vector<codegen::Cluster> clusters;
  for (const InverseFunction& f : functions) {
    std::vector<NodeRef> args;
    NodeRef y = apply(f, dtype, args);
    clusters.push_back({f.name, args, {y}, {y}, {}});
  }
  return codegen::compile_kernels(clusters, "vector_math_inverse_test");
}

template <class T> void check_accuracy(const InverseFunction& f, const exec::Kernel& kernel) {
  Arguments<T> a = arguments<T>(f.op);
  // Unary: xs. Binary (arctan2(y, x)): ys and xs.
  const std::vector<T>& first = binary(f) ? a.ys : a.xs;
  const std::vector<T> second = binary(f) ? a.xs : std::vector<T>{};
  const std::vector<T> got = run_kernel(kernel, first, second);
  double worst = 0;
  std::size_t worst_i = 0;
  for (std::size_t i = 0; i < first.size(); ++i) {
    const double e = ulp_error<T>(got[i], f.exact(first[i], second.empty() ? 0 : second[i]));
    if (e > worst) worst = e, worst_i = i;
  }
  const double limit = std::is_same_v<T, double> ? f.max_ulps_f64 : f.max_ulps_f32;
  const std::string name = std::string(f.name) + " " + dtype_name(dtype_of<T>());
  std::ostringstream at;
  at.precision(std::numeric_limits<T>::max_digits10);
  at << first[worst_i];
  if (!second.empty()) at << ", " << second[worst_i];
  MESSAGE(name << ": max error " << worst << " ulp at (" << at.str() << ") over " << first.size() << " arguments");
  CHECK_MESSAGE(worst <= limit, name << " is off by " << worst << " ulp at (" << at.str() << "): " << got[worst_i]);
}

// The values at which C's <math.h> has exact or special results.
template <class T> std::vector<T> special_values() {
  using limits = std::numeric_limits<T>;
  std::vector<T> v = {T(0),        T(0.5),         T(1),        T(2),         limits::infinity(), limits::quiet_NaN(),
                      limits::min(), limits::denorm_min(), limits::max(), T(0.999999), T(1.000001), T(3)};
  const std::size_t n = v.size();
  for (std::size_t i = 0; i < n; ++i) v.push_back(-v[i]);
  return v;
}

// The kernel agrees with C's function: the same zero (sign included),
// infinity or nan, and finite results within the function's ulp bound.
template <class T> void check_like_c(const InverseFunction& f, T got, T x, T y = 0) {
  const T want = std::is_same_v<T, double> ? static_cast<T>(f.c_double(x, y)) : static_cast<T>(f.c_float(x, y));
  INFO(std::string(f.name), "(", x, binary(f) ? ", " + std::to_string(y) : std::string(), ") = ", got, ", C gives ", want);
  if (std::isnan(want) || want == 0 || std::isinf(want)) {
    CHECK((std::isnan(got) == std::isnan(want)));
    if (!std::isnan(want)) CHECK((got == want && std::signbit(got) == std::signbit(want)));
  } else {
    const double limit = std::is_same_v<T, double> ? f.max_ulps_f64 : f.max_ulps_f32;
    CHECK(ulp_error<T>(got, f.exact(x, y)) <= limit);
  }
}

template <class T> void check_special_values() {
  const std::vector<exec::Kernel> kernels = compile_functions(dtype_of<T>());
  const std::vector<T> values = special_values<T>();
  for (std::size_t k = 0; k < std::size(functions); ++k) {
    const InverseFunction& f = functions[k];
    if (!binary(f)) {
      const std::vector<T> got = run_kernel(kernels[k], values);
      for (std::size_t i = 0; i < values.size(); ++i) check_like_c(f, got[i], values[i]);
      continue;
    }
    // Every pair, for arctan2's C99 cases (signed zeros, infinities, nan).
    std::vector<T> ys, xs;
    for (T y : values)
      for (T x : values) ys.push_back(y), xs.push_back(x);
    const std::vector<T> got = run_kernel(kernels[k], ys, xs);
    for (std::size_t i = 0; i < ys.size(); ++i) check_like_c(f, got[i], ys[i], xs[i]);
  }
}

// Where libm's results are exact: log2 of every power of two (subnormals
// included), log10 of the powers of ten the format holds exactly, and the
// domain ends of arcsin, arccos, arctanh and arccosh.
template <class T> void check_exact_results() {
  const std::vector<exec::Kernel> kernels = compile_functions(dtype_of<T>());
  std::vector<T> powers_of_two;
  std::vector<T> exponents;
  for (int n = std::numeric_limits<T>::min_exponent - std::numeric_limits<T>::digits;
       n < std::numeric_limits<T>::max_exponent; ++n)
    powers_of_two.push_back(std::ldexp(T(1), n)), exponents.push_back(T(n));
  CHECK(run_kernel(kernels[0], powers_of_two) == exponents);
  std::vector<T> powers_of_ten, tens_exponents;
  // 10^n is exact while 5^n fits the mantissa: n <= 22 (double), 10 (float).
  for (int n = 0; n <= (std::is_same_v<T, double> ? 22 : 10); ++n)
    powers_of_ten.push_back(static_cast<T>(std::pow(10.0, n))), tens_exponents.push_back(T(n));
  CHECK(run_kernel(kernels[1], powers_of_ten) == tens_exponents);
  const std::vector<T> ends = {T(1), T(-1)};
  const std::vector<T> arcsin = run_kernel(kernels[5], ends), arccos = run_kernel(kernels[6], ends);
  CHECK(arcsin[0] == static_cast<T>(std::numbers::pi / 2));
  CHECK(arcsin[1] == static_cast<T>(-std::numbers::pi / 2));
  CHECK(arccos[0] == 0);
  CHECK(!std::signbit(arccos[0]));
  CHECK(arccos[1] == static_cast<T>(std::numbers::pi));
  CHECK(run_kernel(kernels[3], ends)[0] == 0);
  const std::vector<T> arctanh = run_kernel(kernels[4], ends);
  CHECK(arctanh[0] == std::numeric_limits<T>::infinity());
  CHECK(arctanh[1] == -std::numeric_limits<T>::infinity());
}

}  // namespace

TEST_CASE("vector inverse functions are accurate (float64)") {
  const std::vector<exec::Kernel> kernels = compile_functions(float64);
  for (std::size_t i = 0; i < std::size(functions); ++i) check_accuracy<double>(functions[i], kernels[i]);
}

TEST_CASE("vector inverse functions are accurate (float32)") {
  const std::vector<exec::Kernel> kernels = compile_functions(float32);
  for (std::size_t i = 0; i < std::size(functions); ++i) check_accuracy<float>(functions[i], kernels[i]);
}

TEST_CASE("vector inverse functions give C's results at zeros, infinities, nan, subnormals and domain edges") {
  SUBCASE("float64") { check_special_values<double>(); }
  SUBCASE("float32") { check_special_values<float>(); }
}

TEST_CASE("vector inverse functions are exact where libm is") {
  SUBCASE("float64") { check_exact_results<double>(); }
  SUBCASE("float32") { check_exact_results<float>(); }
}

TEST_CASE("the inverse functions' kernels are vector code with no scalar call") {
  for (DType dtype : {float64, float32}) {
    CAPTURE(dtype_name(dtype));
    std::vector<OpCode> ops;
    for (const InverseFunction& f : functions) ops.push_back(f.op);
    const std::vector<std::string> bodies = generated_ir(dtype, ops);
    REQUIRE(bodies.size() == ops.size());
    const std::string vector_type = dtype == float64 ? " x double>" : " x float>";
    for (std::size_t i = 0; i < ops.size(); ++i) {
      CAPTURE(ir::op_info(ops[i]).name);
      CHECK(bodies[i].find(vector_type) != std::string::npos);
      CHECK(scalar_calls_on_the_vector_path(bodies[i]) == 0);
    }
  }
}

TEST_CASE("fused, broadcast and over partial vectors, the inverse functions match the reference evaluator") {
  for (DType dtype : {float64, float32}) {
    CAPTURE(dtype_name(dtype));
    // arctan2(y, x) + log2(|x| + 1) * arcsinh(y) - arccos(tanh(x)) + log10(cosh(y)) * arctanh(tanh(x) / 2)
    // + arccosh(y * y + 1) * arcsin(sin(x)), with y a column broadcast along rows of 37.
    NodeRef x = input(dtype, {false, false}, "x"), y = input(dtype, {false, true}, "y");
    NodeRef t = op(OpCode::Tanh, {x});
    NodeRef a = op(OpCode::Arctan2, {y, x});
    NodeRef b = op(OpCode::Mul, {op(OpCode::Log2, {op(OpCode::Add, {op(OpCode::Abs, {x}), scalar_constant(1, dtype, 2)})}),
                                 op(OpCode::Arcsinh, {y})});
    NodeRef c = op(OpCode::Arccos, {t});
    NodeRef d = op(OpCode::Mul, {op(OpCode::Log10, {op(OpCode::Cosh, {y})}),
                                 op(OpCode::Arctanh, {op(OpCode::Mul, {t, scalar_constant(0.5, dtype, 2)})})});
    NodeRef e = op(OpCode::Mul, {op(OpCode::Arccosh, {op(OpCode::Add, {op(OpCode::Mul, {y, y}), scalar_constant(1, dtype, 2)})}),
                                 op(OpCode::Arcsin, {op(OpCode::Sin, {x})})});
    NodeRef out = op(OpCode::Add, {op(OpCode::Sub, {op(OpCode::Add, {a, b}), c}), op(OpCode::Add, {d, e})});
    std::vector<NodeRef> nodes;
    for (const NodeRef& node : ir::toposort({out}))
      if (node->op != OpCode::Input && node->op != OpCode::Constant) nodes.push_back(node);
    const codegen::Cluster cluster{"fused_inverse", {x, y}, nodes, {out}, {}};
    const exec::Kernel kernel = codegen::compile_kernels({cluster}, "fused_vector_math_inverse")[0];
    const Tensor xv = random_tensor({5, 37}, dtype, -4, 4, 3), yv = random_tensor({5, 1}, dtype, -3, 3, 4);
    const std::vector<Tensor> got = kernel.run({xv, yv}), expected = reference(cluster, {xv, yv});
    REQUIRE(got.size() == 1);
    check_close(got[0], expected[0], 16, dtype == float32 ? 1e-5 : 1e-13, "the fused expression");
  }
}
