// LeNet, the deeplearning.net tutorial's convolutional_mlp.py, in graphjit:
// two LeNetConvPoolLayers (conv, 2x2 max pool, tanh of pooled + bias), a
// tanh hidden layer and a softmax logistic regression, read like the
// tutorial. examples/lenet.cpp trains it; tests/test_lenet.cpp checks it learns.
#pragma once

#include "seed_model.hpp"

#include <graphjit/graphjit.hpp>

#include <memory>

namespace seed {

namespace nnet = graphjit::tensor::nnet;
namespace signal = graphjit::tensor::signal;

// conv2d, max pool (ignore_border), tanh(pooled + b): the tutorial's LeNetConvPoolLayer.
struct LeNetConvPoolLayer {
  SharedVariable W, b;
  Variable output;

  LeNetConvPoolLayer(const Variable& input, const graphjit::Shape& filter_shape, const std::array<std::int64_t, 4>& image_shape,
                     Init& init, std::array<std::int64_t, 2> poolsize = {2, 2}) {
    // Each output unit sees in_channels * rows * cols inputs; each input unit is seen by
    // out_channels * rows * cols / pool area outputs (after pooling).
    const std::int64_t fan_in = filter_shape[1] * filter_shape[2] * filter_shape[3];
    const std::int64_t fan_out = filter_shape[0] * filter_shape[2] * filter_shape[3] / (poolsize[0] * poolsize[1]);
    W = shared(init.weights(filter_shape, fan_in, fan_out), "W", /*borrow=*/true);
    b = shared(init.biases(filter_shape[0]), "b", /*borrow=*/true);
    const auto conv_out = nnet::conv2d(input, W, {.input_shape = image_shape,
                                                  .filter_shape = {filter_shape[0], filter_shape[1], filter_shape[2], filter_shape[3]}});
    const auto pooled_out = signal::pool_2d(conv_out, poolsize, {.ignore_border = true});
    output = T::tanh(pooled_out + b.dimshuffle({-1, 0, -1, -1}));
  }
};

struct LeNet : Model {
  Variable y;
  LeNetConvPoolLayer layer0, layer1;
  Layer layer2, layer3;

  // x: one flattened 28x28 image per row; y: their labels.
  LeNet(const Variable& x, const Variable& labels, Init& init, int n_hidden = 500, std::array<int, 2> nkerns = {20, 50})
      : y(labels),
        layer0(x.reshape(std::vector<Variable>{x.shape(0), graphjit::constant(std::int64_t{1}, graphjit::int64),
                                               graphjit::constant(std::int64_t{28}, graphjit::int64),
                                               graphjit::constant(std::int64_t{28}, graphjit::int64)}),
               {nkerns[0], 1, 5, 5}, {-1, 1, 28, 28}, init),
        layer1(layer0.output, {nkerns[1], nkerns[0], 5, 5}, {-1, nkerns[0], 12, 12}, init),
        layer2(layer1.output.flatten(2), nkerns[1] * 4 * 4, n_hidden, init, tanh_),
        layer3(layer2.output, n_hidden, kClasses, init) {
    // The tutorial's LogisticRegression starts from zeros.
    layer3.W.set_value(Tensor::zeros({n_hidden, kClasses}, init.dtype));
  }

  // The tutorial's negative_log_likelihood: the mean of -log p(y | x).
  Variable loss(const Variable&) override { return T::mean(T::nnet::categorical_crossentropy(layer3.output, y)); }
  Variable accuracy(const Variable& labels) override { return T::mean(T::eq(layer3.pred, labels)); }

  std::vector<std::pair<SharedVariable, Variable>> updates(const Variable& cost, double rate) override {
    const auto params = named_params();
    std::vector<Variable> wrt;
    for (auto& [name, param] : params) wrt.push_back(param);
    const std::vector<Variable> grads = T::grad(cost, wrt);  // the tutorial's T.grad(cost, params)
    std::vector<std::pair<SharedVariable, Variable>> updates;
    for (std::size_t i = 0; i < params.size(); ++i) updates.push_back({params[i].second, params[i].second - rate * grads[i]});
    return updates;
  }

  std::vector<std::pair<std::string, SharedVariable>> named_params() override {
    return {{"conv1_W", layer0.W}, {"conv1_b", layer0.b}, {"conv2_W", layer1.W}, {"conv2_b", layer1.b},
            {"fc_W", layer2.W},    {"fc_b", layer2.b},    {"out_W", layer3.W},   {"out_b", layer3.b}};
  }
};

}  // namespace seed
