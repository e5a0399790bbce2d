// Elementwise ops against hand-computed values, in every execution mode:
// arithmetic, comparisons, logic, switch, cast, clip and the transcendental
// functions; numpy's edge cases; the dtype rules; broadcasting; strided
// arguments; and verify_grad for every differentiable op.
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include "thrown_message.hpp"

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

namespace T = graphjit::tensor;
using graphjit::DType;
using graphjit::Mode;
using graphjit::Shape;
using graphjit::Tensor;
using graphjit::Variable;
using graphjit::testing::contains;
using graphjit::testing::thrown_message;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kE = std::exp(1.0);

// The reference evaluator is the oracle; fast_run is what users get (the JIT).
// Every value check runs in both, so they must both match the hand-computed values.
const Mode kModes[] = {Mode::reference, Mode::fast_run};

Tensor f64(std::vector<double> v, Shape shape = {}) { return Tensor::from_vector(v, std::move(shape)); }
Tensor f32(std::vector<float> v, Shape shape = {}) { return Tensor::from_vector(v, std::move(shape)); }
Tensor i32(std::vector<std::int32_t> v, Shape shape = {}) { return Tensor::from_vector(v, std::move(shape)); }
Tensor i64(std::vector<std::int64_t> v, Shape shape = {}) { return Tensor::from_vector(v, std::move(shape)); }
Tensor bools(std::vector<int> v) {
  Tensor t = Tensor::empty({static_cast<std::int64_t>(v.size())}, graphjit::bool_);
  for (std::size_t i = 0; i < v.size(); ++i) t.set({static_cast<std::int64_t>(i)}, v[i]);
  return t;
}

std::string name_of(DType t) { return graphjit::dtype_name(t); }

// A symbolic input with the argument's dtype and rank (no broadcastable dims).
Variable input_like(const Tensor& t, std::string name) {
  return T::tensor(t.dtype(), std::vector<bool>(static_cast<std::size_t>(t.ndim()), false), std::move(name));
}

using Build = std::function<Variable(const std::vector<Variable>&)>;

// build(inputs shaped like args) evaluated at args in `mode`. Inputs are named a, b, c.
Tensor evaluate(Mode mode, const Build& build, const std::vector<Tensor>& args) {
  std::vector<Variable> inputs;
  for (std::size_t i = 0; i < args.size(); ++i) inputs.push_back(input_like(args[i], std::string(1, char('a' + i))));
  const Variable out = build(inputs);
  auto f = graphjit::function(inputs, {out}, {.on_unused_input = graphjit::OnUnusedInput::ignore, .mode = mode});
  return f.call(std::vector<graphjit::Argument>(args.begin(), args.end()))[0];
}

// Values match when both are NaN, infinities match exactly, and finite values
// match to a few ulps of their dtype (exactly for integers and bool).
void check_values(const Tensor& got, DType dtype, const Shape& shape, const std::vector<double>& want) {
  CHECK(name_of(got.dtype()) == name_of(dtype));
  CHECK(graphjit::shape_str(got.shape()) == graphjit::shape_str(shape));
  const std::vector<double> values = got.to_vector<double>();
  REQUIRE(values.size() == want.size());
  const double tol = dtype == graphjit::float32 ? 1e-6 : dtype == graphjit::float64 ? 1e-13 : 0.0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    INFO("element ", i, ": got ", values[i], ", want ", want[i]);
    if (std::isnan(want[i])) CHECK(std::isnan(values[i]));
    else if (std::isinf(want[i]) || want[i] == 0) CHECK(values[i] == want[i]);
    else CHECK(std::abs(values[i] - want[i]) <= tol * std::abs(want[i]));
  }
}

void expect(const Build& build, const std::vector<Tensor>& args, DType dtype, const Shape& shape,
            const std::vector<double>& want) {
  for (Mode mode : kModes) {
    INFO("mode ", std::string(mode_name(mode)));
    check_values(evaluate(mode, build, args), dtype, shape, want);
  }
}

// Shorthands for one-input and two-input vector cases: the result has the inputs' shape.
using Unary = Variable (*)(const Variable&, std::source_location);
using Binary = Variable (*)(const Variable&, const Variable&, std::source_location);
Build unary(Unary fn) {
  return [fn](const std::vector<Variable>& in) { return fn(in[0], std::source_location::current()); };
}
Build binary(Binary fn) {
  return [fn](const std::vector<Variable>& in) { return fn(in[0], in[1], std::source_location::current()); };
}
void expect1(Unary fn, const Tensor& x, DType dtype, const std::vector<double>& want) {
  expect(unary(fn), {x}, dtype, x.shape(), want);
}
void expect2(Binary fn, const Tensor& a, const Tensor& b, DType dtype, const std::vector<double>& want) {
  expect(binary(fn), {a, b}, dtype, a.shape(), want);
}

}  // namespace

// --- arithmetic ---------------------------------------------------------------

TEST_CASE("float arithmetic: add sub mul true_div int_div mod maximum minimum") {
  const Tensor a = f64({1.5, -2, 3, 0.5}), b = f64({2, 4, -1.5, 0.25});
  const DType d = graphjit::float64;
  expect2(T::add, a, b, d, {3.5, 2, 1.5, 0.75});
  expect2(T::sub, a, b, d, {-0.5, -6, 4.5, 0.25});
  expect2(T::mul, a, b, d, {3, -8, -4.5, 0.125});
  expect2(T::true_div, a, b, d, {0.75, -0.5, -2, 2});
  expect2(T::int_div, a, b, d, {0, -1, -2, 2});
  expect2(T::mod, a, b, d, {1.5, 2, 0, 0});
  expect2(T::maximum, a, b, d, {2, 4, 3, 0.5});
  expect2(T::minimum, a, b, d, {1.5, -2, -1.5, 0.25});
}

