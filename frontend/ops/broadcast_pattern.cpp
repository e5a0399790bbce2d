// Broadcast patterns (issue 8): Rebroadcast, x as a view with dims declared
// broadcastable or not (Theano's addbroadcast, unbroadcast,
// patternbroadcast), checked when the function runs; and squeeze, which
// drops broadcastable dims.
#include "frontend/ops/op_support.hpp"

#include <graphjit/shape_ops.hpp>
#include <graphjit/tensor.hpp>

#include <algorithm>
#include <fmt/format.h>

namespace graphjit::ir {

namespace {

std::vector<bool> declared_pattern(const Node& node) {
  return std::vector<bool>(node.attrs.ints.begin(), node.attrs.ints.end());
}

Type rebroadcast_type(const Node& node) {
  const Type& x = node.inputs[0]->type;
  if (static_cast<int>(node.attrs.ints.size()) != x.ndim())
    ops::type_error(node, fmt::format("the pattern has {} entries but '{}' has {} dimensions", node.attrs.ints.size(),
                                      node.inputs[0]->label(), x.ndim()));
  return Type{x.dtype, declared_pattern(node)};
}

// A dim declared broadcastable must have length 1: kernels read it with stride 0.
Shape rebroadcast_shape(const Node& node, const std::vector<Tensor>& inputs) {
  const Tensor& x = inputs[0];
  for (int d = 0; d < x.ndim(); ++d)
    if (node.attrs.ints[d] && x.shape(d) != 1)
      ops::shape_error(node, inputs,
                       fmt::format("dim {} of '{}' is declared broadcastable but has length {} (shape {}); only a dim "
                                   "of length 1 can be broadcastable: check the axes given to addbroadcast, "
                                   "patternbroadcast or squeeze",
                                   d, node.inputs[0]->label(), x.shape(d), shape_str(x.shape())));
  return x.shape();
}

Tensor rebroadcast_reference(const Node& node, const std::vector<Tensor>& inputs) {
  rebroadcast_shape(node, inputs);
  return inputs[0];
}

// The gradient has x's shape; it gets x's pattern back.
std::vector<Variable> rebroadcast_grad(const Node& node, const Variable&, const Variable& g) {
  return {tensor::patternbroadcast(g, node.inputs[0]->type.broadcastable, node.where)};
}

}  // namespace

void register_broadcast_pattern_op() {
  define_op(OpCode::Rebroadcast, {rebroadcast_type, rebroadcast_shape, rebroadcast_reference, rebroadcast_grad,
                                  plain_native<rebroadcast_reference>, /*view_of=*/0});
}

}  // namespace graphjit::ir

namespace graphjit::tensor {

namespace {

// The axes as dims of x (negative counts from the end), or a TypeError naming `fn`.
std::vector<int> dims_of(const Variable& x, const Axes& axes, const char* fn, SL where) {
  std::vector<int> dims;
  for (int a : axes.value_or(std::vector<int>{})) {
    if (a < -x.ndim() || a >= x.ndim())
      throw TypeError(fmt::format("{} at {}: axis {} is out of range for '{}' ({})", fn, ops::where_str(where), a,
                                  x.label(), x.type_str()));
    dims.push_back(a < 0 ? a + x.ndim() : a);
  }
  return dims;
}

Variable with_dims_set(const Variable& x, const Axes& axes, bool broadcastable, const char* fn, SL where) {
  ops::require_defined(x, fn, where);
  std::vector<bool> pattern = x.broadcastable();
  for (int d : dims_of(x, axes, fn, where)) pattern[d] = broadcastable;
  return patternbroadcast(x, pattern, where);
}

}  // namespace

Variable patternbroadcast(const Variable& x, const std::vector<bool>& pattern, SL where) {
  ops::require_defined(x, "patternbroadcast", where);
  if (pattern == x.broadcastable()) return x;
  ir::Attrs attrs;
  attrs.ints.assign(pattern.begin(), pattern.end());
  return ops::apply(ir::OpCode::Rebroadcast, {x}, std::move(attrs), where);
}

Variable addbroadcast(const Variable& x, Axes axes, SL where) {
  return with_dims_set(x, axes, true, "addbroadcast", where);
}

Variable unbroadcast(const Variable& x, Axes axes, SL where) {
  return with_dims_set(x, axes, false, "unbroadcast", where);
}

// Dims given but not broadcastable in x's type are declared so first (checked
// at run time), so dimshuffle may drop them.
Variable squeeze(const Variable& x, Axes axes, SL where) {
  ops::require_defined(x, "squeeze", where);
  const Variable y = axes ? addbroadcast(x, axes, where) : x;
  const std::vector<int> dropped = dims_of(x, axes, "squeeze", where);
  std::vector<std::int64_t> pattern;
  for (int d = 0; d < x.ndim(); ++d) {
    const bool drop = axes ? std::find(dropped.begin(), dropped.end(), d) != dropped.end() : x.broadcastable()[d];
    if (!drop) pattern.push_back(d);
  }
  return dimshuffle(y, pattern, where);
}

}  // namespace graphjit::tensor
