// The seed's model ("Training an MLP in Theano", shared/seed/) in graphjit:
// Layer, MLP and the logistic regression, read line for line like the Theano
// original. examples/mnist_mlp.cpp trains them; the tests train them too.
#pragma once

#include <graphjit/graphjit.hpp>
#include <graphjit/runtime/npz.hpp>
#include <graphjit/runtime/random.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <memory>
#include <ranges>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace seed {

namespace T = graphjit::tensor;
using graphjit::shared;
using graphjit::SharedVariable;
using graphjit::Tensor;
using graphjit::Variable;

// Weight initialisations: numpy's default uniform(0, 1) (the question's bug),
// uniform(-1, 1), and Glorot's uniform(+-sqrt(6 / (n_in + n_out))) (the answer).
struct Init {
  std::string kind;
  graphjit::RandomState rng;
  graphjit::DType dtype;
  Tensor weights(const graphjit::Shape& shape) { return weights(shape, shape[0], shape[1]); }
  // Glorot's bound from the given fans (a conv layer's are not its shape's first two lengths).
  Tensor weights(const graphjit::Shape& shape, std::int64_t fan_in, std::int64_t fan_out) {
    if (kind == "uniform01") return rng.uniform(0, 1, shape, dtype);
    if (kind == "uniform11") return rng.uniform(-1, 1, shape, dtype);
    const double r = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
    return rng.uniform(-r, r, shape, dtype);
  }
  Tensor biases(std::int64_t size) { return Tensor::zeros({size}, dtype); }
};

using Activation = std::function<Variable(const Variable&)>;
inline const Activation softmax = [](const Variable& v) { return T::nnet::softmax(v); };
inline const Activation tanh_ = [](const Variable& v) { return T::tanh(v); };

// ---- The seed's model, line for line ---------------------------------------

struct Layer {
  SharedVariable W, b;
  Variable output, pred;
  std::vector<SharedVariable> params;

  Layer(const Variable& inputs, int n_in, int n_out, Init& init, const Activation& activation = softmax) {
    W = shared(init.weights({n_in, n_out}), "weights", /*borrow=*/true);
    b = shared(init.biases(n_out), "biases", /*borrow=*/true);
    output = activation(T::dot(inputs, W) + b);
    pred = T::argmax(output, 1);
    params = {W, b};
  }
};

struct Model {
  virtual ~Model() = default;
  virtual Variable loss(const Variable& one_hot) = 0;
  // The loss the train function minimizes: `loss`, unless the model drops units while training.
  virtual Variable train_loss(const Variable& one_hot) { return loss(one_hot); }
  virtual Variable accuracy(const Variable& y) = 0;
  virtual std::vector<std::pair<SharedVariable, Variable>> updates(const Variable& loss, double rate) = 0;
  virtual std::vector<std::pair<std::string, SharedVariable>> named_params() = 0;
};

// The question's logistic regression: one softmax layer.
struct LogReg : Model {
  Layer layer;
  LogReg(const Variable& inputs, int n_in, int n_out, Init& init) : layer(inputs, n_in, n_out, init) {}
  Variable loss(const Variable& one_hot) override { return T::mean(T::sqr(one_hot - layer.output)); }
  Variable accuracy(const Variable& y) override { return T::mean(T::eq(layer.pred, y)); }
  std::vector<std::pair<SharedVariable, Variable>> updates(const Variable& loss, double rate) override {
    return {{layer.W, layer.W - rate * T::grad(loss, layer.W)}, {layer.b, layer.b - rate * T::grad(loss, layer.b)}};
  }
  std::vector<std::pair<std::string, SharedVariable>> named_params() override {
    return {{"W", layer.W}, {"b", layer.b}};
  }
};

// Dropout on the hidden layer while training (not in the seed; --dropout P).
struct Dropout {
  double p = 0;  // the probability of dropping a hidden unit; 0: none
  std::uint64_t seed = 0;
};

struct MLP : Model {
  Layer hidden_, output_;
  Variable train_output_;  // the output with dropout on the hidden layer, if any
  MLP(const Variable& inputs, int n_in, int n_hidden, int n_out, Init& init, const Dropout& dropout = {})
      : hidden_(inputs, n_in, n_hidden, init, tanh_), output_(hidden_.output, n_hidden, n_out, init) {  // softmax by default
    if (dropout.p <= 0) return;
    graphjit::RandomStreams rng(dropout.seed);
    train_output_ = softmax(T::dot(T::nnet::dropout(hidden_.output, dropout.p, rng), output_.W) + output_.b);
  }
  Variable loss(const Variable& one_hot) override { return T::mean(T::sqr(one_hot - output_.output)); }
  Variable train_loss(const Variable& one_hot) override {
    return train_output_.defined() ? T::mean(T::sqr(one_hot - train_output_)) : loss(one_hot);
  }
  Variable accuracy(const Variable& y) override { return T::mean(T::eq(output_.pred, y)); }
  std::vector<std::pair<SharedVariable, Variable>> updates(const Variable& loss, double rate) override {
    std::vector<std::pair<SharedVariable, Variable>> updates;
    updates.push_back({hidden_.W, hidden_.W - rate * T::grad(loss, hidden_.W)});
    updates.push_back({hidden_.b, hidden_.b - rate * T::grad(loss, hidden_.b)});
    updates.push_back({output_.W, output_.W - rate * T::grad(loss, output_.W)});
    updates.push_back({output_.b, output_.b - rate * T::grad(loss, output_.b)});
    return updates;
  }
  std::vector<std::pair<std::string, SharedVariable>> named_params() override {
    return {{"W1", hidden_.W}, {"b1", hidden_.b}, {"W2", output_.W}, {"b2", output_.b}};
  }
};

