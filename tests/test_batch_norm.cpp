// Batch normalization (training and inference forms) and shared variables
// with broadcastable patterns: values against loops over the definition in
// this file, running statistics kept through updates, gradients against
// finite differences, and the errors.
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include "op_test_support.hpp"
#include "thrown_message.hpp"

#include <cmath>
#include <vector>

namespace T = graphjit::tensor;
namespace bn = graphjit::tensor::nnet::bn;
using namespace graphjit;
using namespace graphjit::testing;

namespace {

// Per-channel statistics of an NCHW tensor, straight from the definition.
struct ChannelStats {
  std::vector<double> mean, var;  // var biased (over N*H*W values)
};
ChannelStats channel_stats(const Tensor& x) {
  const std::int64_t N = x.shape(0), C = x.shape(1), H = x.shape(2), W = x.shape(3);
  ChannelStats s{std::vector<double>(C, 0.0), std::vector<double>(C, 0.0)};
  const double m = static_cast<double>(N * H * W);
  for (std::int64_t c = 0; c < C; ++c) {
    for (std::int64_t n = 0; n < N; ++n)
      for (std::int64_t i = 0; i < H; ++i)
        for (std::int64_t j = 0; j < W; ++j) s.mean[c] += x.get({n, c, i, j}) / m;
    for (std::int64_t n = 0; n < N; ++n)
      for (std::int64_t i = 0; i < H; ++i)
        for (std::int64_t j = 0; j < W; ++j) s.var[c] += std::pow(x.get({n, c, i, j}) - s.mean[c], 2) / m;
  }
  return s;
}

void check_all_close(const std::vector<double>& got, const std::vector<double>& want, double tol = 1e-10) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(want[i]).epsilon(tol));
}

}  // namespace

TEST_CASE("spatial batch normalization: outputs, statistics and running averages through updates") {
  const Tensor x = random_tensor({4, 3, 2, 5}, 1);
  const Tensor gamma_value = tensor_of({1.5, -0.5, 2.0}, {1, 3, 1, 1}), beta_value = tensor_of({0.1, 0.2, -0.3}, {1, 3, 1, 1});
  for (Mode mode : {Mode::reference, Mode::fast_run}) {
    const std::vector<bool> per_channel = {true, false, true, true};
    auto gamma = shared(gamma_value, "gamma", false, per_channel);
    auto beta = shared(beta_value, "beta", false, per_channel);
    auto running_mean = shared(Tensor::zeros({1, 3, 1, 1}, float64), "running_mean", false, per_channel);
    auto running_var = shared(Tensor::full({1, 3, 1, 1}, 1.0, float64), "running_var", false, per_channel);
    auto X = T::tensor4("x");
    const bn::BatchNormTrain r = bn::batch_normalization_train(X, gamma, beta, {.axes = "spatial", .epsilon = 1e-3},
                                                               running_mean, running_var);
    auto f = function({X}, {r.out, r.mean, r.invstd},
                      {.updates = {{running_mean, r.new_running_mean}, {running_var, r.new_running_var}}, .mode = mode});
    const auto out = f(x);
    const ChannelStats s = channel_stats(x);
    std::vector<double> want_out, want_invstd, want_rm, want_rv;
    for (int c = 0; c < 3; ++c) {
      want_invstd.push_back(1 / std::sqrt(s.var[c] + 1e-3));
      want_rm.push_back(0.9 * 0 + 0.1 * s.mean[c]);
      want_rv.push_back(0.9 * 1 + 0.1 * s.var[c] * 40.0 / 39.0);  // unbiased: m / (m - 1), m = 4 * 2 * 5
    }
    for_each_index(x.shape(), [&](const std::vector<std::int64_t>& i) {
      const auto c = i[1];
      want_out.push_back((x.get(i) - s.mean[c]) * gamma_value.get({0, c, 0, 0}) * want_invstd[c] + beta_value.get({0, c, 0, 0}));
    });
    check_all_close(values(out[0]), want_out);
    check_all_close(values(out[1]), s.mean);
    check_all_close(values(out[2]), want_invstd);
    check_all_close(values(running_mean.get_value()), want_rm);
    check_all_close(values(running_var.get_value()), want_rv);
    CHECK(running_mean.get_value().shape() == Shape{1, 3, 1, 1});
  }
}

