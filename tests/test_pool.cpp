// pool_2d and its gradients: hand-worked values for every mode (Theano's
// windows, padding and divisors), the compiled kernels against the reference
// over options and dtypes, max-pool ties as Theano's MaxPoolGrad treats them,
// verify_grad, and the option errors.
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include "op_test_support.hpp"
#include "thrown_message.hpp"

#include <cmath>
#include <string>
#include <vector>

namespace T = graphjit::tensor;
namespace signal = graphjit::tensor::signal;
using namespace graphjit;
using namespace graphjit::testing;
using signal::PoolMode;

namespace {

std::vector<double> pooled(const Tensor& x, std::array<std::int64_t, 2> ws, const signal::Pool2dOptions& o,
                           Mode mode = Mode::reference) {
  auto X = T::tensor4("x", x.dtype());
  return values(function({X}, {signal::pool_2d(X, ws, o)}, {.mode = mode})(x)[0]);
}

void check_all_close(const std::vector<double>& got, const std::vector<double>& want, double tol = 1e-12) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(want[i]).epsilon(tol));
}

}  // namespace

TEST_CASE("max pooling keeps or drops the partial border windows (ignore_border)") {
  const Tensor x = range_tensor({1, 1, 5, 5});
  for (Mode mode : {Mode::reference, Mode::fast_run}) {
    check_all_close(pooled(x, {2, 2}, {.ignore_border = true}, mode), {6, 8, 16, 18});
    check_all_close(pooled(x, {2, 2}, {.ignore_border = false}, mode), {6, 8, 9, 16, 18, 19, 21, 23, 24});
    // Overlapping windows, stride 1 < ws 3, ignore_border false: (5 - 1 - 3 + 1) / 1 + 1 = 3 per axis.
    check_all_close(pooled(x, {3, 3}, {.stride = std::array<std::int64_t, 2>{1, 1}}, mode), {12, 13, 14, 17, 18, 19, 22, 23, 24});
    // Stride 2 < ws 3 without ignore_border: windows at 0 and 2 (the second is cut at the border).
    check_all_close(pooled(x, {3, 3}, {.stride = std::array<std::int64_t, 2>{2, 2}}, mode), {12, 14, 22, 24});
  }
}

TEST_CASE("sum and average pooling with padding: inc_pad divides by the window, exc_pad by what it reads") {
  const Tensor x = range_tensor({1, 1, 4, 4});
  const signal::Pool2dOptions base{.ignore_border = true, .stride = std::array<std::int64_t, 2>{2, 2}, .pad = {1, 1}};
  // Padded 6x6, windows 3x3 at rows/cols 0 and 2 of the padded image: unpadded rows {0,1} and {1,2,3}.
  // Window sums: [0,1,4,5] = 10, [1,2,3,5,6,7] = 24, [4,5,8,9,12,13] = 51, [5,6,7,9,10,11,13,14,15] = 90.
  for (Mode mode : {Mode::reference, Mode::fast_run}) {
    auto with = [&](PoolMode m) { auto o = base; o.mode = m; return pooled(x, {3, 3}, o, mode); };
    check_all_close(with(PoolMode::sum), {10, 24, 51, 90});
    check_all_close(with(PoolMode::average_inc_pad), {10.0 / 9, 24.0 / 9, 51.0 / 9, 90.0 / 9});
    check_all_close(with(PoolMode::average_exc_pad), {10.0 / 4, 24.0 / 6, 51.0 / 6, 90.0 / 9});
    check_all_close(with(PoolMode::max), {5, 7, 13, 15});  // the padding is never the max, even below zero
    check_all_close(pooled(tensor_of({-1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12, -13, -14, -15, -16}, {1, 1, 4, 4}), {3, 3}, base, mode), {-1, -2, -5, -6});
  }
}