// One split of the data set in shared variables, as the Theano tutorial loads it.
struct SharedSplit {
  SharedVariable x, y;
};

// The model's input: 28x28 images, flattened.
constexpr int kPixels = 784;
constexpr int kClasses = 10;

// Parameters saved by --save (numpy.savez layout: W1, b1, W2, b2 or W, b).
// Every one must be there with the model's shape and hold finite numbers: a
// NaN loaded silently would train and report nothing but NaN.
inline void load_params(const std::string& path, std::vector<std::pair<std::string, SharedVariable>> params) {
  const graphjit::NamedArrays arrays = graphjit::load_npz(path);
  for (auto& [key, param] : params) {
    auto it = std::find_if(arrays.begin(), arrays.end(), [&](auto& a) { return a.first == key; });
    if (it == arrays.end())
      throw std::runtime_error(fmt::format("{}: no array '{}' (the model's parameters are {})", path, key,
                                           fmt::join(params | std::views::keys, ", ")));
    Tensor current = param.get_value(true);
    if (it->second.shape() != current.shape())
      throw std::runtime_error(fmt::format("{}: '{}' has shape {}, the model needs {}", path, key,
                                           graphjit::shape_str(it->second.shape()), graphjit::shape_str(current.shape())));
    const Tensor value = it->second.astype(current.dtype());
    const std::vector<double> elements = value.to_vector<double>();
    for (std::size_t i = 0; i < elements.size(); ++i)
      if (!std::isfinite(elements[i]))
        throw std::runtime_error(fmt::format("{}: '{}' element {} (in row-major order) is {}; parameters must be "
                                             "finite (was the model saved after its loss became NaN?)",
                                             path, key, i, elements[i]));
    param.set_value(value);
  }
}
inline void load_params(const std::string& path, Model& model) { load_params(path, model.named_params()); }

// The seed script: symbolic inputs, the model, loss, accuracy, updates, and
// the train/valid/test functions with givens over the shared data.
struct Program {
  Variable x, y;
  std::unique_ptr<Model> model;
  Variable loss, accuracy;
  std::vector<std::pair<SharedVariable, Variable>> updates;
  Variable index, size;
  graphjit::Function train, valid, test;
  double train_seconds_to_compile = 0;  // from the first symbolic variable to a compiled train function
};

// Makes the model from the symbolic images (one flattened image per row) and labels.
using ModelFactory = std::function<std::unique_ptr<Model>(const Variable& x, const Variable& y)>;

inline Program build_program(const ModelFactory& make_model, double rate, graphjit::DType floatX,
                             const SharedSplit& train_set, const SharedSplit& valid_set, const SharedSplit& test_set) {
  using graphjit::function;
  const auto start = std::chrono::steady_clock::now();
  for (const auto* split : {&train_set, &valid_set, &test_set})
    if (const Tensor x = split->x.get_value(true); x.ndim() != 2 || x.shape(1) != kPixels)
      throw std::invalid_argument(fmt::format("the model takes 28x28 images ({} pixels per row of x); '{}' has shape {}",
                                              kPixels, split->x.name(), graphjit::shape_str(x.shape())));
  auto x = T::matrix("x", floatX);
  auto y = T::vector("y", graphjit::int32);

  std::unique_ptr<Model> model = make_model(x, y);

  auto labels = T::extra_ops::to_one_hot(y, kClasses, floatX);
  auto loss = model->loss(labels);      // loss function
  auto accuracy = model->accuracy(y);   // average number of correct predictions over a batch
  auto train_loss = model->train_loss(labels);  // `loss` itself without dropout
  auto updates = model->updates(train_loss, rate);

  auto index = T::scalar("batch index", graphjit::int32);  // batch index
  auto size = T::scalar("batch size", graphjit::int32);

  auto train = function({index, size}, {train_loss, accuracy},
                        {.updates = updates,
                         .givens = {{x, train_set.x[T::slice(index * size, (index + 1) * size)]},
                                    {y, train_set.y[T::slice(index * size, (index + 1) * size)]}}});
  const std::chrono::duration<double> train_compile = std::chrono::steady_clock::now() - start;

  auto valid = function({index, size}, {loss, accuracy},
                        {.givens = {{x, valid_set.x[T::slice(index * size, (index + 1) * size)]},
                                    {y, valid_set.y[T::slice(index * size, (index + 1) * size)]}}});

  auto test = function({index, size}, {accuracy},
                       {.givens = {{x, test_set.x[T::slice(index * size, (index + 1) * size)]},
                                   {y, test_set.y[T::slice(index * size, (index + 1) * size)]}}});

  return Program{x, y, std::move(model), loss, accuracy, updates, index, size, train, valid, test, train_compile.count()};
}

// The seed's models by name: "logreg" or "mlp".
inline Program build_program(const std::string& kind, int n_hidden, double rate, graphjit::DType floatX, Init& init,
                             const SharedSplit& train_set, const SharedSplit& valid_set, const SharedSplit& test_set,
                             const Dropout& dropout = {}) {
  auto make_model = [&](const Variable& x, const Variable&) -> std::unique_ptr<Model> {
    if (kind == "logreg") return std::make_unique<LogReg>(x, kPixels, kClasses, init);  // basic logistic model
    return std::make_unique<MLP>(x, kPixels, n_hidden, kClasses, init, dropout);       // basic multi-layer perceptron
  };
  return build_program(make_model, rate, floatX, train_set, valid_set, test_set);
}

}  // namespace seed
