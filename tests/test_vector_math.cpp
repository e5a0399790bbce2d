// The JIT's vector sin, cos, tan, erf, erfc, sinh, cosh, exp2 and arctan
// (compiler/codegen/vector_trig.cpp, vector_erf.cpp, vector_exp_based.cpp,
// vector_arctan.cpp): accuracy in ulps against long double libm over many
// arguments, the special values, the scalar fallback for huge arguments of the
// trigonometric functions, and that the kernels really are vector code.
#include "codegen_test_support.hpp"
#include "compiler/ir/op_info.hpp"
#include "scoped_config.hpp"
#include "temp_dir.hpp"
#include "ulp_error.hpp"

#include <filesystem>
#include <fstream>
#include <limits>
#include <numbers>
#include <sstream>

using namespace codegen_test;
using graphjit::testing::ulp_error;

namespace {

// The functions this file covers, with their long double reference and the
// ulp bound asserted at each dtype.
struct VectorFunction {
  OpCode op;
  const char* name;
  long double (*exact)(long double);
  double max_ulps_f64, max_ulps_f32;
};

const VectorFunction functions[] = {
    {OpCode::Sin, "sin", [](long double x) { return sinl(x); }, 1.5, 1},
    {OpCode::Cos, "cos", [](long double x) { return cosl(x); }, 1.5, 1},
    {OpCode::Tan, "tan", [](long double x) { return tanl(x); }, 2.5, 1},
    {OpCode::Erf, "erf", [](long double x) { return erfl(x); }, 2, 1},
    {OpCode::Erfc, "erfc", [](long double x) { return erfcl(x); }, 3.5, 1},
    {OpCode::Sinh, "sinh", [](long double x) { return sinhl(x); }, 2.5, 1},
    {OpCode::Cosh, "cosh", [](long double x) { return coshl(x); }, 2, 1},
    {OpCode::Exp2, "exp2", [](long double x) { return exp2l(x); }, 1.5, 1},
    {OpCode::Arctan, "arctan", [](long double x) { return atanl(x); }, 2, 1},
};

bool trigonometric(OpCode op) { return op == OpCode::Sin || op == OpCode::Cos || op == OpCode::Tan; }

// |x| up to which the trigonometric functions reduce in vector code (vector_trig.cpp).
constexpr double reduction_limit = 1e6;

template <class T> std::vector<T> arguments(OpCode op) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> unit(0, 1);
  std::vector<T> xs;
  auto uniform = [&](double lo, double hi, int count) {
    for (int i = 0; i < count; ++i) xs.push_back(static_cast<T>(lo + (hi - lo) * unit(rng)));
  };
  // ±2^u, u uniform from the subnormals up to `top`.
  auto magnitudes = [&](double top, int count) {
    const int bottom = std::numeric_limits<T>::min_exponent - std::numeric_limits<T>::digits;
    for (int i = 0; i < count; ++i) {
      const T m = static_cast<T>(std::exp2(bottom + (top - bottom) * unit(rng)));
      xs.push_back(i % 2 ? m : -m);
    }
  };
  // Arguments next to each other around each boundary.
  auto around = [&](std::initializer_list<double> points) {
    for (double p : points)
      for (T x = static_cast<T>(p), k = 0; k < 20; ++k, x = std::nextafter(x, T(0))) xs.push_back(x), xs.push_back(-x);
  };
  if (trigonometric(op)) {
    magnitudes(std::log2(reduction_limit), 100000);
    uniform(-4, 4, 100000);
    uniform(-1e3, 1e3, 50000);
    uniform(-reduction_limit, reduction_limit, 50000);
    // The floats and doubles nearest to multiples of pi/2, where the
    // reduction cancels most: the hardest arguments below the limit.
    for (int i = 0; i < 40000; ++i) {
      const double k = i < 20000 ? i - 10000 : std::floor(unit(rng) * 2 * reduction_limit / std::numbers::pi);
      T x = static_cast<T>(k * std::numbers::pi / 2);
      for (int step = 0; step < 3; ++step, x = std::nextafter(x, std::numeric_limits<T>::infinity())) xs.push_back(x);
    }
    around({reduction_limit, std::numbers::pi / 4, std::numbers::pi / 2});
  } else if (op == OpCode::Erf || op == OpCode::Erfc) {
    magnitudes(5, 100000);
    uniform(-6, 6, 100000);
    uniform(-0.8, 0.8, 50000);
    uniform(-30, 30, 50000);
    uniform(std::is_same_v<T, double> ? 26 : 9, std::is_same_v<T, double> ? 28 : 11, 50000);  // erfc underflows
    around({0.75, 2, 4, 5.9, 27.2, 30});
  } else if (op == OpCode::Arctan) {
    magnitudes(100, 100000);
    uniform(-3, 3, 200000);
    uniform(-0.5, 0.5, 50000);
    around({0.41421356237309503, 2.414213562373095, 1, 1e16});
  } else {  // sinh, cosh, exp2
    magnitudes(11, 100000);
    uniform(-2, 2, 100000);
    uniform(-30, 30, 100000);
    uniform(-1100, 1100, 100000);
    uniform(705, 712, 50000);  // sinh and cosh overflow
    around({22, 88.7, 89.5, 709.78, 710.475, 1024, -126, -149, -1022, -1074});
  }
  return xs;
}