TEST_CASE("float floor division and modulo follow Python's signs") {
  const Tensor a = f64({5.5, -5.5, 5.5, -5.5}), b = f64({2, 2, -2, -2});
  expect2(T::int_div, a, b, graphjit::float64, {2, -3, -3, 2});
  expect2(T::mod, a, b, graphjit::float64, {1.5, 0.5, -0.5, -1.5});
}

TEST_CASE("integer floor division and modulo follow Python's signs") {
  const Tensor a = i32({7, -7, 7, -7, 0, 6}), b = i32({2, 2, -2, -2, 3, 3});
  const DType d = graphjit::int32;
  expect2(T::int_div, a, b, d, {3, -4, -4, 3, 0, 2});
  expect2(T::mod, a, b, d, {1, 1, -1, -1, 0, 0});
  expect2(T::add, a, b, d, {9, -5, 5, -9, 3, 9});
  expect2(T::sub, a, b, d, {5, -9, 9, -5, -3, 3});
  expect2(T::mul, a, b, d, {14, -14, -14, 14, 0, 18});
  expect2(T::true_div, a, b, graphjit::float64, {3.5, -3.5, -3.5, 3.5, 0, 2});
  expect2(T::maximum, a, b, d, {7, 2, 7, -2, 3, 6});
  expect2(T::minimum, a, b, d, {2, -7, -2, -7, 0, 3});
}

TEST_CASE("division by zero: floats give inf and nan, integers give 0 like numpy") {
  const Tensor a = f64({1, -1, 0}), zero = f64({0, 0, 0});
  expect2(T::true_div, a, zero, graphjit::float64, {kInf, -kInf, kNaN});
  expect2(T::int_div, a, zero, graphjit::float64, {kInf, -kInf, kNaN});
  expect2(T::mod, a, zero, graphjit::float64, {kNaN, kNaN, kNaN});
  const Tensor ia = i32({5, -5, 0}), izero = i32({0, 0, 0});
  expect2(T::true_div, ia, izero, graphjit::float64, {kInf, -kInf, kNaN});
  expect2(T::int_div, ia, izero, graphjit::int32, {0, 0, 0});
  expect2(T::mod, ia, izero, graphjit::int32, {0, 0, 0});
}

TEST_CASE("pow on floats and integers") {
  expect2(T::pow, f64({2, 9, 4, 0.5, -2}), f64({3, 0.5, -1, 2, 3}), graphjit::float64, {8, 3, 0.25, 0.25, -8});
  expect2(T::pow, f64({-8}), f64({0.5}), graphjit::float64, {kNaN});
  expect2(T::pow, i32({2, 3, -2, 5, 7, 0}), i32({10, 0, 3, 1, 2, 0}), graphjit::int32, {1024, 1, -8, 5, 49, 1});
}

TEST_CASE("maximum and minimum propagate nan like numpy") {
  const Tensor a = f64({1, kNaN, 3, -kInf}), b = f64({2, 0, kNaN, -1});
  expect2(T::maximum, a, b, graphjit::float64, {2, kNaN, kNaN, -1});
  expect2(T::minimum, a, b, graphjit::float64, {1, kNaN, kNaN, -kInf});
}

TEST_CASE("integer results wrap around like numpy's fixed-width integers") {
  const std::int32_t big = std::numeric_limits<std::int32_t>::max();
  expect2(T::add, i32({big, -big}), i32({1, -2}), graphjit::int32,
          {static_cast<double>(std::numeric_limits<std::int32_t>::min()), static_cast<double>(big)});
  // int64 values above 2^53 are not representable as double: they must not pass through one.
  const std::int64_t huge = (std::int64_t{1} << 53) + 1;
  for (Mode mode : kModes) {
    INFO("mode ", std::string(mode_name(mode)));
    const Tensor sum = evaluate(mode, binary(T::add), {i64({huge}), i64({2})});
    CHECK(sum.to_vector<std::int64_t>() == std::vector<std::int64_t>{huge + 2});
    const Tensor gt = evaluate(mode, binary(T::gt), {i64({huge}), i64({huge - 1})});
    CHECK(gt.to_vector<int>() == std::vector<int>{1});
    // 3^40 overflows int64 and wraps modulo 2^64.
    const Tensor power = evaluate(mode, binary(T::pow), {i64({3, 2}), i64({40, 62})});
    CHECK(power.to_vector<std::int64_t>() == std::vector<std::int64_t>{-6289078614652622815LL, std::int64_t{1} << 62});
  }
}

TEST_CASE("INT64_MIN // -1 and INT64_MIN % -1 give numpy's values in every mode and in constant folding") {
  const std::int64_t lowest = std::numeric_limits<std::int64_t>::min();
  const Tensor a = i64({lowest, lowest, 7, lowest}), b = i64({-1, -1, -1, 1});
  const std::vector<std::int64_t> quotient{lowest, lowest, -7, lowest}, remainder{0, 0, 0, 0};
  for (Mode mode : kModes) {
    INFO("mode ", std::string(mode_name(mode)));
    CHECK(evaluate(mode, binary(T::int_div), {a, b}).to_vector<std::int64_t>() == quotient);
    CHECK(evaluate(mode, binary(T::mod), {a, b}).to_vector<std::int64_t>() == remainder);
    // Negation wraps the same way (numpy: -INT64_MIN == INT64_MIN).
    CHECK(evaluate(mode, unary(T::neg), {a}).to_vector<std::int64_t>()[0] == lowest);
  }
  // All-constant operands are folded at compile time by the reference kernel.
  const Variable x = graphjit::constant(a), y = graphjit::constant(b);
  for (Mode mode : {Mode::fast_run, Mode::fast_compile, Mode::reference}) {
    const auto out = graphjit::function({}, {T::int_div(x, y), T::mod(x, y)}, {.mode = mode}).call({});
    CHECK(out[0].to_vector<std::int64_t>() == quotient);
    CHECK(out[1].to_vector<std::int64_t>() == remainder);
  }
}

