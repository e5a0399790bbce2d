// The RNN of examples/rnn_mnist.cpp (sequential MNIST by rows), in a header
// so that the tests train the same model:
//
//   h_0 = 0,  h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h),  p = softmax(h_28 W_hy + b_y)
//
// built with one graphjit::scan over the 28 rows of each image.
#pragma once

#include "mnist_driver.hpp"
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
using mnist_driver::SharedData;
using mnist_driver::Trainable;

inline constexpr int kSteps = 28, kRowPixels = 28;

struct Rnn {
  SharedVariable W_xh, W_hh, b_h, W_hy, b_y;
  Variable p;  // class probabilities per image

  Rnn(const Variable& x, int hidden, seed::Init& init) {
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
  std::vector<std::pair<std::string, SharedVariable>> params() const {
    return {{"W_xh", W_xh}, {"W_hh", W_hh}, {"b_h", b_h}, {"W_hy", W_hy}, {"b_y", b_y}};
  }
};

// The train, valid and test functions over (batch index, batch size), with
// plain SGD at `lr`, each gradient element clipped to [-clip, clip] if clip > 0.
inline Trainable build_rnn(int hidden, double lr, double clip, graphjit::DType floatX, seed::Init& init,
                           const SharedData::Split& train, const SharedData::Split& valid, const SharedData::Split& test) {
  const auto start = std::chrono::steady_clock::now();
  auto x = T::matrix("x", floatX);
  auto y = T::vector("y", graphjit::int32);
  auto model = std::make_shared<Rnn>(x, hidden, init);
  auto loss = T::mean(T::nnet::categorical_crossentropy(model->p, y));
  auto accuracy = T::mean(T::eq(T::argmax(model->p, 1), y));
  std::vector<std::pair<SharedVariable, Variable>> updates;
  // One grad() call for all parameters: one backward loop computes them all.
  const auto params = model->params();
  std::vector<Variable> wrt;
  for (const auto& [name, param] : params) wrt.push_back(param);
  const std::vector<Variable> grads = graphjit::grad(loss, wrt);
  for (std::size_t i = 0; i < wrt.size(); ++i) {
    const SharedVariable& param = params[i].second;
    Variable g = grads[i];
    if (clip > 0) g = T::clip(g, -clip, clip);
    updates.emplace_back(param, param - lr * g);
  }
  auto index = T::scalar("batch index", graphjit::int32);
  auto size = T::scalar("batch size", graphjit::int32);
  auto batch = [&](const SharedData::Split& split) -> std::vector<std::pair<Variable, Variable>> {
    return {{x, split.x[T::slice(index * size, (index + 1) * size)]},
            {y, split.y[T::slice(index * size, (index + 1) * size)]}};
  };
  auto train_fn = graphjit::function({index, size}, {loss, accuracy}, {.updates = updates, .givens = batch(train)});
  const double train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return Trainable{train_fn, graphjit::function({index, size}, {loss, accuracy}, {.givens = batch(valid)}),
                   graphjit::function({index, size}, {accuracy}, {.givens = batch(test)}), params, train_seconds};
}

}  // namespace rnn