// One single-op kernel per function, in one module.
std::vector<exec::Kernel> compile_functions(DType dtype, const std::string& module = "vector_math_test") {
  std::vector<codegen::Cluster> clusters;
  for (const VectorFunction& f : functions) {
    NodeRef x = input(dtype, {false}, "x");
    NodeRef y = op(f.op, {x});
    clusters.push_back({f.name, {x}, {y}, {y}, {}});
  }
  return codegen::compile_kernels(clusters, module);
}

template <class T> std::vector<T> run_kernel(const exec::Kernel& kernel, const std::vector<T>& xs) {
  return kernel.run({Tensor::from_vector(xs)})[0].template to_vector<T>();
}

template <class T> void check_accuracy(const VectorFunction& f, const exec::Kernel& kernel) {
  const std::vector<T> xs = arguments<T>(f.op);
  const std::vector<T> got = run_kernel(kernel, xs);
  double worst = 0;
  T worst_at = 0, worst_got = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const double e = ulp_error<T>(got[i], f.exact(xs[i]));
    if (e > worst) worst = e, worst_at = xs[i], worst_got = got[i];
  }
  const double limit = std::is_same_v<T, double> ? f.max_ulps_f64 : f.max_ulps_f32;
  const std::string name = std::string(f.name) + " " + dtype_name(dtype_of<T>());
  MESSAGE(name << ": max error " << worst << " ulp at x = " << worst_at << " over " << xs.size() << " arguments");
  CHECK_MESSAGE(worst <= limit, name << " is off by " << worst << " ulp at x = " << worst_at << ": "
                                     << worst_got << " for " << static_cast<double>(f.exact(worst_at)));
}

// The scalar function the op's table entry gives, which is what the kernel
// must return beyond the vector reduction's range.
template <class T> T table_scalar(OpCode op, T x) {
  const ir::OpInfo& info = ir::op_info(op);
  if constexpr (std::is_same_v<T, double>) return info.scalar_f64(&x);
  else return info.scalar_f32(&x);
}