TEST_CASE("max-pool gradient: every element tied for a window's max receives the window's gradient") {
  auto X = T::tensor4("x");
  auto y = signal::pool_2d(X, {2, 2}, {.ignore_border = true});
  auto gx = T::grad(T::sum(y * graphjit::constant(Tensor::from_vector<double>({1, 10, 100, 1000}, {1, 1, 2, 2}))), X);
  const Tensor x = tensor_of({3, 3, 1, 2,  //
                              3, 0, 2, 2,  //
                              5, 4, 7, 7,  //
                              5, 5, 7, 7},
                             {1, 1, 4, 4});
  const std::vector<double> want = {1, 1, 0, 10, 1, 0, 10, 10, 100, 0, 1000, 1000, 100, 100, 1000, 1000};
  for (Mode mode : {Mode::reference, Mode::fast_run}) check_all_close(values(function({X}, {gx}, {.mode = mode})(x)[0]), want);
}

TEST_CASE("compiled pooling and its gradients match the reference over modes, strides, pads and dtypes") {
  const std::vector<std::pair<std::array<std::int64_t, 2>, signal::Pool2dOptions>> options = {
      {{2, 2}, {}},
      {{2, 2}, {.ignore_border = true}},
      {{3, 2}, {.stride = std::array<std::int64_t, 2>{1, 2}}},
      {{3, 3}, {.ignore_border = true, .stride = std::array<std::int64_t, 2>{2, 1}, .pad = {1, 2}}},
      {{2, 3}, {.ignore_border = false, .stride = std::array<std::int64_t, 2>{3, 1}}},
      {{3, 2}, {.ignore_border = true}},  // windows tiling the rows exactly, one column left over
  };
  std::uint64_t seed = 0;
  for (const auto& [ws, base] : options)
    for (PoolMode m : {PoolMode::max, PoolMode::sum, PoolMode::average_inc_pad, PoolMode::average_exc_pad})
      for (DType dtype : {float64, float32}) {
        signal::Pool2dOptions o = base;
        o.mode = m;
        const Tensor x = random_tensor({2, 3, 7, 9}, ++seed, dtype);
        auto X = T::tensor4("x", dtype);
        auto y = signal::pool_2d(X.dimshuffle({0, 1, 3, 2}), ws, o);  // a transposed view as the input
        auto r = T::tensor4("r", dtype);
        auto gx = T::grad(T::sum(y * r), X);
        const Tensor y_ref = function({X}, {y}, {.mode = Mode::reference})(x)[0];
        const Tensor rv = random_tensor(y_ref.shape(), ++seed, dtype);
        const auto want = function({X, r}, {y, gx}, {.mode = Mode::reference})(x, rv);
        const auto got = function({X, r}, {y, gx})(x, rv);
        const double tol = dtype == float32 ? 1e-5 : 1e-12;
        for (std::size_t k = 0; k < 2; ++k) check_all_close(values(got[k]), values(want[k]), tol);
      }
}

TEST_CASE("pool_2d's gradients pass verify_grad") {
  const Tensor x = random_tensor({2, 2, 5, 6}, 3);  // distinct values: no ties for finite differences to straddle
  for (PoolMode m : {PoolMode::max, PoolMode::sum, PoolMode::average_inc_pad, PoolMode::average_exc_pad}) {
    const signal::Pool2dOptions o{.ignore_border = true, .stride = std::array<std::int64_t, 2>{2, 1}, .pad = {1, 1}, .mode = m};
    verify_grad([&](const std::vector<Variable>& v) { return signal::pool_2d(v[0], {2, 3}, o); }, {x});
    verify_grad([&](const std::vector<Variable>& v) { return signal::pool_2d(v[0], {3, 2}, {.mode = m}); }, {x});
  }
  // The average gradient's own gradient (it is linear in the output gradient).
  verify_grad([&](const std::vector<Variable>& v) {
    return T::grad(T::sum(T::sqr(signal::pool_2d(v[0], {2, 2}, {.mode = PoolMode::average_exc_pad}))), v[0]);
  }, {x});
}

