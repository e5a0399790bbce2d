// Issue 8: cumsum and cumprod (Theano's extra_ops), sort and argsort
// (theano.tensor.sort), the gradients of max and min with Theano's tie rule,
// and psi's gradient (tri_gamma). Each is checked against numpy/scipy values
// stored below, compiled (fast_run) against the reference evaluator on random
// inputs and strided views, and with verify_grad. The stored values were printed by
// (numpy 1.24.2, scipy 1.10.1; /usr/bin/python3 on Debian 12):
//   python3 -c "import numpy as np; x = np.array([[1.5, -2.0, 0.5], [3.0, 0.25, -1.0]]);
//               print(np.cumsum(x, axis=0).ravel().tolist(), np.cumprod(x, axis=1).ravel().tolist(), ...)"
// and likewise for each expectation (the call is named beside it).
#include "op_test_support.hpp"
#include "thrown_message.hpp"

#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include <cmath>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

namespace T = graphjit::tensor;
using namespace graphjit;
using namespace graphjit::testing;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Values equal, nan where nan, and -0.0 told apart from 0.0.
void check_exact(const Tensor& got, const std::vector<double>& want) {
  const std::vector<double> v = values(got);
  REQUIRE(v.size() == want.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    INFO("element ", i, ": got ", v[i], ", want ", want[i]);
    if (std::isnan(want[i])) CHECK(std::isnan(v[i]));
    else CHECK((v[i] == want[i] && std::signbit(v[i]) == std::signbit(want[i])));
  }
}

const Tensor kMatrix = tensor_of({1.5, -2.0, 0.5, 3.0, 0.25, -1.0}, {2, 3});

}  // namespace

TEST_CASE("cumsum and cumprod along an axis and flattened, as numpy") {
  auto x = T::matrix("x");
  const auto out = run({x}, {T::cumsum(x, 0), T::cumsum(x, -1), T::cumsum(x), T::cumprod(x, 0), T::cumprod(x, 1),
                             T::cumprod(x)},
                       {kMatrix});
  check_exact(out[0], {1.5, -2.0, 0.5, 4.5, -1.75, -0.5});   // np.cumsum(x, axis=0)
  check_exact(out[1], {1.5, -0.5, 0.0, 3.0, 3.25, 2.25});    // np.cumsum(x, axis=-1)
  check_exact(out[2], {1.5, -0.5, 0.0, 3.0, 3.25, 2.25});    // np.cumsum(x)
  check_exact(out[3], {1.5, -2.0, 0.5, 4.5, -0.5, -0.5});    // np.cumprod(x, axis=0)
  check_exact(out[4], {1.5, -3.0, -1.5, 3.0, 0.75, -0.75});  // np.cumprod(x, axis=1)
  check_exact(out[5], {1.5, -3.0, -1.5, -4.5, -1.125, 1.125});  // np.cumprod(x)
  CHECK(shape_str(out[0].shape()) == "(2, 3)");
  CHECK(shape_str(out[2].shape()) == "(6,)");  // axis=None flattens, as Theano's CumOp
  CHECK(T::cumsum(x).ndim() == 1);
}