template <class T> void check_huge_arguments() {
  const std::vector<exec::Kernel> kernels = compile_functions(dtype_of<T>());
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> exponent(std::log2(reduction_limit), std::numeric_limits<T>::max_exponent);
  // Huge arguments mixed with ordinary ones in each vector, so that a vector
  // with some lanes beyond the range still computes the others itself.
  std::vector<T> xs;
  for (int i = 0; i < 4000; ++i) {
    const T huge = static_cast<T>(std::exp2(exponent(rng)));
    xs.push_back(i % 3 ? huge : T(0.5) + T(i % 7));
    xs.push_back(i % 2 ? -huge : huge);
  }
  for (T edge : {T(reduction_limit), std::nextafter(T(reduction_limit), T(1e30)), std::numeric_limits<T>::max()})
    xs.push_back(edge), xs.push_back(-edge);
  for (std::size_t k = 0; k < std::size(functions); ++k) {
    if (!trigonometric(functions[k].op)) continue;
    const std::vector<T> got = run_kernel(kernels[k], xs);
    int mismatches = 0;
    for (std::size_t i = 0; i < xs.size(); ++i) {
      const bool beyond = std::fabs(xs[i]) > reduction_limit;
      // Beyond the range: exactly the scalar function. Within it: a few ulps.
      const bool ok = beyond ? got[i] == table_scalar(functions[k].op, xs[i])
                             : ulp_error<T>(got[i], functions[k].exact(xs[i])) <= 2.5;
      if (!ok && ++mismatches <= 5)
        MESSAGE(functions[k].name << "(" << xs[i] << ") = " << got[i] << ", libm "
                                  << table_scalar(functions[k].op, xs[i]));
    }
    CHECK_MESSAGE(mismatches == 0, functions[k].name << ": " << mismatches << " wrong results");
  }
}

template <class T> void check_special_values() {
  const std::vector<exec::Kernel> k = compile_functions(dtype_of<T>());
  const T inf = std::numeric_limits<T>::infinity(), nan = std::numeric_limits<T>::quiet_NaN();
  const T tiny = std::numeric_limits<T>::denorm_min();
  const std::vector<T> xs = {T(0), -T(0), inf, -inf, nan, tiny, -tiny};
  enum { zero, neg_zero, pos_inf, neg_inf, not_a_number, denorm, neg_denorm };
  const auto sin = run_kernel(k[0], xs), cos = run_kernel(k[1], xs), tan = run_kernel(k[2], xs), erf = run_kernel(k[3], xs),
             erfc = run_kernel(k[4], xs);
  for (const auto* results : {&sin, &cos, &tan, &erf, &erfc}) CHECK(std::isnan((*results)[not_a_number]));
  for (const auto* results : {&sin, &tan, &erf}) {
    CHECK((*results)[zero] == 0);
    CHECK(!std::signbit((*results)[zero]));
    CHECK((*results)[neg_zero] == 0);
    CHECK(std::signbit((*results)[neg_zero]));
  }
  for (const auto* results : {&sin, &cos, &tan}) {
    CHECK(std::isnan((*results)[pos_inf]));
    CHECK(std::isnan((*results)[neg_inf]));
  }
  CHECK(sin[denorm] == tiny);
  CHECK(sin[neg_denorm] == -tiny);
  CHECK(tan[denorm] == tiny);
  CHECK(cos[zero] == 1);
  CHECK(cos[neg_zero] == 1);
  CHECK(cos[denorm] == 1);
  CHECK(erf[pos_inf] == 1);
  CHECK(erf[neg_inf] == -1);
  CHECK(erf[denorm] == static_cast<T>(2 / std::sqrt(std::numbers::pi) * static_cast<double>(tiny)));
  CHECK(erfc[zero] == 1);
  CHECK(erfc[neg_zero] == 1);
  CHECK(erfc[pos_inf] == 0);
  CHECK(erfc[neg_inf] == 2);

  const auto sinh = run_kernel(k[5], xs), cosh = run_kernel(k[6], xs), exp2 = run_kernel(k[7], xs);
  for (const auto* results : {&sinh, &cosh, &exp2}) CHECK(std::isnan((*results)[not_a_number]));
  CHECK(sinh[zero] == 0);
  CHECK(std::signbit(sinh[neg_zero]));
  CHECK(sinh[denorm] == tiny);
  CHECK(sinh[neg_denorm] == -tiny);
  CHECK(sinh[pos_inf] == inf);
  CHECK(sinh[neg_inf] == -inf);
  CHECK(cosh[zero] == 1);
  CHECK(cosh[neg_zero] == 1);
  CHECK(cosh[pos_inf] == inf);
  CHECK(cosh[neg_inf] == inf);
  CHECK(exp2[zero] == 1);
  CHECK(exp2[pos_inf] == inf);
  CHECK(exp2[neg_inf] == 0);
  // Powers of two come out exact, up to overflow and down through the subnormals.
  std::vector<T> integers;
  for (int n = std::numeric_limits<T>::min_exponent - std::numeric_limits<T>::digits - 1;
       n <= std::numeric_limits<T>::max_exponent; ++n)
    integers.push_back(T(n));
  const std::vector<T> powers = run_kernel(k[7], integers);
  for (std::size_t i = 0; i < integers.size(); ++i) CHECK(powers[i] == std::exp2(integers[i]));

  const auto arctan = run_kernel(k[8], xs);
  CHECK(std::isnan(arctan[not_a_number]));
  CHECK(arctan[zero] == 0);
  CHECK(std::signbit(arctan[neg_zero]));
  CHECK(arctan[denorm] == tiny);
  CHECK(arctan[pos_inf] == static_cast<T>(std::numbers::pi / 2));
  CHECK(arctan[neg_inf] == static_cast<T>(-std::numbers::pi / 2));
}