// --- unary functions ------------------------------------------------------------

TEST_CASE("neg abs sgn sqr relu on floats") {
  const DType d = graphjit::float64;
  expect1(T::neg, f64({1.5, -2, 0}), d, {-1.5, 2, 0});
  expect1(T::abs, f64({-1.5, 2, 0, -kInf}), d, {1.5, 2, 0, kInf});
  expect1(T::sgn, f64({-3, 0, 2.5, kNaN, -kInf}), d, {-1, 0, 1, kNaN, -1});
  expect1(T::sqr, f64({-3, 0.5, 1e200}), d, {9, 0.25, kInf});
  expect1(T::relu, f64({-2, 0, 3.5, kInf}), d, {0, 0, 3.5, kInf});
}

// Regression: the reference computed abs(-0.0) as -0.0 (numpy and the JIT give +0.0).
TEST_CASE("abs of negative zero is positive zero in every mode") {
  for (Mode mode : kModes) {
    INFO("mode ", std::string(mode_name(mode)));
    const Tensor out = evaluate(mode, unary(T::abs), {f64({-0.0, 0.0})});
    CHECK_FALSE(std::signbit(out.get({0})));
    CHECK_FALSE(std::signbit(out.get({1})));
  }
}

TEST_CASE("neg abs sgn sqr relu keep integer dtypes") {
  const DType d = graphjit::int32;
  expect1(T::neg, i32({3, -4, 0}), d, {-3, 4, 0});
  expect1(T::abs, i32({-3, 4, 0}), d, {3, 4, 0});
  expect1(T::sgn, i32({-5, 0, 7}), d, {-1, 0, 1});
  expect1(T::sqr, i32({-3, 4}), d, {9, 16});
  expect1(T::relu, i32({-3, 4}), d, {0, 4});
}

TEST_CASE("sqrt exp log log1p expm1 tanh with their domain edges") {
  const DType d = graphjit::float64;
  expect1(T::sqrt, f64({4, 0.25, 0, -1, kInf}), d, {2, 0.5, 0, kNaN, kInf});
  expect1(T::exp, f64({0, 1, -kInf, 1000, std::log(3.0)}), d, {1, kE, 0, kInf, 3});
  expect1(T::log, f64({1, kE, 0, -1, kInf}), d, {0, 1, -kInf, kNaN, kInf});
  expect1(T::log1p, f64({0, 1e-20, -1, kE - 1, -2}), d, {0, 1e-20, -kInf, 1, kNaN});
  expect1(T::expm1, f64({0, 1e-20, -kInf, 1000, std::log(3.0), -40, kNaN}), d, {0, 1e-20, -1, kInf, 2, -1, kNaN});
  expect1(T::tanh, f64({0, 1, -1, 50, -kInf}), d, {0, 0.7615941559557649, -0.7615941559557649, 1, -1});
}

TEST_CASE("sin and cos at exact points, with nan for infinities") {
  const DType d = graphjit::float64;
  const double pi = std::acos(-1.0);
  expect1(T::sin, f64({0, pi / 2, -pi / 6, kInf, kNaN}), d, {0, 1, std::sin(-pi / 6), kNaN, kNaN});
  expect1(T::cos, f64({0, pi, pi / 3, -kInf}), d, {1, -1, std::cos(pi / 3), kNaN});
  // Integers compute in float64, like numpy.
  expect1(T::sin, i32({0, 1}), d, {0, std::sin(1.0)});
}

TEST_CASE("sigmoid and softplus stay finite and accurate for large |x|") {
  const DType d = graphjit::float64;
  const double ln3 = std::log(3.0);
  expect1(T::sigmoid, f64({0, ln3, -ln3, 800, -800, -40}), d, {0.5, 0.75, 0.25, 1, 0, 4.248354255291589e-18});
  expect1(T::softplus, f64({0, 1, 1000, -1000, -40, 40}), d,
          {0.6931471805599453, 1.3132616875182228, 1000, 0, 4.248354255291589e-18, 40});
  const DType s = graphjit::float32;
  expect1(T::sigmoid, f32({0, 100, -50, -200}), s, {0.5, 1, 1.9287498479639178e-22, 0});
  expect1(T::softplus, f32({0, 100, -50, -20}), s, {0.6931471805599453, 100, 1.9287498479639178e-22, 2.061153620314381e-09});
}

TEST_CASE("transcendental functions of integers compute in float64") {
  const DType d = graphjit::float64;
  expect1(T::sqrt, i32({4, 9}), d, {2, 3});
  expect1(T::exp, i32({0, 1}), d, {1, kE});
  expect1(T::log, i32({1, 0}), d, {0, -kInf});
  expect1(T::sigmoid, i32({0}), d, {0.5});
  expect1(T::tanh, i64({0}), d, {0});
}

