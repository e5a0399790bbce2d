// Gradient control (theano.gradient): ops that pass their input through
// unchanged and change only what flows back through them.
//   zero_grad(x)          the gradient is zeros (x stays connected)
//   disconnected_grad(x)  no gradient: x is disconnected from the cost
//   grad_clip(x, lo, hi)  the gradient is clipped to [lo, hi]
//   grad_scale(x, m)      the gradient is multiplied by m
// (consider_constant is a grad() option, graphjit/grad.hpp.) Compiled, each is
// a view of its input.
#include "frontend/ops/op_support.hpp"

#include <graphjit/grad_control.hpp>
#include <graphjit/tensor.hpp>

#include <fmt/format.h>

namespace graphjit::ir {

namespace {

enum Kind : std::int64_t { kZero, kDisconnected, kClip, kScale };
constexpr const char* kNames[] = {"zero_grad", "disconnected_grad", "grad_clip", "grad_scale"};
constexpr std::size_t kArity[] = {1, 1, 3, 2};

Type control_type(const Node& node) {
  const std::int64_t kind = node.attrs.ints.at(0);
  if (node.inputs.size() != kArity[kind])
    ops::type_error(node, fmt::format("{} takes {} inputs", kNames[kind], kArity[kind]));
  for (std::size_t i = 1; i < node.inputs.size(); ++i)
    if (node.inputs[i]->type.ndim() != 0)
      ops::type_error(node, fmt::format("{}: input {} must be a scalar, got {}", kNames[kind], i, node.inputs[i]->type.str()));
  return node.inputs[0]->type;
}

Shape control_shape(const Node&, const std::vector<Tensor>& inputs) { return inputs[0].shape(); }

Tensor control_reference(const Node&, const std::vector<Tensor>& inputs) { return inputs[0]; }

std::vector<Variable> control_grad(const Node& node, const Variable&, const Variable& g) {
  const Variable x = ops::input(node, 0);
  switch (node.attrs.ints.at(0)) {
    case kZero: return {tensor::zeros_like(x)};
    case kDisconnected: return {Variable()};
    case kClip: return {tensor::clip(g, ops::input(node, 1), ops::input(node, 2)), Variable(), Variable()};
    default: return {g * ops::input(node, 1), Variable()};
  }
}

}  // namespace

void register_grad_control_op() {
  define_op(OpCode::GradControl,
            {control_type, control_shape, control_reference, control_grad, plain_native<control_reference>, /*view_of=*/0});
}

}  // namespace graphjit::ir

namespace graphjit {

namespace {

const Variable& defined(const Variable& x, std::int64_t kind, std::source_location where) {
  if (!x.defined())
    throw TypeError(fmt::format("{} at {}: the input is an undefined Variable", ir::kNames[kind], ops::where_str(where)));
  return x;
}

Variable control(std::int64_t kind, std::vector<Variable> inputs, std::source_location where) {
  ir::Attrs attrs;
  attrs.ints = {kind};
  return ops::apply(ir::OpCode::GradControl, inputs, std::move(attrs), where);
}

Variable scalar_like(const Operand& o, const Variable& x) { return o.var.defined() ? o.var : operand_constant(o, x.dtype()); }

}  // namespace

Variable zero_grad(const Variable& x, std::source_location where) {
  return control(ir::kZero, {defined(x, ir::kZero, where)}, where);
}
Variable disconnected_grad(const Variable& x, std::source_location where) {
  return control(ir::kDisconnected, {defined(x, ir::kDisconnected, where)}, where);
}
Variable grad_clip(const Variable& x, const Operand& lower, const Operand& upper, std::source_location where) {
  defined(x, ir::kClip, where);
  return control(ir::kClip, {x, scalar_like(lower, x), scalar_like(upper, x)}, where);
}
Variable grad_scale(const Variable& x, const Operand& multiplier, std::source_location where) {
  defined(x, ir::kScale, where);
  return control(ir::kScale, {x, scalar_like(multiplier, x)}, where);
}

}  // namespace graphjit