// Theano's CumOp keeps x's type, so int32 accumulates in int32 and wraps:
//   /usr/bin/python3 -c "import numpy as np; i = np.array([[2147483647, 1], [5, -3]], dtype=np.int32)
//   print(np.cumsum(i, axis=0, dtype=np.int32).ravel().tolist(), np.cumprod(i, axis=1, dtype=np.int32).ravel().tolist())"
TEST_CASE("cumsum dtypes: integers keep their dtype and wrap (Theano), bool counts in int64, float32 stays float32 in order") {
  auto i = T::tensor(int32, {false, false}, "i");
  const Tensor ints = tensor_of({2147483647, 1, 5, -3}, {2, 2}, int32);
  const auto out = run({i}, {T::cumsum(i, 0), T::cumprod(i, 1)}, {ints});
  CHECK(dtype_name(out[0].dtype()) == std::string("int32"));
  CHECK(dtype_name(out[1].dtype()) == std::string("int32"));
  CHECK(out[0].to_vector<std::int64_t>() == std::vector<std::int64_t>{2147483647, 1, -2147483644, -2});
  CHECK(out[1].to_vector<std::int64_t>() == std::vector<std::int64_t>{2147483647, 2147483647, 5, -15});
  auto small = T::tensor(int8, {false}, "small");  // np.cumsum(np.int8([100, 100]), dtype=np.int8) is [100, -56]
  CHECK(run({small}, {T::cumsum(small)}, {tensor_of({100, 100}, {2}, int8)})[0].to_vector<std::int64_t>() ==
        std::vector<std::int64_t>{100, -56});
  auto b = T::tensor(bool_, {false}, "b");
  const Tensor flags = tensor_of({1, 0, 1}, {3}, bool_);
  CHECK(run({b}, {T::cumsum(b)}, {flags})[0].to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 1, 2});
  auto big = T::tensor(int64, {false}, "big");  // int64 overflow wraps, as numpy's
  const Tensor near_max = Tensor::from_vector(std::vector<std::int64_t>{std::numeric_limits<std::int64_t>::max(), 1});
  CHECK(run({big}, {T::cumsum(big)}, {near_max})[0].to_vector<std::int64_t>() ==
        std::vector<std::int64_t>{std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::int64_t>::min()});
  // np.cumsum(np.float32([1e8, 3, 3, 3])) is 1e8 four times: each 3 is lost
  // in float32; accumulating in double would end at 100000008.
  auto f = T::tensor(float32, {false}, "f");
  const auto sums = run({f}, {T::cumsum(f)}, {tensor_of({1e8, 3, 3, 3}, {4}, float32)});
  CHECK(dtype_name(sums[0].dtype()) == std::string("float32"));
  check_exact(sums[0], {1e8, 1e8, 1e8, 1e8});
}

TEST_CASE("cumsum and cumprod compiled match the reference on random inputs and strided views") {
  auto x = T::tensor3("x");
  const Tensor base = random_tensor({4, 5, 6}, 17, float64, -1.0);
  const Tensor views[] = {base, base.permute({2, 0, 1}), base.slice(2, 0, 6, 2), base.slice(0, -1, std::numeric_limits<std::int64_t>::min(), -1)};
  for (const Tensor& v : views) {
    CAPTURE(shape_str(v.shape()));
    for (int axis : {0, 1, 2, -1}) {
      CAPTURE(axis);
      // In-graph views too: a transpose and a step-2 slice of the input.
      const Variable step = constant(std::int64_t{2}, int64);
      run({x}, {T::cumsum(x, axis), T::cumprod(x, axis), T::cumsum(x.dimshuffle({2, 1, 0}), axis),
                T::cumprod(x[{T::slice(), T::slice(std::nullopt, std::nullopt, step)}], axis) * 2},
          {v});
    }
    run({x}, {T::cumsum(x), T::cumprod(x)}, {v});
  }
  auto empty = T::matrix("e");
  for (int axis : {0, 1}) {
    CHECK(run({empty}, {T::cumsum(empty, axis)}, {Tensor::zeros({3, 0}, float64)})[0].size() == 0);
    CHECK(run({empty}, {T::cumprod(empty, axis)}, {Tensor::zeros({0, 3}, float64)})[0].size() == 0);
  }
}

TEST_CASE("a bad axis names cumsum, the shape and the user's line") {
  auto x = T::matrix("x");
  const int line = __LINE__ + 1;
  const std::string message = thrown_message([&] { T::cumsum(x, 2); });
  CHECK(contains(message, "cumsum"));
  CHECK(contains(message, "axis 2 is out of range for an input of 2 dimensions"));
  CHECK(contains(message, "test_cumulative_sort.cpp:" + std::to_string(line)));
  CHECK(contains(thrown_message([&] { T::cumprod(x, -3); }), "cumprod"));
  CHECK(contains(thrown_message([&] { T::cumsum(T::scalar("s"), 0); }), "out of range for an input of 0 dimensions"));
}

TEST_CASE("verify_grad: cumsum and cumprod at several shapes, along an axis and flattened") {
  const Tensor vector = random_tensor({5}, 2, float64, 0.3), matrix = random_tensor({3, 4}, 3, float64, 0.3),
               cube = random_tensor({2, 3, 4}, 4, float64, 0.3);  // away from 0: cumprod's plain case
  for (const Tensor& point : {vector, matrix, cube}) {
    CAPTURE(shape_str(point.shape()));
    const int middle = point.ndim() / 2;
    CHECK_NOTHROW(verify_grad([middle](const auto& v) { return T::cumsum(v[0], middle); }, {point}));
    CHECK_NOTHROW(verify_grad([middle](const auto& v) { return T::cumprod(v[0], middle); }, {point}));
    CHECK_NOTHROW(verify_grad([](const auto& v) { return T::cumprod(v[0], -1); }, {point}));
  }
  CHECK_NOTHROW(verify_grad([](const auto& v) { return T::cumsum(v[0]); }, {matrix}));
  CHECK_NOTHROW(verify_grad([](const auto& v) { return T::cumprod(v[0]); }, {cube}));
}