TEST_CASE("the max-pool gradient's gradient sums over every element tied for a window's max") {
  // Theano's DownsampleFactorMaxGradGrad: z[window] = sum of ggx where x equals the window's max.
  auto X = T::tensor4("x"), GZ = T::tensor4("gz"), GGX = T::tensor4("ggx");
  auto gx = T::grad(T::sum(signal::pool_2d(X, {2, 2}, {.ignore_border = true}) * GZ), X);  // max_pool_2d_grad
  auto z = T::grad(T::sum(gx * GGX), GZ);                                                  // its gradient
  const Tensor x = tensor_of({3, 3, 1, 2,  //
                              3, 0, 2, 2,  //
                              5, 4, 7, 7,  //
                              5, 5, 7, 7},
                             {1, 1, 4, 4});
  const Tensor ggx = tensor_of({1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768}, {1, 1, 4, 4});
  const Tensor gz = Tensor::zeros({1, 1, 2, 2}, float64);
  // windows: {3,3,3,0} max 3 at ggx 1, 2, 16; {1,2,2,2} max 2 at 8, 64, 128; {5,4,5,5} max 5 at 256, 4096, 8192;
  // {7,7,7,7} all tied: 1024 + 2048 + 16384 + 32768.
  const std::vector<double> want = {19, 200, 12544, 52224};
  for (Mode mode : {Mode::reference, Mode::fast_run})
    check_all_close(values(function({X, GZ, GGX}, {z}, {.mode = mode})(x, gz, ggx)[0]), want);
}

TEST_CASE("the max-pool gradient differentiates twice: verify_grad, and compiled against the reference") {
  const Tensor x = random_tensor({2, 2, 5, 6}, 5);  // distinct values: no ties for finite differences to straddle
  for (const signal::Pool2dOptions& o :
       {signal::Pool2dOptions{.ignore_border = true}, signal::Pool2dOptions{.stride = std::array<std::int64_t, 2>{1, 2}},
        signal::Pool2dOptions{.ignore_border = true, .stride = std::array<std::int64_t, 2>{2, 1}, .pad = {1, 1}}}) {
    // d/dx of sum(pool(x)^2) = max_pool_2d_grad(x, pool(x), 2 pool(x)); its gradient needs max_pool_2d_grad_grad.
    const auto gradient_of_squares = [&](const Variable& v) -> Variable {
      return T::grad(T::sum(T::sqr(signal::pool_2d(v, {2, 3}, o))), v);
    };
    verify_grad([&](const std::vector<Variable>& v) { return gradient_of_squares(v[0]); }, {x});
    // And, with padding, the third order: the gradient op's gradient differentiated again.
    if (o.pad[0] > 0)
      verify_grad([&](const std::vector<Variable>& v) { return T::grad(T::sum(T::sqr(gradient_of_squares(v[0]))), v[0]); },
                  {x});
    auto X = T::tensor4("x");
    auto second = T::grad(T::sum(T::sqr(gradient_of_squares(X))), X);
    for (DType dtype : {float64, float32}) {
      const Tensor xd = x.astype(dtype);
      const Tensor want = function({X}, {second}, {.mode = Mode::reference})(xd)[0];
      check_all_close(values(function({X}, {second})(xd)[0]), values(want), 1e-6);
    }
  }
}

TEST_CASE("pool_2d's option errors say what to change") {
  auto X = T::tensor4("x");
  CHECK(contains(thrown_message([&] { signal::pool_2d(X, {2, 2}, {.pad = {1, 0}}); }), "needs ignore_border=true"));
  CHECK(contains(thrown_message([&] { signal::pool_2d(X, {2, 2}, {.ignore_border = true, .pad = {2, 0}}); }),
                 "smaller than the window"));
  CHECK(contains(thrown_message([&] { signal::pool_2d(X, {0, 2}); }), "at least 1"));
  CHECK(contains(thrown_message([&] { signal::pool_2d(T::vector("v"), {2, 2}); }), "at least 2 dims"));
}