TEST_CASE("unary functions match the C library on an array longer than a vector register") {
  // 37 elements: not a multiple of any SIMD width, so a JIT's remainder loop runs too.
  std::vector<double> xs;
  for (int i = 0; i < 37; ++i) xs.push_back(-4.5 + 0.25 * i);
  std::vector<double> positive;
  for (double x : xs) positive.push_back(std::abs(x) + 0.5);
  auto mapped = [](const std::vector<double>& v, double (*fn)(double)) {
    std::vector<double> out;
    for (double x : v) out.push_back(fn(x));
    return out;
  };
  const Tensor x = f64(xs), p = f64(positive);
  const DType d = graphjit::float64;
  expect1(T::exp, x, d, mapped(xs, [](double v) { return std::exp(v); }));
  expect1(T::tanh, x, d, mapped(xs, [](double v) { return std::tanh(v); }));
  expect1(T::sigmoid, x, d, mapped(xs, [](double v) { return 1 / (1 + std::exp(-v)); }));
  expect1(T::softplus, x, d, mapped(xs, [](double v) { return std::log1p(std::exp(v)); }));
  expect1(T::log, p, d, mapped(positive, [](double v) { return std::log(v); }));
  expect1(T::log1p, p, d, mapped(positive, [](double v) { return std::log1p(v); }));
  expect1(T::sqrt, p, d, mapped(positive, [](double v) { return std::sqrt(v); }));
  expect1(T::relu, x, d, mapped(xs, [](double v) { return v > 0 ? v : 0.0; }));
  expect1(T::abs, x, d, mapped(xs, [](double v) { return std::abs(v); }));
}

// --- clip and cast ---------------------------------------------------------------

TEST_CASE("clip bounds values and keeps nan") {
  expect([](const auto& in) { return T::clip(in[0], 0, 1); }, {f64({-2, 0.5, 3, kNaN, 0, 1})}, graphjit::float64,
         {6}, {0, 0.5, 1, kNaN, 0, 1});
  // Symbolic bounds, broadcast from scalars.
  expect([](const auto& in) { return T::clip(in[0], in[1], in[2]); }, {f64({-2, 0.5, 3}), f64({-1}, {}), f64({2}, {})},
         graphjit::float64, {3}, {-1, 0.5, 2});
  expect([](const auto& in) { return T::clip(in[0], -1, 2); }, {i32({-5, 0, 7})}, graphjit::int32, {3}, {-1, 0, 2});
  // A float bound on an integer input makes the result float64, as in Theano.
  expect([](const auto& in) { return T::clip(in[0], 0.5, 2); }, {i32({-5, 1, 7})}, graphjit::float64, {3},
         {0.5, 1, 2});
}

TEST_CASE("cast truncates toward zero, maps to bool by != 0, widens exactly") {
  auto cast_to = [](DType t) { return Build([t](const auto& in) { return T::cast(in[0], t); }); };
  expect(cast_to(graphjit::int32), {f64({1.7, -1.7, 2.5, -0.5})}, graphjit::int32, {4}, {1, -1, 2, 0});
  expect(cast_to(graphjit::bool_), {f64({0, 0.5, -1, kNaN})}, graphjit::bool_, {4}, {0, 1, 1, 1});
  expect(cast_to(graphjit::float64), {i32({3, -4})}, graphjit::float64, {2}, {3, -4});
  expect(cast_to(graphjit::float32), {bools({1, 0})}, graphjit::float32, {2}, {1, 0});
  expect(cast_to(graphjit::float32), {f64({0.1, -2})}, graphjit::float32, {2}, {static_cast<double>(0.1f), -2});
  expect(cast_to(graphjit::uint8), {i32({300, -1})}, graphjit::uint8, {2}, {44, 255});
  auto x = T::vector("x");
  CHECK(T::cast(x, graphjit::float64).node() == x.node());  // a no-op cast adds no node
  CHECK(x.astype(graphjit::int8).dtype() == graphjit::int8);
}

TEST_CASE("float-to-int casts of nan, infinities and out-of-range values saturate in every mode") {
  // value_cast's rule (dtype.hpp): truncate toward zero, saturate at the
  // integer's range, nan -> 0 (C++ and LLVM leave these undefined).
  auto cast_to = [](DType t) { return Build([t](const auto& in) { return T::cast(in[0], t); }); };
  const Tensor wild = f64({kNaN, kInf, -kInf, 1e30, -1e30, 3e9, -3e9, 255.9, -0.9});
  const double i32max = 2147483647, i32min = -2147483648.0;
  expect(cast_to(graphjit::int32), {wild}, graphjit::int32, {9}, {0, i32max, i32min, i32max, i32min, i32max, i32min, 255, 0});
  expect(cast_to(graphjit::uint8), {wild}, graphjit::uint8, {9}, {0, 255, 0, 255, 0, 255, 0, 255, 0});
  expect(cast_to(graphjit::int8), {wild}, graphjit::int8, {9}, {0, 127, -128, 127, -128, 127, -128, 127, 0});
  for (Mode mode : kModes) {
    INFO("mode ", std::string(mode_name(mode)));
    const Tensor got = evaluate(mode, cast_to(graphjit::int64), {wild});
    const std::int64_t hi = std::numeric_limits<std::int64_t>::max(), lo = std::numeric_limits<std::int64_t>::min();
    CHECK(got.to_vector<std::int64_t>() == std::vector<std::int64_t>{0, hi, lo, hi, lo, 3000000000LL, -3000000000LL, 255, 0});
    const Tensor from32 = evaluate(mode, cast_to(graphjit::int32), {f32({std::numeric_limits<float>::quiet_NaN(), 1e20f, -1e20f, 7.9f})});
    CHECK(from32.to_vector<std::int64_t>() == std::vector<std::int64_t>{0, 2147483647, -2147483648LL, 7});
  }
}