// The kernel functions of a dumped module, each as the text from its
// `define` to its closing brace.
std::vector<std::string> kernel_bodies(const std::string& ir) {
  std::vector<std::string> bodies;
  for (std::size_t at = ir.find("\ndefine "); at != std::string::npos; at = ir.find("\ndefine ", at + 1))
    bodies.push_back(ir.substr(at, ir.find("\n}", at) - at));
  return bodies;
}

// Calls other than LLVM intrinsics, outside blocks named beyond_vector_range.
int scalar_calls_on_the_vector_path(const std::string& body) {
  std::istringstream lines(body);
  std::string line;
  bool in_fallback = false;
  int calls = 0;
  while (std::getline(lines, line)) {
    if (!line.empty() && line[0] != ' ') in_fallback = line.rfind("beyond_vector_range", 0) == 0;
    if (line.find(" call ") != std::string::npos && line.find("@llvm.") == std::string::npos && !in_fallback) ++calls;
  }
  return calls;
}

// The generated IR of kernels for `ops` at `dtype`, one body per op.
std::vector<std::string> generated_ir(DType dtype, const std::vector<OpCode>& ops) {
  graphjit::testing::TempDir dir;
  {
    graphjit::testing::ScopedConfig dumping("dump_ir=true,dump_dir=" + dir.path().string());
    std::vector<codegen::Cluster> clusters;
    for (OpCode code : ops) {
      NodeRef x = input(dtype, {false}, "x");
      NodeRef y = op(code, {x});
      clusters.push_back({ir::op_info(code).name, {x}, {y}, {y}, {}});
    }
    // One module, so that one file holds the bodies in order.
    const int threads = codegen::compile_threads();
    codegen::set_compile_threads(1);
    try {
      codegen::compile_kernels(clusters, "vector_path_probe");
    } catch (...) {
      codegen::set_compile_threads(threads);
      throw;
    }
    codegen::set_compile_threads(threads);
  }
  for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
    if (entry.path().extension() == ".ll" && entry.path().stem().extension() != ".opt") {
      std::ifstream in(entry.path());
      std::stringstream text;
      text << in.rdbuf();
      return kernel_bodies(text.str());
    }
  FAIL("no IR was dumped");
  return {};
}

}  // namespace

