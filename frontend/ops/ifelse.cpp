// IfElse (Theano's ifelse): the value of `then` when the scalar `cond` is
// true, else of `else`, computing only the branch taken. The op itself just
// picks a value; laziness comes from the guards (compiler/ir/branch_guards.hpp):
// the nodes only one branch needs are skipped by the reference evaluator and
// by the schedule's executor when that branch is not taken, so the input of
// the other branch arrives undefined. switch_ stays elementwise and eager.
#include "frontend/ops/op_support.hpp"

#include <graphjit/ifelse.hpp>
#include <graphjit/tensor.hpp>

#include <fmt/format.h>
#include <stdexcept>

namespace graphjit::ir {

namespace {

Type ifelse_type(const Node& node) {
  const Type &cond = node.inputs[0]->type, &a = node.inputs[1]->type, &b = node.inputs[2]->type;
  if (cond.ndim() != 0) ops::type_error(node, fmt::format("the condition must be a scalar, got {}", cond.str()));
  if (a.dtype != b.dtype || a.ndim() != b.ndim())
    ops::type_error(node, fmt::format("the branches must have the same type, got {} and {}; cast one of them",
                                      a.str(), b.str()));
  Type out = a;
  for (std::size_t d = 0; d < out.broadcastable.size(); ++d) out.broadcastable[d] = a.broadcastable[d] && b.broadcastable[d];
  return out;
}

const Tensor& taken(const Node& node, const std::vector<Tensor>& inputs) {
  const std::size_t branch = inputs[0].item<double>() != 0 ? 1 : 2;
  if (!inputs[branch].defined())
    throw std::logic_error(fmt::format("graphjit internal error: {} took branch {} but it was not computed",
                                       ops::describe(node), branch));
  return inputs[branch];
}

Shape ifelse_shape(const Node& node, const std::vector<Tensor>& inputs) { return taken(node, inputs).shape(); }

Tensor ifelse_reference(const Node& node, const std::vector<Tensor>& inputs) { return taken(node, inputs).copy(); }

// A copy: the output may be either input, and view_of names one.
Tensor ifelse_native(const Node& node, const std::vector<Tensor>& inputs, OutputMemory& memory) {
  const Tensor& value = taken(node, inputs);
  Tensor out = memory.get(value.shape(), node.type.dtype);
  out.assign(value);
  return out;
}

// Each branch gets the gradient when it is taken and zeros otherwise.
std::vector<Variable> ifelse_grad(const Node& node, const Variable&, const Variable& g) {
  const Variable cond = ops::input(node, 0), a = ops::input(node, 1), b = ops::input(node, 2);
  Variable ga, gb;
  if (is_float(a.dtype())) ga = ifelse(cond, g, tensor::zeros_like(a));
  if (is_float(b.dtype())) gb = ifelse(cond, tensor::zeros_like(b), g);
  return {Variable(), ga, gb};
}

}  // namespace

void register_ifelse_op() {
  define_op(OpCode::IfElse, {ifelse_type, ifelse_shape, ifelse_reference, ifelse_grad, NativeKernel(ifelse_native)});
}

}  // namespace graphjit::ir

namespace graphjit {

Variable ifelse(const Variable& cond, const Operand& then_branch, const Operand& else_branch, std::source_location where) {
  if (!cond.defined()) throw TypeError(fmt::format("ifelse at {}: the condition is an undefined Variable", ops::where_str(where)));
  const auto [a, b] = operand_pair(then_branch, else_branch);
  return ops::apply(ir::OpCode::IfElse, {cond, a, b}, {}, where);
}

}  // namespace graphjit
