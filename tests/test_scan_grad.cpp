// The gradient through scan (backpropagation through time) against finite
// differences (verify_grad): recurrences with one and several taps, sequence
// taps, go_backwards, several outputs, non-sequences, shared-variable
// parameters, and truncate_gradient against a hand-derived truncation.
#include <doctest/doctest.h>

#include "uniform_tensor.hpp"

#include <graphjit/graphjit.hpp>
#include <graphjit/runtime/random.hpp>

#include <algorithm>
#include <cmath>

namespace T = graphjit::tensor;
using graphjit::ScanStep;
using graphjit::Tensor;
using graphjit::Variable;
using Args = std::vector<Variable>;
using graphjit::testing::uniform_tensor;

TEST_CASE("verify_grad: an RNN step, through the sequence, the initial state and the weights") {
  graphjit::verify_grad(
      [](const Args& in) {
        auto r = graphjit::scan(
            [](const Args& a) -> ScanStep { return T::tanh(T::dot(a[0], a[2]) + T::dot(a[1], a[3])); },
            {.sequences = {in[0]}, .outputs_info = {in[1]}, .non_sequences = {in[2], in[3]}});
        return r.outputs[0];
      },
      {uniform_tensor({4, 2, 3}, 1), uniform_tensor({2, 5}, 2), uniform_tensor({3, 5}, 3), uniform_tensor({5, 5}, 4)});
}

TEST_CASE("verify_grad: the push-out off gives the same gradients as on") {
  for (bool push_out : {true, false})
    graphjit::verify_grad(
        [&](const Args& in) {
          auto r = graphjit::scan(
              [](const Args& a) -> ScanStep { return T::tanh(T::dot(a[0], a[2]) + a[1]); },
              {.sequences = {in[0]}, .outputs_info = {in[1]}, .non_sequences = {in[2]}, .push_out = push_out});
          return r.outputs[0][-1];
        },
        {uniform_tensor({3, 2, 4}, 5), uniform_tensor({2, 3}, 6), uniform_tensor({4, 3}, 7)});
}

TEST_CASE("verify_grad: taps [-2, -1] on the output and [-1, 0, 2] on a sequence") {
  graphjit::verify_grad(
      [](const Args& in) {
        auto r = graphjit::scan(
            [](const Args& a) -> ScanStep {
              // a: x[t-1], x[t], x[t+2], h[t-2], h[t-1], W
              return T::tanh(T::dot(a[4], a[5]) + 0.5 * a[3] + a[0] * a[1] - a[2]);
            },
            {.sequences = {{in[0], {-1, 0, 2}}}, .outputs_info = {{in[1], {-2, -1}}}, .non_sequences = {in[2]}});
        return r.outputs[0];
      },
      {uniform_tensor({7, 3}, 8), uniform_tensor({3, 3}, 9), uniform_tensor({3, 3}, 10)});
}

TEST_CASE("verify_grad: go_backwards and several outputs, one not fed back") {
  graphjit::verify_grad(
      [](const Args& in) {
        auto r = graphjit::scan(
            [](const Args& a) -> ScanStep {
              // a: x[t], h[t-1], c[t-1], W
              const Variable h = T::tanh(T::dot(a[1], a[3]) + a[0]);
              return {h, a[2] + T::sigmoid(a[0]) * h, T::sum(h * h)};
            },
            {.sequences = {in[0]},
             .outputs_info = {in[1], in[2], {}},
             .non_sequences = {in[3]},
             .go_backwards = true});
        return T::concatenate({r.outputs[0][-1], r.outputs[1].sum(std::vector<int>{0}), T::stack({r.outputs[2].sum()})});
      },
      {uniform_tensor({5, 3}, 11), uniform_tensor({3}, 12), uniform_tensor({3}, 13), uniform_tensor({3, 3}, 14)});
}

TEST_CASE("verify_grad: shared weights read inside the step, and a gradient of a scalar recurrence") {
  auto W = graphjit::shared(uniform_tensor({3, 3}, 15), "W");
  graphjit::verify_grad(
      [&](const Args& in) {
        auto r = graphjit::scan([&](const Args& a) -> ScanStep { return T::tanh(T::dot(a[1], W) * a[0]); },
                                {.sequences = {in[0]}, .outputs_info = {in[1]}});
        return r.outputs[0];
      },
      {uniform_tensor({4}, 16), uniform_tensor({3}, 17)});
  // A shared variable's gradient: d/dW of the loss matches finite differences on W's value.
  auto x = T::matrix("x");
  auto h0 = T::vector("h0");
  auto r = graphjit::scan([&](const Args& a) -> ScanStep { return T::tanh(T::dot(a[1], W) + a[0]); },
                          {.sequences = {x}, .outputs_info = {h0}});
  auto loss = T::sum(r.outputs[0] * r.outputs[0]);
  auto g = graphjit::function({x, h0}, {graphjit::grad(loss, W)})(uniform_tensor({4, 3}, 18), uniform_tensor({3}, 19))[0];
  auto f = graphjit::function({x, h0}, {loss});
  const Tensor xv = uniform_tensor({4, 3}, 18), hv = uniform_tensor({3}, 19);
  const Tensor w0 = W.get_value();
  for (std::int64_t i = 0; i < 3; ++i)
    for (std::int64_t j = 0; j < 3; ++j) {
      Tensor w = w0.copy();
      w.set({i, j}, w0.get({i, j}) + 1e-6);
      W.set_value(w);
      const double up = f(xv, hv)[0].item<double>();
      w.set({i, j}, w0.get({i, j}) - 1e-6);
      W.set_value(w);
      const double down = f(xv, hv)[0].item<double>();
      CHECK(g.get({i, j}) == doctest::Approx((up - down) / 2e-6).epsilon(1e-5));
    }
  W.set_value(w0);
}

