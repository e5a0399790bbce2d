// Batch normalization (theano.tensor.nnet.bn) as a composite of elementwise
// ops and reductions: the statistics are means with keepdims, so they keep
// broadcastable dims and every product below broadcasts by type, as in Theano.
#include <graphjit/batch_norm.hpp>
#include <graphjit/errors.hpp>
#include <graphjit/tensor.hpp>

#include "compiler/ir/node.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <fmt/ranges.h>

namespace graphjit::tensor::nnet::bn {

namespace {

using SL = std::source_location;

[[noreturn]] void fail(const char* fn, SL where, const std::string& what) {
  throw TypeError(fmt::format("{} at {}: {}", fn, ir::where_str(where), what));
}

// Theano's _prepare_batch_normalization_axes: the normalized axes, sorted.
std::vector<int> normalized_axes(const BatchNormOptions& o, int ndim, const char* fn, SL where) {
  std::vector<int> axes;
  if (o.axes == "per-activation") axes = {0};
  else if (o.axes == "spatial")
    for (int a = 0; a < ndim; ++a) {
      if (a != 1) axes.push_back(a);
    }
  else if (o.axes == "explicit") axes = o.explicit_axes;
  else fail(fn, where, fmt::format("axes must be \"per-activation\", \"spatial\" or \"explicit\", not \"{}\"", o.axes));
  std::sort(axes.begin(), axes.end());
  if (axes.empty()) fail(fn, where, "there must be at least one normalized axis");
  if (axes.front() < 0 || axes.back() >= ndim || std::adjacent_find(axes.begin(), axes.end()) != axes.end())
    fail(fn, where, fmt::format("axes ({}) must be distinct and in [0, {}) for an input of {} dims", fmt::join(axes, ", "),
                                ndim, ndim));
  return axes;
}

// How the parameters relate to the input: their rank equals the input's, or
// they have one dim per kept axis and are dimshuffled into place.
struct Layout {
  std::vector<int> axes, kept;
  int ndim;
  bool full_rank;

  // A parameter as an operand of the input's rank.
  Variable expand(const Variable& p, const char* what, const char* fn, SL where) const {
    if (!p.defined()) fail(fn, where, fmt::format("{} is an undefined Variable", what));
    if (full_rank ? p.ndim() != ndim : p.ndim() != static_cast<int>(kept.size()))
      fail(fn, where, fmt::format("{} has {} dims; with the input's {} dims and normalized axes ({}) it must have {} "
                                  "(one per other axis) or {} (broadcastable along the normalized axes)",
                                  what, p.ndim(), ndim, fmt::join(axes, ", "), kept.size(), ndim));
    if (full_rank) {
      for (int a : axes)
        if (!p.broadcastable()[a])
          fail(fn, where, fmt::format("{} ({}) must be broadcastable along normalized axis {}: make it with "
                                      "shared(value, name, borrow, broadcastable) or dimshuffle",
                                      what, p.type_str(), a));
      return p;
    }
    std::vector<std::int64_t> pattern(static_cast<std::size_t>(ndim), -1);
    for (std::size_t i = 0; i < kept.size(); ++i) pattern[kept[i]] = static_cast<std::int64_t>(i);
    return p.dimshuffle(pattern, where);
  }
  // A statistic of the input's rank (keepdims) shaped like the parameters.
  Variable like_params(const Variable& stat, SL where) const {
    if (full_rank) return stat;
    std::vector<std::int64_t> pattern(kept.begin(), kept.end());
    return stat.dimshuffle(pattern, where);
  }
};

Layout layout(const Variable& inputs, const Variable& gamma, const BatchNormOptions& o, const char* fn, SL where) {
  if (!inputs.defined() || !gamma.defined()) fail(fn, where, "an input is an undefined Variable");
  if (!is_float(inputs.dtype())) fail(fn, where, fmt::format("the input must be float, not {}", inputs.type_str()));
  Layout l;
  l.ndim = inputs.ndim();
  l.axes = normalized_axes(o, l.ndim, fn, where);
  for (int a = 0; a < l.ndim; ++a)
    if (!std::binary_search(l.axes.begin(), l.axes.end(), a)) l.kept.push_back(a);
  l.full_rank = gamma.ndim() == l.ndim && l.ndim != static_cast<int>(l.kept.size());
  return l;
}

}  // namespace

BatchNormTrain batch_normalization_train(const Variable& inputs, const Variable& gamma, const Variable& beta,
                                         const BatchNormOptions& o, const Variable& running_mean,
                                         const Variable& running_var, SL where) {
  const char* fn = "batch_normalization_train";
  const Layout l = layout(inputs, gamma, o, fn, where);
  if (running_mean.defined() != running_var.defined())
    fail(fn, where, "running_mean and running_var must both be given or both be left out");
  const DType dtype = inputs.dtype();
  const Variable mean = tensor::mean(inputs, l.axes, /*keepdims=*/true, where);
  const Variable centered = inputs - mean;
  const Variable var = tensor::mean(tensor::sqr(centered, where), l.axes, /*keepdims=*/true, where);
  const Variable invstd = tensor::true_div(constant(1.0, dtype, where),
                                           tensor::sqrt(var + constant(o.epsilon, dtype, where), where), where);
  BatchNormTrain r;
  r.out = centered * l.expand(gamma, "gamma", fn, where) * invstd + l.expand(beta, "beta", fn, where);
  r.mean = l.like_params(mean, where);
  r.invstd = l.like_params(invstd, where);
  if (running_mean.defined()) {
    l.expand(running_mean, "running_mean", fn, where);  // checks the rank and pattern
    l.expand(running_var, "running_var", fn, where);
    Variable m = constant(1.0, dtype, where);  // the number of values each statistic averages
    for (int a : l.axes) m = m * tensor::cast(inputs.shape(a, where), dtype, where);
    const Variable f = constant(o.running_average_factor, dtype, where);
    const Variable keep = constant(1.0 - o.running_average_factor, dtype, where);
    r.new_running_mean = running_mean * keep + r.mean * f;
    r.new_running_var = running_var * keep + l.like_params(var * (m / (m - 1.0)), where) * f;
  }
  return r;
}

Variable batch_normalization_test(const Variable& inputs, const Variable& gamma, const Variable& beta,
                                  const Variable& mean, const Variable& var, const BatchNormOptions& o, SL where) {
  const char* fn = "batch_normalization_test";
  const Layout l = layout(inputs, gamma, o, fn, where);
  const Variable scale = l.expand(gamma, "gamma", fn, where) /
                         tensor::sqrt(l.expand(var, "var", fn, where) + constant(o.epsilon, inputs.dtype(), where), where);
  return (inputs - l.expand(mean, "mean", fn, where)) * scale + l.expand(beta, "beta", fn, where);
}

}  // namespace graphjit::tensor::nnet::bn