// --- comparisons, logic, switch ----------------------------------------------------

TEST_CASE("comparisons give bool, and nan compares unequal to everything") {
  const Tensor a = f64({1, 2, 3, kNaN}), b = f64({2, 2, 2, kNaN});
  const DType d = graphjit::bool_;
  expect2(T::eq, a, b, d, {0, 1, 0, 0});
  expect2(T::neq, a, b, d, {1, 0, 1, 1});
  expect2(T::lt, a, b, d, {1, 0, 0, 0});
  expect2(T::le, a, b, d, {1, 1, 0, 0});
  expect2(T::gt, a, b, d, {0, 0, 1, 0});
  expect2(T::ge, a, b, d, {0, 1, 1, 0});
  // Mixed integer widths, and an int against a float.
  expect2(T::lt, i32({1, -5}), i64({1, 3}), d, {0, 1});
  expect2(T::eq, i32({1, -5}), f64({1, -5.5}), d, {1, 0});
}

TEST_CASE("logic ops and their operators") {
  const Tensor a = bools({0, 0, 1, 1}), b = bools({0, 1, 0, 1});
  const DType d = graphjit::bool_;
  expect2(T::and_, a, b, d, {0, 0, 0, 1});
  expect2(T::or_, a, b, d, {0, 1, 1, 1});
  expect2(T::xor_, a, b, d, {0, 1, 1, 0});
  expect1(T::not_, a, d, {1, 1, 0, 0});
  const Tensor x = f64({-1, 0.5, 1.5, 3});
  expect([](const auto& in) { return (in[0] > 0) & (in[0] < 2); }, {x}, d, {4}, {0, 1, 1, 0});
  expect([](const auto& in) { return (in[0] < 0) | (in[0] > 2); }, {x}, d, {4}, {1, 0, 0, 1});
  expect([](const auto& in) { return (in[0] > 0) ^ (in[0] > 1); }, {x}, d, {4}, {0, 1, 0, 0});
  expect([](const auto& in) { return !(in[0] > 1); }, {x}, d, {4}, {1, 1, 0, 0});
}

TEST_CASE("switch picks elementwise, any nonzero condition is true") {
  const Tensor a = f64({1, 2, 3, 4}), b = f64({10, 20, 30, 40});
  auto pick = [](const auto& in) { return T::switch_(in[0], in[1], in[2]); };
  expect(pick, {bools({1, 0, 1, 0}), a, b}, graphjit::float64, {4}, {1, 20, 3, 40});
  expect(pick, {i32({2, 0, -1, 0}), a, b}, graphjit::float64, {4}, {1, 20, 3, 40});
  // A fractional float condition is true; it must not be truncated to an integer first.
  expect(pick, {f64({0.5, 0, -0.25, kNaN}), i32({1, 2, 3, 4}), i32({10, 20, 30, 40})}, graphjit::int32, {4},
         {1, 20, 3, 4});
  expect(pick, {bools({1, 0, 1, 0}), f32({1, 2, 3, 4}), b}, graphjit::float64, {4}, {1, 20, 3, 40});
  // Literal arms follow the autocasting rules.
  expect([](const auto& in) { return T::switch_(in[0] > 2, in[0], 0); }, {a}, graphjit::float64, {4}, {0, 0, 3, 4});
  expect([](const auto& in) { return T::switch_(in[0] > 2, 1, 0); }, {a}, graphjit::int64, {4}, {0, 0, 1, 1});
  expect([](const auto& in) { return T::switch_(in[0] > 2, 1, 0.5); }, {a}, graphjit::float64, {4},
         {0.5, 0.5, 1, 1});
  // The condition broadcasts against the arms and the arms against each other.
  expect(pick, {bools({1, 0}), f64({7}, {}), f64({1, 2})}, graphjit::float64, {2}, {7, 2});
}

// --- dtype rules ----------------------------------------------------------------------

TEST_CASE("result dtypes follow numpy promotion and Theano's autocasting of literals") {
  auto i8 = T::vector("i8", graphjit::int8);
  auto u8 = T::vector("u8", graphjit::uint8);
  auto i32v = T::vector("i32", graphjit::int32);
  auto i64v = T::vector("i64", graphjit::int64);
  auto f32v = T::vector("f32", graphjit::float32);
  auto f64v = T::vector("f64", graphjit::float64);
  auto b = T::vector("b", graphjit::bool_);
  auto dt = [](const Variable& v) { return name_of(v.dtype()); };

  CHECK(dt(i32v + i32v) == "int32");
  CHECK(dt(i32v / i32v) == "float64");
  CHECK(dt(T::int_div(i32v, i32v)) == "int32");
  CHECK(dt(i32v % i32v) == "int32");
  CHECK(dt(f32v * f64v) == "float64");
  CHECK(dt(f32v / f32v) == "float32");
  CHECK(dt(i32v + i64v) == "int64");
  CHECK(dt(u8 + i8) == "int16");
  CHECK(dt(f32v + i8) == "float32");
  CHECK(dt(f32v + i32v) == "float64");
  CHECK(dt(T::maximum(i32v, f32v)) == "float64");
  CHECK(dt(f32v < f64v) == "bool");
  CHECK(dt(T::eq(i32v, i32v)) == "bool");
  CHECK(dt(T::not_(f64v)) == "bool");
  CHECK(dt(T::sqrt(i32v)) == "float64");
  CHECK(dt(T::sqrt(f32v)) == "float32");
  CHECK(dt(T::exp(i8)) == "float64");
  CHECK(dt(T::abs(i8)) == "int8");
  CHECK(dt(T::relu(f32v)) == "float32");
  CHECK(dt(T::cast(f64v, graphjit::int16)) == "int16");

  // Literals: an integer takes the variable's dtype, a float keeps a float variable's.
  CHECK(dt(f32v + 1) == "float32");
  CHECK(dt(1 + f32v) == "float32");
  CHECK(dt(f32v * 0.3) == "float32");
  CHECK(dt(i32v * 2.5) == "float64");
  CHECK(dt(2.5 * i32v) == "float64");
  CHECK(dt(i8 + 1) == "int8");
  CHECK(dt(i32v / 2) == "float64");
  CHECK(dt(b + 1) == "int64");
  CHECK(dt(f32v < 1) == "bool");
  CHECK(dt(-f32v) == "float32");
}

