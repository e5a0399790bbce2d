// The RNN of examples/rnn_mnist.cpp (sequential MNIST by rows), in a header
// so that the tests train the same model:
//
//   h_0 = 0,  h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h),  p = softmax(h_28 W_hy + b_y)
//
// built with one graphjit::scan over the 28 rows of each image.
#pragma once

#include "seed_model.hpp"

#include <graphjit/graphjit.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace rnn {

namespace T = graphjit::tensor;
using graphjit::SharedVariable;
using graphjit::Variable;

inline constexpr int kSteps = 28, kRowPixels = 28;

// The model, trained on the mean negative log-likelihood of the labels with
// plain SGD, each gradient element clipped to [-clip, clip] if clip > 0.
struct Rnn : seed::Model {
  SharedVariable W_xh, W_hh, b_h, W_hy, b_y;
  Variable y;  // the labels
  Variable p;  // class probabilities per image
  double clip = 0;

  Rnn(const Variable& x, const Variable& labels, int hidden, seed::Init& init, double clip_at = 0)
      : y(labels), clip(clip_at) {
    W_xh = graphjit::shared(init.weights({kRowPixels, hidden}), "W_xh", true);
    W_hh = graphjit::shared(init.weights({hidden, hidden}), "W_hh", true);
    b_h = graphjit::shared(init.biases(hidden), "b_h", true);
    W_hy = graphjit::shared(init.weights({hidden, seed::kClasses}), "W_hy", true);
    b_y = graphjit::shared(init.biases(seed::kClasses), "b_y", true);
    // (batch, 784) -> (28 steps, batch, 28 pixels)
    const Variable rows = x.reshape({x.shape(0), graphjit::constant(std::int64_t{kSteps}, graphjit::int64),
                                     graphjit::constant(std::int64_t{kRowPixels}, graphjit::int64)})
                              .dimshuffle({1, 0, 2});
    const Variable h0 = T::zeros_like(T::outer(x[{T::slice(), 0}], b_h));  // (batch, hidden) zeros
    auto step = [&](const std::vector<Variable>& a) -> graphjit::ScanStep {
      return T::tanh(T::dot(a[0], W_xh) + T::dot(a[1], W_hh) + b_h);
    };
    const Variable h = graphjit::scan(step, {.sequences = {rows}, .outputs_info = {h0}, .name = "rnn"}).outputs[0];
    p = T::nnet::softmax(T::dot(h[-1], W_hy) + b_y);
  }

  Variable loss(const Variable&) override { return T::mean(T::nnet::categorical_crossentropy(p, y)); }
  Variable accuracy(const Variable& labels) override { return T::mean(T::eq(T::argmax(p, 1), labels)); }

  std::vector<std::pair<SharedVariable, Variable>> updates(const Variable& cost, double rate) override {
    // One grad() call for all parameters: one backward loop computes them all.
    const auto params = named_params();
    std::vector<Variable> wrt;
    for (const auto& [name, param] : params) wrt.push_back(param);
    const std::vector<Variable> grads = graphjit::grad(cost, wrt);
    std::vector<std::pair<SharedVariable, Variable>> updates;
    for (std::size_t i = 0; i < wrt.size(); ++i) {
      Variable g = grads[i];
      if (clip > 0) g = T::clip(g, -clip, clip);
      updates.emplace_back(params[i].second, params[i].second - rate * g);
    }
    return updates;
  }

  std::vector<std::pair<std::string, SharedVariable>> named_params() override {
    return {{"W_xh", W_xh}, {"W_hh", W_hh}, {"b_h", b_h}, {"W_hy", W_hy}, {"b_y", b_y}};
  }
};

// The train, valid and test functions over (batch index, batch size) (seed::build_program).
inline seed::Program build_rnn(int hidden, double lr, double clip, graphjit::DType floatX, seed::Init& init,
                               const seed::SharedSplit& train, const seed::SharedSplit& valid,
                               const seed::SharedSplit& test) {
  auto make_model = [&](const Variable& x, const Variable& y) -> std::unique_ptr<seed::Model> {
    return std::make_unique<Rnn>(x, y, hidden, init, clip);
  };
  return seed::build_program(make_model, lr, floatX, train, valid, test);
}

}  // namespace rnn