TEST_CASE("verify_grad: broadcasting into cumprod, and cumprod's second derivative") {
  // The gradient is itself made of cumsums and cumprods, so it differentiates again.
  CHECK_NOTHROW(verify_grad([](const auto& v) { return T::cumprod(v[0] * v[1], 1); },
                            {random_tensor({3, 4}, 5, float64, 0.5), random_tensor({4}, 6, float64, 0.5)}));
  CHECK_NOTHROW(verify_grad([](const auto& v) { return grad(T::sum(T::cumprod(v[0]) * v[0]), v[0]); },
                            {random_tensor({5}, 8, float64, 0.5)}));
}

// Theano's CumOp gradient divides by x, so it is nan wherever x is 0
// (np.cumsum((np.cumprod(x) * g)[::-1])[::-1] / x gives [1, nan, 0, nan, 0]
// for x = [2, 0, 3, 0, 5]); graphjit's is the exact derivative there too. The
// expectations are sum_j>=i prod_k<=j,k!=i x_k, computed term by term.
TEST_CASE("cumprod's gradient is exact at zeros (Theano's is nan there)") {
  auto x = T::matrix("x");
  const Tensor rows = tensor_of({2, 0, 3, 0, 5,  //
                                 0, 2, 3, 4, 5,  //
                                 2, 3, 4, 5, 0,  //
                                 2, -1, 0.5, 4, 3},
                                {4, 5});
  const auto out = run({x}, {grad(T::sum(T::cumprod(x, 1)), x)}, {rows});
  check_exact(out[0], {1, 8, 0, 0, 0,  //
                       153, 0, 0, 0, 0,  //
                       76, 50, 36, 24, 120,  //
                       -8.5, 19, -34, -4, -4});
  // cumprod is linear in each element, so central differences are exact at the zeros as well.
  for (int axis : {0, 1})
    CHECK_NOTHROW(verify_grad([axis](const auto& v) { return T::cumprod(v[0], axis); }, {rows}));
  CHECK_NOTHROW(verify_grad([](const auto& v) { return T::cumprod(v[0]); }, {rows}));
}

TEST_CASE("sort and argsort: numpy's order, nan last, stable, along an axis and flattened") {
  auto x = T::matrix("x");
  const Tensor m = tensor_of({3.0, kNaN, -1.0, 2.0, -0.0, 0.5, 0.5, kInf, -kInf, 0.0}, {2, 5});
  const auto out = run({x}, {T::sort(x), T::argsort(x), T::sort(x, 0), T::argsort(x, 0), T::sort(x, std::nullopt),
                             T::argsort(x, std::nullopt)},
                       {m});
  check_exact(out[0], {-1.0, -0.0, 2.0, 3.0, kNaN, -kInf, 0.0, 0.5, 0.5, kInf});  // np.sort(x, axis=-1)
  CHECK(out[1].to_vector<std::int64_t>() == std::vector<std::int64_t>{2, 4, 3, 0, 1, 3, 4, 0, 1, 2});  // np.argsort(x, kind='stable')
  check_exact(out[2], {0.5, 0.5, -1.0, -kInf, -0.0, 3.0, kNaN, kInf, 2.0, 0.0});  // np.sort(x, axis=0)
  CHECK(out[3].to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 1, 0, 1, 0, 0, 0, 1, 0, 1});  // axis=0, stable
  check_exact(out[4], {-kInf, -1.0, -0.0, 0.0, 0.5, 0.5, 2.0, 3.0, kInf, kNaN});  // np.sort(x, axis=None)
  CHECK(out[5].to_vector<std::int64_t>() == std::vector<std::int64_t>{8, 2, 4, 9, 5, 6, 3, 0, 7, 1});
  CHECK(dtype_name(out[1].dtype()) == std::string("int64"));
  auto i = T::tensor(int32, {false}, "i");
  const auto ints = run({i}, {T::sort(i), T::argsort(i)}, {tensor_of({2, 1, 2, 1, 0, 2}, {6}, int32)});
  CHECK(dtype_name(ints[0].dtype()) == std::string("int32"));
  CHECK(ints[0].to_vector<std::int64_t>() == std::vector<std::int64_t>{0, 1, 1, 2, 2, 2});
  CHECK(ints[1].to_vector<std::int64_t>() == std::vector<std::int64_t>{4, 1, 3, 0, 2, 5});  // ties keep their order
}