TEST_CASE("literals that do not fit the variable's integer dtype widen instead of wrapping") {
  // numpy/Theano: int8 + 300 is int16, uint8 > -1 compares in a signed type.
  expect([](const auto& in) { return in[0] + 300; }, {Tensor::from_vector(std::vector<std::int8_t>{1, -2})},
         graphjit::int16, {2}, {301, 298});
  expect([](const auto& in) { return in[0] > -1; }, {Tensor::from_vector(std::vector<std::uint8_t>{0, 200})},
         graphjit::bool_, {2}, {1, 1});
  CHECK(name_of((T::vector("i", graphjit::int32) + 5000000000LL).dtype()) == "int64");
}

TEST_CASE("float32 arithmetic with literals runs in float32") {
  expect([](const auto& in) { return in[0] * 0.5 + 1; }, {f32({1, 3})}, graphjit::float32, {2}, {1.5, 2.5});
  expect([](const auto& in) { return 1 - in[0]; }, {f32({0.25f, 2})}, graphjit::float32, {2}, {0.75, -1});
  expect([](const auto& in) { return in[0] * 2.5; }, {i32({2, -1})}, graphjit::float64, {2}, {5, -2.5});
  expect([](const auto& in) { return in[0] % 3; }, {i32({-1, 7})}, graphjit::int32, {2}, {2, 1});
}

// --- broadcasting ----------------------------------------------------------------------

TEST_CASE("a vector broadcasts against a matrix by a broadcast dim on the left") {
  auto v = T::vector("v");
  auto m = T::matrix("m");
  const Variable sum = v + m;
  CHECK(sum.ndim() == 2);
  CHECK(sum.broadcastable() == std::vector<bool>{false, false});
  expect([](const auto& in) { return in[0] + in[1]; }, {f64({1, 2, 3}), f64({0, 1, 2, 3, 4, 5}, {2, 3})},
         graphjit::float64, {2, 3}, {1, 3, 5, 4, 6, 8});
  // A scalar against a 3-d tensor, and a matrix against a 3-d tensor.
  expect([](const auto& in) { return in[0] * in[1]; }, {f64({2}, {}), f64({1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 2})},
         graphjit::float64, {2, 2, 2}, {2, 4, 6, 8, 10, 12, 14, 16});
  expect([](const auto& in) { return in[1] - in[0]; }, {f64({1, 2, 3, 4}, {2, 2}), f64({1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 2})},
         graphjit::float64, {2, 2, 2}, {0, 0, 0, 0, 4, 4, 4, 4});
}

TEST_CASE("dims declared broadcastable broadcast; the result is broadcastable only where all inputs are") {
  auto row = T::tensor(graphjit::float64, {true, false}, "row");
  auto col = T::tensor(graphjit::float64, {false, true}, "col");
  auto m = T::matrix("m");
  CHECK((row + m).broadcastable() == std::vector<bool>{false, false});
  CHECK((row * row).broadcastable() == std::vector<bool>{true, false});
  CHECK((row + col).broadcastable() == std::vector<bool>{false, false});
  CHECK(T::exp(row).broadcastable() == std::vector<bool>{true, false});

  const Tensor r = f64({1, 2, 3}, {1, 3}), c = f64({10, 20}, {2, 1}), mv = f64({0, 1, 2, 3, 4, 5}, {2, 3});
  for (Mode mode : kModes) {
    INFO("mode ", std::string(mode_name(mode)));
    auto f = graphjit::function({row, col, m}, {row + m, row + col, row * row, col * m}, {.mode = mode});
    auto out = f(r, c, mv);
    check_values(out[0], graphjit::float64, {2, 3}, {1, 3, 5, 4, 6, 8});
    check_values(out[1], graphjit::float64, {2, 3}, {11, 12, 13, 21, 22, 23});
    check_values(out[2], graphjit::float64, {1, 3}, {1, 4, 9});
    check_values(out[3], graphjit::float64, {2, 3}, {0, 10, 20, 60, 80, 100});
  }
}