TEST_CASE("per-activation batch normalization with vector parameters, and the inference form") {
  const Tensor x = random_tensor({6, 4}, 2);
  auto X = T::matrix("x"), g = T::vector("g"), b = T::vector("b"), rm = T::vector("rm"), rv = T::vector("rv");
  const Tensor gv = random_tensor({4}, 3), bv = random_tensor({4}, 4), rmv = random_tensor({4}, 5);
  const Tensor rvv = tensor_of({0.5, 1.0, 1.5, 2.0}, {4});
  const bn::BatchNormTrain r = bn::batch_normalization_train(X, g, b, {}, rm, rv);
  const auto test = bn::batch_normalization_test(X, g, b, rm, rv);
  for (Mode mode : {Mode::reference, Mode::fast_run}) {
    const auto out = function({X, g, b, rm, rv}, {r.out, r.new_running_mean, r.new_running_var, test}, {.mode = mode})(
        x, gv, bv, rmv, rvv);
    std::vector<double> want_out(24), want_rm(4), want_rv(4), want_test(24);
    for (std::int64_t j = 0; j < 4; ++j) {
      double mean = 0, var = 0;
      for (std::int64_t i = 0; i < 6; ++i) mean += x.get({i, j}) / 6;
      for (std::int64_t i = 0; i < 6; ++i) var += std::pow(x.get({i, j}) - mean, 2) / 6;
      for (std::int64_t i = 0; i < 6; ++i) {
        want_out[i * 4 + j] = (x.get({i, j}) - mean) * gv.get({j}) / std::sqrt(var + 1e-4) + bv.get({j});
        want_test[i * 4 + j] = (x.get({i, j}) - rmv.get({j})) * gv.get({j}) / std::sqrt(rvv.get({j}) + 1e-4) + bv.get({j});
      }
      want_rm[j] = 0.9 * rmv.get({j}) + 0.1 * mean;
      want_rv[j] = 0.9 * rvv.get({j}) + 0.1 * var * 6 / 5;
    }
    check_all_close(values(out[0]), want_out);
    check_all_close(values(out[1]), want_rm);
    check_all_close(values(out[2]), want_rv);
    check_all_close(values(out[3]), want_test);
  }
}

TEST_CASE("batch normalization's gradients pass verify_grad") {
  const Tensor x = random_tensor({3, 2, 3, 2}, 6), g = random_tensor({2}, 7), b = random_tensor({2}, 8);
  verify_grad([](const std::vector<Variable>& v) {
    return bn::batch_normalization_train(v[0], v[1], v[2], {.axes = "spatial"}).out;
  }, {x, g, b});
  verify_grad([](const std::vector<Variable>& v) {
    return bn::batch_normalization_train(v[0], v[1], v[2], {.axes = "explicit", .explicit_axes = {0, 3}}).out;
  }, {x, random_tensor({2, 3}, 9), random_tensor({2, 3}, 10)});
}

TEST_CASE("shared variables with broadcastable patterns broadcast, and keep their pattern") {
  auto scale = shared(tensor_of({2, 3}, {1, 2}), "scale", false, {true, false});
  CHECK(scale.broadcastable() == std::vector<bool>{true, false});
  auto X = T::matrix("x");
  check_all_close(values(function({X}, {X * scale})(tensor_of({1, 1, 2, 2, 3, 3}, {3, 2}))[0]), {2, 3, 4, 6, 6, 9});
  CHECK(contains(thrown_message([&] { scale.set_value(Tensor::zeros({2, 2}, float64)); }), "must have length 1"));
  CHECK(contains(thrown_message([&] { shared(Tensor::zeros({2, 2}, float64), "s", false, {true, false}); }),
                 "must have length 1"));
  CHECK(contains(thrown_message([&] { shared(Tensor::zeros({1, 2}, float64), "s", false, {true}); }), "one per dim"));
  // An update that is not broadcastable where the variable is would let the dim grow.
  const std::string msg = thrown_message([&] { function({X}, {}, {.updates = {{scale, X}}}); });
  CHECK(contains(msg, "broadcastable along dim 0"));
  CHECK(contains(msg, "scale"));
  // A reduction with keepdims keeps the dim broadcastable: accepted.
  auto f = function({X}, {}, {.updates = {{scale, T::mean(X, std::vector<int>{0}, true)}}});
  f(tensor_of({1, 2, 3, 4}, {2, 2}));
  check_all_close(values(scale.get_value()), {2, 3});
}

TEST_CASE("batch normalization's errors name the parameter and what it must be") {
  auto X = T::tensor4("x");
  CHECK(contains(thrown_message([&] { bn::batch_normalization_train(X, T::matrix("g"), T::vector("b"), {.axes = "spatial"}); }),
                 "gamma has 2 dims"));
  CHECK(contains(thrown_message([&] { bn::batch_normalization_train(X, T::tensor4("g"), T::tensor4("b"), {.axes = "spatial"}); }),
                 "must be broadcastable along normalized axis 0"));
  CHECK(contains(thrown_message([&] { bn::batch_normalization_train(X, T::vector("g"), T::vector("b"), {.axes = "bogus"}); }),
                 "per-activation"));
  CHECK(contains(thrown_message([&] {
                   bn::batch_normalization_train(X, T::vector("g"), T::vector("b"), {.axes = "spatial"}, T::vector("rm"));
                 }), "both be given"));
}