TEST_CASE("sort and argsort compiled match the reference on random inputs with ties and strided views") {
  auto x = T::tensor3("x");
  Tensor base = random_tensor({4, 5, 6}, 23, float64, -1.0);
  for_each_index(base.shape(), [&](const auto& i) { base.set(i, std::round(base.get(i) * 3)); });  // many ties
  base.set({1, 2, 3}, kNaN);
  const Tensor views[] = {base, base.permute({1, 2, 0}), base.slice(1, 0, 5, 2), base.slice(2, -1, std::numeric_limits<std::int64_t>::min(), -1)};
  for (const Tensor& v : views) {
    CAPTURE(shape_str(v.shape()));
    for (int axis : {0, 1, -1}) {
      CAPTURE(axis);
      run({x}, {T::sort(x, axis), T::argsort(x, axis), T::sort(x.dimshuffle({2, 0, 1}), axis) + 1}, {v});
    }
    run({x}, {T::sort(x, std::nullopt), T::argsort(x, std::nullopt)}, {v});
  }
  const std::string message = thrown_message([&] { T::argsort(x, 3); });
  CHECK(contains(message, "argsort"));
  CHECK(contains(message, "axis 3 is out of range"));
  CHECK(contains(message, "test_cumulative_sort.cpp"));
}

TEST_CASE("sort's gradient goes back to where each value came from") {
  auto x = T::vector("x");
  const auto out = run({x}, {grad(T::sum(T::sort(x) * T::arange(4).astype(float64)), x)}, {tensor_of({3, 1, 2, 0}, {4})});
  check_exact(out[0], {3, 1, 2, 0});  // the rank of each element is its weight
  for (Shape shape : {Shape{6}, Shape{3, 4}, Shape{2, 3, 4}}) {
    CAPTURE(shape_str(shape));
    const Tensor point = random_tensor(shape, 29);  // distinct values
    CHECK_NOTHROW(verify_grad([](const auto& v) { return T::sort(v[0]); }, {point}));
    CHECK_NOTHROW(verify_grad([](const auto& v) { return T::sort(v[0], 0); }, {point}));
    CHECK_NOTHROW(verify_grad([](const auto& v) { return T::sort(v[0], std::nullopt); }, {point}));
  }
  // Second order: the gradient's gradient is the gather by the same permutation.
  CHECK_NOTHROW(verify_grad([](const auto& v) { return grad(T::sum(T::sqr(T::sort(v[0])) * v[0]), v[0]); },
                            {random_tensor({5}, 31)}));
  CHECK_THROWS_AS(grad(T::sum(T::cast(T::argsort(x), float64)), x), GradError);  // argsort is integer-valued
}

// Theano's MaxAndArgmax.grad is eq(max, x) * g: every element equal to the
// maximum receives the whole output gradient (ties are not split), and a
// lane whose maximum is nan gives no element any (nan equals nothing).
TEST_CASE("max and min gradients with ties, as Theano's MaxAndArgmax") {
  auto x = T::matrix("x");
  auto w = T::vector("w");
  const Tensor m = tensor_of({1, 3, 3, 2, 2, 0, kNaN, 1, 2}, {3, 3});
  const Tensor weights = tensor_of({1, 2, 3}, {3});
  const auto out = run({x, w},
                       {grad(T::sum(T::max(x, 1) * w), x), grad(T::sum(T::min(x, 0) * w), x),
                        grad(T::sum(T::max(x, 1, true)), x), grad(T::max(T::max(x, 1)), x)},
                       {m, weights});
  check_exact(out[0], {0, 1, 1, 2, 2, 0, 0, 0, 0});
  check_exact(out[1], {0, 0, 0, 0, 0, 3, 0, 2, 0});  // column 0 holds a nan: its minimum is nan
  check_exact(out[2], {0, 1, 1, 1, 1, 0, 0, 0, 0});
  check_exact(out[3], {0, 0, 0, 0, 0, 0, 0, 0, 0});  // the overall max is nan
  const Tensor all_tied = tensor_of({4, 4, 4, 4}, {2, 2});
  check_exact(run({x}, {grad(T::max(x), x)}, {all_tied})[0], {1, 1, 1, 1});
}