TEST_CASE("non-broadcastable dims that differ at run time are a ShapeError naming the variables and shapes") {
  auto x = T::matrix("x");
  auto y = T::matrix("y");
  auto v = T::vector("v");
  for (Mode mode : kModes) {
    INFO("mode ", std::string(mode_name(mode)));
    auto f = graphjit::function({x, y}, {x + y}, {.mode = mode});
    const std::string msg = thrown_message<graphjit::ShapeError>([&] { f(f64({1, 2, 3, 4, 5, 6}, {2, 3}), f64(std::vector<double>(8, 1.0), {2, 4})); });
    CHECK(contains(msg, "x"));
    CHECK(contains(msg, "y"));
    CHECK(contains(msg, "(2, 3)"));
    CHECK(contains(msg, "(2, 4)"));
    CHECK(contains(msg, "add"));
    // Theano semantics: a length-1 dim that is not declared broadcastable does not broadcast.
    const std::string ones = thrown_message<graphjit::ShapeError>([&] { f(f64({1, 2, 3}, {1, 3}), f64({1, 2, 3, 4, 5, 6}, {2, 3})); });
    CHECK(contains(ones, "(1, 3)"));
    CHECK(contains(ones, "(2, 3)"));
    CHECK(contains(ones, "broadcastable"));
    // Mismatch between a vector and a matrix's last dim.
    auto g = graphjit::function({v, x}, {v * x}, {.mode = mode});
    const std::string vm = thrown_message<graphjit::ShapeError>([&] { g(f64({1, 2, 3, 4}), f64({1, 2, 3, 4, 5, 6}, {2, 3})); });
    CHECK(contains(vm, "x"));
    CHECK(contains(vm, "(2, 3)"));
    CHECK(contains(vm, "4"));
  }
}

TEST_CASE("graph build errors: undefined inputs are a TypeError") {
  auto x = T::vector("x");
  CHECK_THROWS_AS(T::add(x, Variable()), graphjit::TypeError);
  CHECK_THROWS_AS(T::exp(Variable()), graphjit::TypeError);
  // Every builder family says which builder and the user's line (one helper, op_support's require_defined).
  auto m = T::matrix("m");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"add", thrown_message<graphjit::TypeError>([&] { T::add(x, Variable()); })},
      {"categorical_crossentropy",
       thrown_message<graphjit::TypeError>([&] { T::nnet::categorical_crossentropy(m, Variable()); })},
      {"reshape", thrown_message<graphjit::TypeError>([&] { T::reshape(Variable(), std::vector<Variable>{x.shape(0)}); })},
      {"inc_subtensor", thrown_message<graphjit::TypeError>([&] { T::inc_subtensor(x[0], Variable()); })}};
  for (const auto& [builder, message] : cases) {
    CAPTURE(message);
    CHECK(message.starts_with(builder + " at "));
    CHECK(contains(message, "test_ops_elemwise.cpp:"));
    CHECK(contains(message, "undefined Variable"));
  }
}

// --- strided arguments --------------------------------------------------------------------

TEST_CASE("transposed, sliced and broadcast views as arguments") {
  const Tensor base = f64({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor transposed = base.transpose();  // (3, 2): [[1, 4], [2, 5], [3, 6]]
  REQUIRE_FALSE(transposed.is_contiguous());
  expect(binary(T::add), {transposed, f64({10, 20, 30, 40, 50, 60}, {3, 2})}, graphjit::float64, {3, 2},
         {11, 24, 32, 45, 53, 66});
  expect(unary(T::neg), {transposed}, graphjit::float64, {3, 2}, {-1, -4, -2, -5, -3, -6});

  const Tensor seq = Tensor::arange(10, graphjit::float64);
  const Tensor odd = seq.slice(0, 1, 9, 2);     // 1 3 5 7
  const Tensor down = seq.slice(0, 8, 0, -2);   // 8 6 4 2
  expect(binary(T::mul), {odd, down}, graphjit::float64, {4}, {8, 18, 20, 14});
  expect(binary(T::maximum), {odd, down}, graphjit::float64, {4}, {8, 6, 5, 7});

  const Tensor cols = base.slice(1, 1, 3);  // [[2, 3], [5, 6]]
  expect(unary(T::sqr), {cols}, graphjit::float64, {2, 2}, {4, 9, 25, 36});
  expect([](const auto& in) { return in[0] * in[1]; }, {cols, transposed.slice(0, 0, 2)}, graphjit::float64, {2, 2},
         {2, 12, 10, 30});

  const Tensor repeated = f64({1, 2, 3}).broadcast_to({2, 3});  // stride 0 along dim 0
  expect([](const auto& in) { return in[0] * 2; }, {repeated}, graphjit::float64, {2, 3}, {2, 4, 6, 2, 4, 6});
  expect([](const auto& in) { return in[0] + in[1]; }, {repeated, transposed.transpose()}, graphjit::float64, {2, 3},
         {2, 4, 6, 5, 7, 9});

  // The arguments are left as they were.
  CHECK(base.to_vector<double>() == std::vector<double>{1, 2, 3, 4, 5, 6});
}

TEST_CASE("a strided integer argument converted to the input's dtype") {
  const Tensor ints = i32({1, 2, 3, 4, 5, 6}, {2, 3}).transpose();
  auto x = T::matrix("x", graphjit::int64);
  for (Mode mode : kModes) {
    INFO("mode ", std::string(mode_name(mode)));
    auto f = graphjit::function({x}, {x * 10}, {.mode = mode});
    check_values(f(ints)[0], graphjit::int64, {3, 2}, {10, 40, 20, 50, 30, 60});
  }
}

// --- gradients ----------------------------------------------------------------------------

namespace {

// Points away from every kink (0 for abs/relu/sgn, ties for maximum/minimum,
// ±1 for clip) and, where needed, inside the domain (> 0 for log/sqrt/pow's base).
const Tensor kScalar = f64({0.7}, {});
const Tensor kVector = f64({0.3, -1.2, 2.1});
const Tensor kMatrix = f64({0.3, -1.2, 2.1, -0.45, 0.8, -2.6}, {2, 3});
Tensor positive(const Tensor& t) {
  Tensor out = t.copy();
  graphjit::for_each_index(t.shape(), [&](const auto& i) { out.set(i, std::abs(t.get(i)) + 0.2); });
  return out;
}
const Tensor kShapes[] = {kScalar, kVector, kMatrix};

void verify_everywhere(Unary fn, bool positive_only) {
  for (const Tensor& point : kShapes) {
    INFO("shape ", graphjit::shape_str(point.shape()));
    CHECK_NOTHROW(graphjit::verify_grad([fn](const auto& in) { return fn(in[0], std::source_location::current()); },
                                        {positive_only ? positive(point) : point}));
  }
}

}  // namespace

TEST_CASE("verify_grad: unary ops at scalar, vector and matrix points") {
  const std::pair<const char*, Unary> anywhere[] = {
      {"neg", T::neg},   {"abs", T::abs},         {"sgn", T::sgn},           {"sqr", T::sqr},
      {"exp", T::exp},   {"tanh", T::tanh},       {"sigmoid", T::sigmoid},   {"softplus", T::softplus},
      {"relu", T::relu}, {"log1p", T::log1p},       {"sin", T::sin},           {"cos", T::cos},
      {"expm1", T::expm1},
  };
  for (const auto& [name, fn] : anywhere) {
    INFO(name);
    verify_everywhere(fn, /*positive_only=*/name == std::string("log1p"));
  }
  const std::pair<const char*, Unary> positive_domain[] = {{"sqrt", T::sqrt}, {"log", T::log}};
  for (const auto& [name, fn] : positive_domain) {
    INFO(name);
    verify_everywhere(fn, /*positive_only=*/true);
  }
}

TEST_CASE("verify_grad: binary ops at scalar, vector and matrix points") {
  // The second operand: nowhere equal to the first (maximum/minimum ties), nonzero (division).
  auto shifted = [](const Tensor& t) {
    Tensor out = t.copy();
    graphjit::for_each_index(t.shape(), [&](const auto& i) { out.set(i, 0.6 - 0.5 * t.get(i)); });
    return out;
  };
  const std::pair<const char*, Binary> ops[] = {
      {"add", T::add},         {"sub", T::sub},         {"mul", T::mul},
      {"true_div", T::true_div}, {"maximum", T::maximum}, {"minimum", T::minimum},
  };
  for (const auto& [name, fn] : ops)
    for (const Tensor& point : kShapes) {
      INFO(name, " at shape ", graphjit::shape_str(point.shape()));
      CHECK_NOTHROW(graphjit::verify_grad(
          [fn](const auto& in) { return fn(in[0], in[1], std::source_location::current()); }, {point, shifted(point)}));
    }
  for (const Tensor& point : kShapes) {
    INFO("pow at shape ", graphjit::shape_str(point.shape()));
    CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return T::pow(in[0], in[1]); },
                                        {positive(point), shifted(point)}));
  }
}

