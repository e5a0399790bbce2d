// Batch normalization, theano.tensor.nnet.bn: the training form (batch
// statistics, and the running averages to store through updates) and the
// inference form (given statistics). Both are built from elementwise ops and
// reductions, so they fuse with their neighbours and differentiate like any
// graph.
//
//   auto gamma = graphjit::shared(ones({1, C, 1, 1}), "gamma", false, {true, false, true, true});
//   auto bn = T::nnet::bn::batch_normalization_train(h, gamma, beta, {.axes = "spatial"}, running_mean, running_var);
//   updates: {running_mean, bn.new_running_mean}, {running_var, bn.new_running_var}
#pragma once

#include <graphjit/variable.hpp>

#include <source_location>
#include <string>
#include <vector>

namespace graphjit::tensor::nnet::bn {

struct BatchNormOptions {
  // "per-activation" (normalize over axis 0), "spatial" (axis 0 and every
  // axis from 2 on: per channel of NCHW images), or "explicit" to use `explicit_axes`.
  std::string axes = "per-activation";
  std::vector<int> explicit_axes;
  double epsilon = 1e-4;
  double running_average_factor = 0.1;
};

struct BatchNormTrain {
  Variable out;     // (x - mean) * gamma * invstd + beta
  Variable mean;    // over the normalized axes, shaped like gamma
  Variable invstd;  // 1 / sqrt(var + epsilon), shaped like gamma
  // With running statistics given: running * (1 - factor) + batch * factor,
  // the variance unbiased (times m / (m - 1), m the number of averaged values).
  Variable new_running_mean, new_running_var;
};

// gamma, beta (and the running statistics) have either one dim per axis that
// is not normalized (a C vector for "spatial" NCHW) or the input's rank with
// broadcastable normalized dims (shared(..., broadcastable) or dimshuffle).
BatchNormTrain batch_normalization_train(const Variable& inputs, const Variable& gamma, const Variable& beta,
                                         const BatchNormOptions& options = {}, const Variable& running_mean = {},
                                         const Variable& running_var = {},
                                         std::source_location where = std::source_location::current());

// (x - mean) * (gamma / sqrt(var + epsilon)) + beta, with mean and var shaped like gamma.
Variable batch_normalization_test(const Variable& inputs, const Variable& gamma, const Variable& beta,
                                  const Variable& mean, const Variable& var, const BatchNormOptions& options = {},
                                  std::source_location where = std::source_location::current());

}  // namespace graphjit::tensor::nnet::bn