TEST_CASE("vector transcendentals are accurate (float64)") {
  const std::vector<exec::Kernel> kernels = compile_functions(float64);
  for (std::size_t i = 0; i < std::size(functions); ++i) check_accuracy<double>(functions[i], kernels[i]);
}

TEST_CASE("vector transcendentals are accurate (float32)") {
  const std::vector<exec::Kernel> kernels = compile_functions(float32);
  for (std::size_t i = 0; i < std::size(functions); ++i) check_accuracy<float>(functions[i], kernels[i]);
}

TEST_CASE("sin, cos and tan of huge arguments are libm's, lane by lane (float64)") { check_huge_arguments<double>(); }
TEST_CASE("sin, cos and tan of huge arguments are libm's, lane by lane (float32)") { check_huge_arguments<float>(); }

TEST_CASE("vector transcendentals handle zeros, infinities, nan and subnormals (float64)") {
  check_special_values<double>();
}
TEST_CASE("vector transcendentals handle zeros, infinities, nan and subnormals (float32)") {
  check_special_values<float>();
}

TEST_CASE("the kernels are vector code: no scalar call outside the huge-argument fallback") {
  for (DType dtype : {float64, float32}) {
    CAPTURE(dtype_name(dtype));
    const std::vector<OpCode> ops = {OpCode::Sin,  OpCode::Cos,  OpCode::Tan,  OpCode::Erf,   OpCode::Erfc,
                                     OpCode::Sinh, OpCode::Cosh, OpCode::Exp2, OpCode::Arctan, OpCode::Arcsin};
    const std::vector<std::string> bodies = generated_ir(dtype, ops);
    REQUIRE(bodies.size() == ops.size());
    const std::string vector_type = dtype == float64 ? " x double>" : " x float>";
    for (std::size_t i = 0; i + 1 < ops.size(); ++i) {
      CAPTURE(ir::op_info(ops[i]).name);
      CHECK(bodies[i].find(vector_type) != std::string::npos);
      CHECK(scalar_calls_on_the_vector_path(bodies[i]) == 0);
      CHECK((bodies[i].find("beyond_vector_range") != std::string::npos) == trigonometric(ops[i]));
    }
    // The check above can fail: arcsin still calls its scalar function per lane.
    CHECK(scalar_calls_on_the_vector_path(bodies.back()) > 0);
  }
}

TEST_CASE("fused with other ops and a row sum, over partial vectors and huge lanes, it matches the reference") {
  for (DType dtype : {float64, float32}) {
    CAPTURE(dtype_name(dtype));
    NodeRef x = input(dtype, {false, false}, "x");
    NodeRef s = op(OpCode::Sin, {x}), c = op(OpCode::Cos, {x}), sc = op(OpCode::Mul, {s, c});
    NodeRef e = op(OpCode::Erfc, {x}), y = op(OpCode::Add, {sc, e});
    NodeRef row_sum = reduce(OpCode::Sum, y, {1}, true);
    const codegen::Cluster cluster{"fused", {x}, {s, c, sc, e, y}, {y}, {row_sum}};
    const exec::Kernel kernel = codegen::compile_kernels({cluster}, "fused_vector_math")[0];
    // Rows of 37: every row ends in a partial vector; every 11th value is beyond the reduction's range.
    Tensor xv = random_tensor({7, 37}, dtype, -6, 6, 3);
    for (std::int64_t i = 0; i < 7 * 37; i += 11) xv.set({i / 37, i % 37}, (i % 2 ? -1 : 1) * 3e9 * (1 + i));
    const std::vector<Tensor> got = kernel.run({xv}), expected = reference(cluster, {xv});
    REQUIRE(got.size() == 2);
    // Absolute slack for sums that cancel to near zero.
    const double atol = dtype == float32 ? 1e-6 : 1e-15;
    check_close(got[0], expected[0], 4, atol, "sin(x) cos(x) + erfc(x)");
    check_close(got[1], expected[1], 16, 37 * atol, "its row sums");
  }
}