TEST_CASE("tri_gamma against scipy, and psi's gradient") {
  auto x = T::vector("x");
  const Tensor points = tensor_of({0.5, 1.0, 2.5, 10.0, 123.456, 1e-3, -0.5, -2.25, -10.75, 0.0, -3.0, kInf, -kInf, kNaN}, {14});
  // scipy.special.polygamma(1, points)
  const std::vector<double> want = {4.93480220054468,    1.6449340668482266, 0.4903577561002349,   0.10516633568168576,
                                    0.008132945834278194, 1000001.6425331959, 8.934802200544679,    19.379410511869136,
                                    19.650378280099094,   kInf,               kInf,                 0.0,
                                    kInf,                 kNaN};
  const Tensor got = run({x}, {T::tri_gamma(x)}, {points})[0];
  for (std::size_t i = 0; i < want.size(); ++i) {
    const double g = values(got)[i];
    INFO("tri_gamma(", values(points)[i], ") = ", g, ", scipy ", want[i]);
    if (std::isnan(want[i])) CHECK(std::isnan(g));
    else if (std::isinf(want[i]) || want[i] == 0) CHECK(g == want[i]);
    else CHECK(std::abs(g - want[i]) <= 4e-15 * std::abs(want[i]));
  }
  auto f = T::tensor(float32, {false}, "f");
  CHECK(dtype_name(T::tri_gamma(f).dtype()) == std::string("float32"));
  CHECK(dtype_name(T::tri_gamma(T::tensor(int32, {false}, "i")).dtype()) == std::string("float64"));
  for (Shape shape : {Shape{}, Shape{5}, Shape{2, 3}}) {
    CAPTURE(shape_str(shape));
    const Tensor positive = random_tensor(shape, 37, float64, 0.7);
    CHECK_NOTHROW(verify_grad([](const auto& v) { return T::psi(v[0]); }, {positive}));
    const Tensor negative = random_tensor(shape, 41, float64, -2.8);  // between the poles at -3 and -2
    CHECK_NOTHROW(verify_grad([](const auto& v) { return T::psi(v[0]); }, {negative}));
  }
  CHECK_NOTHROW(verify_grad([](const auto& v) { return T::psi(v[0] * v[1]); },
                            {random_tensor({2, 3}, 43, float64, 1.0), random_tensor({3}, 47, float64, 1.0)}));
  // psi'(1) = pi^2 / 6, compiled and in the reference.
  CHECK(run({x}, {grad(T::sum(T::psi(x)), x)}, {tensor_of({1.0}, {1})})[0].item<double>() ==
        doctest::Approx(std::numbers::pi * std::numbers::pi / 6).epsilon(1e-15));
  CHECK_THROWS_AS(grad(T::sum(T::tri_gamma(x)), x), GradError);  // as Theano's TriGamma
}

TEST_CASE("Rop of cumsum, sort and psi") {
  auto x = T::vector("x");
  auto v = T::vector("v");
  const auto out = run({x, v}, {Rop(T::cumsum(x), x, v), Rop(T::sort(x), x, v), Rop(T::psi(x), x, v)},
                       {tensor_of({3, 1, 2}, {3}), tensor_of({10, 20, 30}, {3})});
  check_exact(out[0], {10, 30, 60});
  check_exact(out[1], {20, 30, 10});  // the tangents move with their values
  // scipy.special.polygamma(1, [3, 1, 2]) * [10, 20, 30]
  const std::vector<double> psi_rop = values(out[2]), want = {3.9493406684822645, 32.89868133696453, 19.3480220054468};
  for (std::size_t i = 0; i < want.size(); ++i) CHECK(psi_rop[i] == doctest::Approx(want[i]).epsilon(1e-14));
  // cumprod's Rop (checked against finite differences in test_rop_linalg.cpp): d(x0 x1 x2) = v0 x1 x2 + ...
  const std::vector<double> cumprod_rop =
      values(run({x, v}, {Rop(T::cumprod(x), x, v)}, {tensor_of({3, 1, 2}, {3}), tensor_of({10, 20, 30}, {3})})[0]);
  const std::vector<double> want_cumprod = {10, 10 + 60, 20 + 120 + 90};  // (out_j sum_i<=j v_i / x_i, rounded)
  for (std::size_t i = 0; i < 3; ++i) CHECK(cumprod_rop[i] == doctest::Approx(want_cumprod[i]).epsilon(1e-14));
}
