// The elementwise math of issue 8 (graphjit/math.hpp) against numpy and scipy,
// in the reference evaluator and compiled (fast_run); their dtypes, the
// domain edges, and verify_grad at scalar, vector and matrix points with
// broadcasting. The expected values were printed by (numpy 1.24, scipy 1.10):
//   python3 -c "import numpy as np, scipy.special as sp; x = np.array([-0.9, -0.3, 0.0, 0.4, 0.8]);
//               print([repr(float(v)) for v in np.tan(x)])"   (and likewise for each function below)
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

namespace T = graphjit::tensor;
using graphjit::DType;
using graphjit::Mode;
using graphjit::Tensor;
using graphjit::Variable;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
using Unary = Variable (*)(const Variable&, std::source_location);

Tensor f64(std::vector<double> v, graphjit::Shape shape = {}) {
  if (shape.empty()) shape = {static_cast<std::int64_t>(v.size())};
  return Tensor::from_vector(v, shape);
}

// fn(x) in the reference evaluator and compiled, against `want` to `ulps` units in the last place.
void expect_values(const std::function<Variable(const Variable&)>& fn, const Tensor& x, const std::vector<double>& want,
                   DType dtype = graphjit::float64, double rel = 1e-14) {
  for (Mode mode : {Mode::reference, Mode::fast_run}) {
    INFO("mode ", std::string(graphjit::mode_name(mode)));
    const Variable in = T::tensor(x.dtype(), std::vector<bool>(static_cast<std::size_t>(x.ndim()), false), "x");
    const Tensor got = graphjit::function({in}, {fn(in)}, {.mode = mode})(x)[0];
    CHECK(graphjit::dtype_name(got.dtype()) == graphjit::dtype_name(dtype));
    const std::vector<double> values = got.to_vector<double>();
    REQUIRE(values.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
      INFO("element ", i, ": got ", values[i], ", want ", want[i]);
      if (std::isnan(want[i])) CHECK(std::isnan(values[i]));
      else if (std::isinf(want[i]) || want[i] == 0) CHECK(values[i] == want[i]);
      else CHECK(std::abs(values[i] - want[i]) <= rel * std::abs(want[i]));
    }
  }
}
void expect_values(Unary fn, const Tensor& x, const std::vector<double>& want, DType dtype = graphjit::float64,
                   double rel = 1e-14) {
  expect_values([fn](const Variable& v) { return fn(v, std::source_location::current()); }, x, want, dtype, rel);
}

// s * t + o, elementwise.
Tensor affine(const Tensor& t, double s, double o) {
  Tensor out = t.copy();
  graphjit::for_each_index(t.shape(), [&](const auto& i) { out.set(i, s * t.get(i) + o); });
  return out;
}

const Tensor kUnit = f64({-0.9, -0.3, 0.0, 0.4, 0.8});
const Tensor kPositive = f64({1.0, 1.5, 3.0, 10.0, 100.0});

}  // namespace

TEST_CASE("trigonometric and hyperbolic functions match numpy") {
  expect_values(T::tan, kUnit, {-1.2601582175503392, -0.30933624960962325, 0.0, 0.4227932187381618, 1.0296385570503641});
  expect_values(T::arcsin, kUnit, {-1.1197695149986342, -0.3046926540153975, 0.0, 0.41151684606748806, 0.9272952180016123});
  expect_values(T::arccos, kUnit, {2.6905658417935308, 1.8754889808102941, 1.5707963267948966, 1.1592794807274085, 0.6435011087932843});
  expect_values(T::arctan, kUnit, {-0.7328151017865066, -0.2914567944778671, 0.0, 0.3805063771123649, 0.6747409422235527});
  expect_values(T::sinh, kUnit, {-1.0265167257081753, -0.3045202934471426, 0.0, 0.4107523258028155, 0.888105982187623});
  expect_values(T::cosh, kUnit, {1.4330863854487745, 1.0453385141288605, 1.0, 1.081072371838455, 1.3374349463048447});
  expect_values(T::arcsinh, kUnit, {-0.8088669356527824, -0.29567304756342244, 0.0, 0.39003531977071526, 0.732668256045411});
  expect_values(T::arctanh, kUnit, {-1.4722194895832204, -0.30951960420311175, 0.0, 0.42364893019360184, 1.0986122886681098});
  expect_values(T::arccosh, kPositive, {0.0, 0.9624236501192069, 1.762747174039086, 2.993222846126381, 5.298292365610484});
  // Outside the domain: nan, like numpy.
  expect_values(T::arcsin, f64({1.5, -2}), {kNaN, kNaN});
  expect_values(T::arccosh, f64({0.5}), {kNaN});
  expect_values(T::arctanh, f64({1, -1}), {kInf, -kInf});
}