TEST_CASE("truncate_gradient: the gradient flows back through the last k steps only") {
  // h_t = a * h_{t-1} + x_t, loss = h_{n-1}: d loss / d x_t = a^(n-1-t), truncated to 0 for t < n - k;
  // d loss / d a sums over the visited steps only, and h0 gets nothing when the loop stops early.
  auto x = T::vector("x");
  auto a = T::scalar("a");
  auto h0 = T::scalar("h0");
  for (int k : {-1, 2, 10}) {
    auto r = graphjit::scan([](const Args& v) -> ScanStep { return v[2] * v[1] + v[0]; },
                            {.sequences = {x}, .outputs_info = {h0}, .non_sequences = {a}, .truncate_gradient = k});
    auto loss = r.outputs[0][-1];
    for (auto mode : {graphjit::Mode::reference, graphjit::Mode::fast_run}) {
      auto f = graphjit::function({x, a, h0}, graphjit::grad(loss, {x, a, h0}), {.mode = mode});
      auto g = f(Tensor::from_vector(std::vector<double>{1, 2, 3, 4}), 0.5, 3.0);
      const std::vector<double> gx = g[0].to_vector<double>();
      const int n = 4, visited = k < 0 ? n : std::min(k, n);
      for (int t = 0; t < n; ++t) CHECK(gx[t] == doctest::Approx(t >= n - visited ? std::pow(0.5, n - 1 - t) : 0.0));
      // h = [0.5*3+1, ...]: h_{-1} = 3, h_0 = 2.5, h_1 = 3.25, h_2 = 4.625; d h_3 / d a = sum over visited t of
      // a^(n-1-t) * h_{t-1}.
      const std::vector<double> h_prev{3, 2.5, 3.25, 4.625};
      double ga = 0;
      for (int t = n - visited; t < n; ++t) ga += std::pow(0.5, n - 1 - t) * h_prev[t];
      CHECK(g[1].item<double>() == doctest::Approx(ga));
      CHECK(g[2].item<double>() == doctest::Approx(visited == n ? std::pow(0.5, n) : 0.0));
    }
  }
}

TEST_CASE("the gradient through scan: JIT against the reference on an RNN with a batch") {
  auto X = T::tensor3("X");
  auto h0 = T::matrix("h0");
  auto Wx = T::matrix("Wx"), Wh = T::matrix("Wh");
  auto b = T::vector("b");
  auto r = graphjit::scan(
      [&](const Args& a) -> ScanStep { return T::tanh(T::dot(a[0], Wx) + T::dot(a[1], Wh) + b); },
      {.sequences = {X}, .outputs_info = {h0}});
  auto loss = T::mean(T::sqr(r.outputs[0][-1]));
  auto grads = graphjit::grad(loss, {Wx, Wh, b, h0, X});
  std::vector<Variable> outs{loss};
  outs.insert(outs.end(), grads.begin(), grads.end());
  const std::vector<Tensor> args{uniform_tensor({6, 4, 3}, 20, 1), uniform_tensor({4, 5}, 21), uniform_tensor({3, 5}, 22), uniform_tensor({5, 5}, 23),
                                 uniform_tensor({5}, 24)};
  auto run = [&](graphjit::Mode mode) {
    return graphjit::function({X, h0, Wx, Wh, b}, outs, {.mode = mode})(args[0], args[1], args[2], args[3], args[4]);
  };
  const auto ref = run(graphjit::Mode::reference), jit = run(graphjit::Mode::fast_run);
  run(graphjit::Mode::debug);  // every step's value against the reference
  for (std::size_t i = 0; i < ref.size(); ++i) {
    const auto r_ = ref[i].to_vector<double>(), j_ = jit[i].to_vector<double>();
    REQUIRE(r_.size() == j_.size());
    for (std::size_t k = 0; k < r_.size(); ++k) CHECK(j_[k] == doctest::Approx(r_[k]).epsilon(1e-10));
  }
}