TEST_CASE("verify_grad: mod and int_div away from their jumps") {
  // x / y stays well inside (k, k + 1): mod's gradient is (1, -floor(x / y)), int_div's is zero.
  const Tensor x = f64({5.3, -5.3, 7.9, -2.2}), y = f64({2.0, 2.0, -3.0, -1.5});
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return in[0] % in[1]; }, {x, y}));
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return T::int_div(in[0], in[1]) * in[0]; }, {x, y}));
}

TEST_CASE("verify_grad: broadcasting a vector or a scalar against a matrix") {
  const Tensor v = f64({0.5, -1.5, 2.5});
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return in[0] * in[1]; }, {v, kMatrix}));
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return in[1] / in[0]; }, {v, kMatrix}));
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return T::maximum(in[1], in[0]); }, {v, kMatrix}));
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return T::pow(in[0], in[1]); }, {positive(v), kMatrix}));
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return in[0] - T::tanh(in[1]); }, {kScalar, kMatrix}));
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return T::switch_(in[1] > 0, in[0], in[1] * in[1]); },
                                      {v, kMatrix}));
}

TEST_CASE("verify_grad: clip (including symbolic bounds), switch and cast") {
  const Tensor x = f64({0.3, -1.2, 2.1, -0.4, 0.9, -3.0});
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return T::clip(in[0], -1, 1); }, {x}));
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return T::clip(in[0], in[1], in[2]); },
                                      {x, f64({-1}, {}), f64({1}, {})}));
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return T::clip(in[0], in[1], in[2]); },
                                      {x, f64({-1, -1, -1, -1, -1, -1}), f64({1, 1, 1, 1, 1, 1})}));
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return T::switch_(in[0] > 0, in[0] * 3, T::exp(in[1])); },
                                      {x, kVector.broadcast_to({2, 3}).reshape({6})}));
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return T::cast(in[0], graphjit::float32) * 2; }, {x}));
}

TEST_CASE("verify_grad in float32") {
  const Tensor m = f32({0.3f, -1.2f, 2.1f, -0.45f, 0.8f, -2.6f}, {2, 3});
  const Tensor v = f32({0.5f, -1.5f, 2.5f});
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return T::tanh(in[0] * in[1]); }, {v, m}));
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return T::sigmoid(in[0]) + T::softplus(in[0]) * 0.5; }, {m}));
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return T::log(T::sqr(in[0]) + 1); }, {m}));
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return T::cast(in[0], graphjit::float64) * in[0]; }, {v}));
}

TEST_CASE("verify_grad of a composite expression") {
  const Tensor w = f64({0.2, -0.4, 0.6, 0.1, 0.3, -0.5}, {3, 2});
  CHECK_NOTHROW(graphjit::verify_grad(
      [](const auto& in) { return T::softplus(T::tanh(in[0]) * in[1] - T::sqr(in[1]) / (1 + T::exp(in[0]))); },
      {w, f64({1.1, -0.7, 0.4, 0.9, -0.2, 1.3}, {3, 2})}));
}