TEST_CASE("arctan2 takes the quadrant from both signs, and numbers on either side") {
  expect_values([](const Variable& y) { return T::arctan2(y, graphjit::constant(Tensor::from_vector(std::vector<double>{1, 1, -1, -3}, {4}))); },
                f64({1, -1, 0, 2}), {0.7853981633974483, -0.7853981633974483, 3.141592653589793, 2.5535900500422257});
  expect_values([](const Variable& y) { return T::arctan2(y, -1); }, f64({0}), {3.141592653589793});
  expect_values([](const Variable& x) { return T::arctan2(1, x); }, f64({1}), {0.7853981633974483});
}

TEST_CASE("exp2, log2 and log10 match numpy") {
  expect_values(T::exp2, kUnit, {0.5358867312681466, 0.8122523963562356, 1.0, 1.3195079107728942, 1.7411011265922482});
  expect_values(T::log2, kPositive, {0.0, 0.5849625007211562, 1.584962500721156, 3.321928094887362, 6.643856189774724});
  expect_values(T::log10, kPositive, {0.0, 0.17609125905568124, 0.47712125471966244, 1.0, 2.0});
  expect_values(T::log2, f64({0, -1}), {-kInf, kNaN});
}

TEST_CASE("rounding: floor, ceil, trunc, and round half to even like numpy.round") {
  const Tensor z = f64({-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, -1.7, 1.2});
  expect_values(T::floor, z, {-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, -2.0, 1.0});
  expect_values(T::ceil, z, {-2.0, -1.0, -0.0, 1.0, 2.0, 3.0, -1.0, 2.0});
  expect_values(T::round, z, {-2.0, -2.0, -0.0, 0.0, 2.0, 2.0, -2.0, 1.0});
  expect_values(T::trunc, z, {-2.0, -1.0, -0.0, 0.0, 1.0, 2.0, -1.0, 1.0});
  // Integers round to themselves, as float64 (numpy.floor of an int array).
  expect_values(T::floor, Tensor::from_vector(std::vector<std::int32_t>{-3, 4}, {2}), {-3, 4});
  // A variable's method.
  expect_values([](const Variable& x) { return x.round(); }, f64({4.5, 5.5}), {4, 6});
}

TEST_CASE("special functions match scipy.special") {
  expect_values(T::reciprocal, f64({-4, 0.5, 0}), {-0.25, 2, kInf});
  expect_values(T::erf, kUnit, {-0.7969082124228322, -0.3286267594591274, 0.0, 0.42839235504666845, 0.7421009647076605});
  expect_values(T::erfc, kUnit, {1.7969082124228322, 1.3286267594591274, 1.0, 0.5716076449533316, 0.2578990352923395});
  expect_values(T::erfinv, kUnit, {-1.1630871536766743, -0.2724627147267543, 0.0, 0.37080715859355795, 0.9061938024368233});
  expect_values(T::erfinv, f64({0.999999, -0.9999999999, 1e-10, 1.0, -1.0, 1.5}),
                {3.458910737275499, -4.572824958544925, 8.862269254527581e-11, kInf, -kInf, kNaN}, graphjit::float64,
                1e-12);
  expect_values(T::gammaln, kPositive, {0.0, -0.12078223763524526, 0.6931471805599453, 12.801827480081469, 359.1342053695754});
  expect_values(T::psi, kPositive, {-0.5772156649015329, 0.03648997397857652, 0.9227843350984671, 2.251752589066721, 4.600161852738088});
  expect_values(T::psi, f64({-0.5, 0.0, -1.0, 0.25}), {0.03648997397857651, -kInf, kNaN, -4.2274535333762655});
}

TEST_CASE("isnan and isinf give bool; integers are never nan or inf") {
  expect_values(T::isnan, f64({kNaN, kInf, -1, 0}), {1, 0, 0, 0}, graphjit::bool_);
  expect_values(T::isinf, f64({kNaN, kInf, -kInf, 3}), {0, 1, 1, 0}, graphjit::bool_);
  expect_values(T::isnan, Tensor::from_vector(std::vector<std::int64_t>{1, 2}, {2}), {0, 0}, graphjit::bool_);
  expect_values(T::isinf, Tensor::from_vector(std::vector<float>{INFINITY, 1.f}, {2}), {1, 0}, graphjit::bool_);
}

TEST_CASE("float32 inputs compute in float32") {
  const Tensor x = Tensor::from_vector(std::vector<float>{0.25f, -0.5f}, {2});
  expect_values(T::tan, x, {std::tan(0.25f), std::tan(-0.5f)}, graphjit::float32, 1e-6);
  expect_values(T::erfinv, x, {0.2253120550121781, -0.4769362762044699}, graphjit::float32, 1e-6);
}

