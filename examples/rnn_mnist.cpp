// Sequential MNIST by rows: a recurrent network reads each 28x28 image as 28
// steps of 28 pixels and classifies it from its last hidden state.
//
//   h_0 = 0,  h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h),  p = softmax(h_28 W_hy + b_y)
//
// built with one graphjit::scan (the loop is in the graph, compiled once;
// x_t W_xh for all t is one GEMM before the loop), trained with plain SGD on
// the mean negative log-likelihood. Data, split, flags, --json fields and the
// epoch loop are mnist_mlp's (mnist_driver.hpp), with these defaults:
// --batch 100, --lr 0.05, --hidden 128; --clip C clips every gradient element
// to [-C, C] (no clipping unless given). --save writes W_xh (28,128), W_hh
// (128,128), b_h, W_hy (128,10) and b_y.
#include "mnist_driver.hpp"
#include "seed_model.hpp"

#include <graphjit/graphjit.hpp>

#include <iostream>
#include <string>

namespace T = graphjit::tensor;
using graphjit::SharedVariable;
using graphjit::Variable;
using namespace mnist_driver;

namespace {

constexpr int kSteps = 28, kRowPixels = 28;

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

Trainable build(const Options& o, graphjit::DType floatX, seed::Init& init, const SharedData& data) {
  const auto start = std::chrono::steady_clock::now();
  auto x = T::matrix("x", floatX);
  auto y = T::vector("y", graphjit::int32);
  auto model = std::make_shared<Rnn>(x, o.hidden, init);
  auto loss = T::mean(T::nnet::categorical_crossentropy(model->p, y));
  auto accuracy = T::mean(T::eq(T::argmax(model->p, 1), y));
  std::vector<std::pair<SharedVariable, Variable>> updates;
  for (const auto& [name, param] : model->params()) {
    Variable g = graphjit::grad(loss, param);
    if (o.clip > 0) g = T::clip(g, -o.clip, o.clip);
    updates.emplace_back(param, param - o.lr * g);
  }
  auto index = T::scalar("batch index", graphjit::int32);
  auto size = T::scalar("batch size", graphjit::int32);
  auto batch = [&](const SharedData::Split& split) -> std::vector<std::pair<Variable, Variable>> {
    return {{x, split.x[T::slice(index * size, (index + 1) * size)]},
            {y, split.y[T::slice(index * size, (index + 1) * size)]}};
  };
  Trainable t{graphjit::function({index, size}, {loss, accuracy}, {.updates = updates, .givens = batch(data.train)}),
              graphjit::function({index, size}, {loss, accuracy}, {.givens = batch(data.valid)}),
              graphjit::function({index, size}, {accuracy}, {.givens = batch(data.test)}),
              model->params()};
  t.compile_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return t;
}

int run(const Options& o) {
  prepare(o);
  const graphjit::DType floatX = graphjit::dtype_from_name(o.dtype);
  SharedData data = load_shared_data(o, floatX, seed::kClasses);
  if (!o.json) std::cout << data.description << "\n";
  seed::Init init{o.init, graphjit::RandomState(o.seed), floatX};
  Trainable model = build(o, floatX, init, data);
  if (!o.load.empty()) seed::load_params(o.load, model.params);
  return train_and_report(o, data, model, "rnn_mnist");
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Options defaults;
    defaults.model = "rnn";
    defaults.batch = 100;
    defaults.lr = 0.05;
    return run(parse(argc, argv, defaults, {.program = "rnn_mnist", .models = {"rnn"}, .extra_flags = "[--clip C]"}));
  } catch (const std::exception& e) {
    std::cerr << "rnn_mnist: " << e.what() << "\n";
    return 1;
  }
}