TEST_CASE("activations: relu with a leak, elu, hard_sigmoid, softsign") {
  const Tensor x = f64({-2, -0.5, 0, 1.5, 4});
  expect_values([](const Variable& v) { return T::relu(v, 0.1); }, x, {-0.2, -0.05, 0, 1.5, 4}, graphjit::float64, 1e-15);
  expect_values([](const Variable& v) { return T::relu(v, 0); }, x, {0, 0, 0, 1.5, 4});
  expect_values([](const Variable& v) { return T::nnet::elu(v); }, x,
                {std::expm1(-2.0), std::expm1(-0.5), 0, 1.5, 4});
  expect_values([](const Variable& v) { return T::elu(v, 2); }, x, {2 * std::expm1(-2.0), 2 * std::expm1(-0.5), 0, 1.5, 4});
  expect_values([](const Variable& v) { return T::nnet::hard_sigmoid(v); }, x, {0.1, 0.4, 0.5, 0.8, 1.0}, graphjit::float64, 1e-15);
  expect_values([](const Variable& v) { return T::nnet::softsign(v); }, x, {-2.0 / 3, -0.5 / 1.5, 0, 1.5 / 2.5, 0.8});
}

TEST_CASE("C++ numbers wherever Theano takes a Python number") {
  const Tensor x = f64({-1, 0.5, 2});
  expect_values([](const Variable& v) { return T::maximum(v, 0); }, x, {0, 0.5, 2});
  expect_values([](const Variable& v) { return T::minimum(1, v); }, x, {-1, 0.5, 1});
  expect_values([](const Variable& v) { return T::pow(v, 2); }, x, {1, 0.25, 4});
  expect_values([](const Variable& v) { return T::eq(v, 2); }, x, {0, 0, 1}, graphjit::bool_);
  expect_values([](const Variable& v) { return T::where(T::gt(v, 0), v, 0.0); }, x, {0, 0.5, 2});
  // An integer literal keeps an int32 variable int32 (Theano's autocasting).
  const Variable i = T::vector("i", graphjit::int32);
  CHECK(T::add(i, 1).dtype() == graphjit::int32);
  CHECK(T::mul(i, 1.5).dtype() == graphjit::float64);
  CHECK(T::maximum(2, 3).dtype() == graphjit::int64);
}

TEST_CASE("verify_grad: the differentiable math ops at scalar, vector and matrix points") {
  // Away from the integers and half-integers where the rounding functions jump, and from relu's kink at 0.
  const std::vector<Tensor> points = {Tensor::scalar(0.3), affine(kUnit, 0.9, 0.013), f64({0.2, -0.45, 0.7, -0.1, 0.55, -0.8}, {2, 3})};
  const std::pair<const char*, Unary> inside_unit[] = {
      {"tan", T::tan},         {"arcsin", T::arcsin},   {"arccos", T::arccos},   {"arctan", T::arctan},
      {"sinh", T::sinh},       {"cosh", T::cosh},       {"arcsinh", T::arcsinh}, {"arctanh", T::arctanh},
      {"exp2", T::exp2},       {"erf", T::erf},         {"erfc", T::erfc},       {"erfinv", T::erfinv},
      {"softsign", T::softsign}, {"floor", T::floor},   {"round", T::round},     {"hard_sigmoid", T::hard_sigmoid},
  };
  for (const auto& [name, fn] : inside_unit)
    for (const Tensor& p : points) {
      INFO(std::string(name), " at shape ", graphjit::shape_str(p.shape()));
      CHECK_NOTHROW(graphjit::verify_grad([fn](const auto& in) { return fn(in[0], std::source_location::current()); }, {p}));
    }
  const std::pair<const char*, Unary> above_one[] = {
      {"arccosh", T::arccosh}, {"log2", T::log2}, {"log10", T::log10}, {"gammaln", T::gammaln}, {"reciprocal", T::reciprocal}};
  for (const auto& [name, fn] : above_one)
    for (const Tensor& p : points) {
      INFO(std::string(name), " at shape ", graphjit::shape_str(p.shape()));
      const Tensor shifted = affine(p, 1, 2);
      CHECK_NOTHROW(graphjit::verify_grad([fn](const auto& in) { return fn(in[0], std::source_location::current()); }, {shifted}));
    }
  for (const Tensor& p : points) {
    CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return T::elu(in[0], 1.5) + T::relu(in[0], 0.2); }, {p}));
  }
}

TEST_CASE("verify_grad: arctan2 with broadcasting, and tri_gamma (psi's derivative) is reported as not differentiable") {
  const Tensor m = f64({0.2, -0.45, 0.7, -0.1, 0.55, -0.8}, {2, 3});
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return T::arctan2(in[0], in[1]); }, {m, f64({0.5, -1.5, 2.5})}));
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return T::arctan2(in[1], in[0]); }, {Tensor::scalar(0.7), m}));
  const Variable x = T::vector("x");
  CHECK_THROWS_AS(graphjit::grad(T::sum(T::tri_gamma(x)), x), graphjit::GradError);  // psi's: tests/test_cumulative_sort.cpp
}
