// R-operators (forward mode, Theano's R_op) for the differentiable ops, in
// their records (OpInfo::rop). Three kinds:
//   - elementwise ops: sum_i d out/d x_i * t_i, the partial derivatives taken
//     from the op's own gradient with an output gradient of ones, as Theano's
//     Elemwise.R_op does (each input first broadcast to the output's shape,
//     so the gradient's sum over broadcast dims is the identity);
//   - ops linear in some inputs (sum, reshape, dimshuffle, indexing,
//     concatenate, alloc, ifelse, identities): the same op on the tangents;
//   - the rest by hand: dot, softmax, log_softmax, softmax_grad, max and min.
// Ops without one (Rop says so): prod, gemm,
// categorical_crossentropy, and the integer and random ops (no derivative).
#include "frontend/ops/op_support.hpp"

#include <graphjit/ifelse.hpp>
#include <graphjit/tensor.hpp>

namespace graphjit::ir {

namespace {

Variable zeros_for(const Node& node, std::size_t i) { return tensor::zeros_like(ops::input(node, i)); }

// A float input broadcast to the output's pattern (a no-op when it already
// has it). Other inputs have no tangent, and their pattern does not change
// the float inputs' partial derivatives.
Variable broadcast_to_output(const Node& node, std::size_t i, const Variable& output) {
  const Variable x = ops::input(node, i);
  if (!is_float(x.dtype()) || x.broadcastable() == output.broadcastable()) return x;
  return x + tensor::cast(tensor::zeros_like(output), x.dtype());
}

Variable elemwise_rop(const Node& node, const Variable& output, const std::vector<Variable>& tangents) {
  std::vector<NodeRef> inputs;
  for (std::size_t i = 0; i < node.inputs.size(); ++i) inputs.push_back(broadcast_to_output(node, i, output).node());
  const NodeRef full = rebuild(node, inputs);
  const Variable full_out(full);
  const std::vector<Variable> partials = op_info(node.op).grad(*full, full_out, tensor::ones_like(full_out));
  Variable sum;
  for (std::size_t i = 0; i < tangents.size(); ++i) {
    if (!tangents[i].defined() || i >= partials.size() || !partials[i].defined()) continue;
    const Variable term = partials[i] * tangents[i];
    sum = sum.defined() ? sum + term : term;
  }
  if (!sum.defined()) return tensor::zeros_like(output);
  return sum.dtype() == output.dtype() ? sum : tensor::cast(sum, output.dtype());
}

// The op applied to the tangents of its `linear` inputs (zeros where a tangent
// is missing), its other inputs unchanged.
template <std::size_t... Linear> Variable linear_rop(const Node& node, const Variable&, const std::vector<Variable>& t) {
  std::vector<NodeRef> inputs = node.inputs;
  for (std::size_t i : {Linear...}) inputs[i] = (t[i].defined() ? t[i] : zeros_for(node, i)).node();
  return Variable(rebuild(node, inputs));
}

// Concatenate: linear in every input.
Variable all_linear_rop(const Node& node, const Variable&, const std::vector<Variable>& t) {
  std::vector<NodeRef> inputs;
  for (std::size_t i = 0; i < node.inputs.size(); ++i) inputs.push_back((t[i].defined() ? t[i] : zeros_for(node, i)).node());
  return Variable(rebuild(node, inputs));
}

// Print and the gradient-control ops pass their input through.
Variable identity_rop(const Node& node, const Variable&, const std::vector<Variable>& t) {
  return t[0].defined() ? t[0] : zeros_for(node, 0);
}

Variable dot_rop(const Node& node, const Variable&, const std::vector<Variable>& t) {
  const Variable a = ops::input(node, 0), b = ops::input(node, 1);
  Variable r;
  if (t[0].defined()) r = tensor::dot(t[0], b);
  if (t[1].defined()) r = r.defined() ? r + tensor::dot(a, t[1]) : tensor::dot(a, t[1]);
  return r;
}

// y = softmax(x): dy = y * (t - sum(y * t)) along the last axis.
Variable softmax_rop(const Node& node, const Variable& y, const std::vector<Variable>& t) {
  if (!t[0].defined()) return zeros_for(node, 0);
  const int last = y.ndim() - 1;
  return y * (t[0] - tensor::sum(y * t[0], std::vector<int>{last}, true));
}

// y = log_softmax(x): dy = t - sum(exp(y) * t) along the last axis.
Variable log_softmax_rop(const Node& node, const Variable& y, const std::vector<Variable>& t) {
  if (!t[0].defined()) return zeros_for(node, 0);
  const int last = y.ndim() - 1;
  return t[0] - tensor::sum(tensor::exp(y) * t[0], std::vector<int>{last}, true);
}

// softmax_grad(gy, y) = (gy - sum(gy * y)) * y along the last axis: bilinear in (gy, y).
Variable softmax_grad_rop(const Node& node, const Variable&, const std::vector<Variable>& t) {
  const Variable gy = ops::input(node, 0), y = ops::input(node, 1);
  const Variable tgy = t[0].defined() ? t[0] : tensor::zeros_like(gy), ty = t[1].defined() ? t[1] : tensor::zeros_like(y);
  const std::vector<int> last{y.ndim() - 1};
  const Variable inner = gy - tensor::sum(gy * y, last, true);
  const Variable d_inner = tgy - tensor::sum(tgy * y + gy * ty, last, true);
  return d_inner * y + inner * ty;
}

// max/min: the tangents at the extremum, summed where several elements tie
// (the gradient, extremum_grad in reduce.cpp, sends g to all of them too).
Variable extremum_rop(const Node& node, const Variable&, const std::vector<Variable>& t) {
  const Variable x = ops::input(node, 0);
  Attrs keep = node.attrs;
  keep.keepdims = true;
  const Variable extremum(make(node.op, {x.node()}, keep, node.where));
  const Variable at = tensor::cast(tensor::eq(x, extremum), x.dtype());
  const Variable dx = t[0].defined() ? t[0] : tensor::zeros_like(x);
  return Variable(make(OpCode::Sum, {(dx * at).node()}, node.attrs, node.where));
}

}  // namespace

#define GRAPHJIT_OP(Name, printed, kind, arity) OpCode::Name,
constexpr OpCode kAllOps[] = {
#include "compiler/ir/ops.def"
};
#undef GRAPHJIT_OP

// Runs after every family has registered its ops (op_library.cpp).
void register_rops() {
  for (OpCode op : kAllOps) {
    OpInfo& info = define_op(op);
    if (info.kind == OpKind::Elemwise && info.grad) info.rop = elemwise_rop;
  }
  define_op(OpCode::Sum).rop = linear_rop<0>;
  define_op(OpCode::DimShuffle).rop = linear_rop<0>;
  define_op(OpCode::Reshape).rop = linear_rop<0>;
  define_op(OpCode::Subtensor).rop = linear_rop<0>;
  define_op(OpCode::AdvancedSubtensor).rop = linear_rop<0>;
  define_op(OpCode::IncSubtensor).rop = linear_rop<0, 1>;
  define_op(OpCode::AdvancedIncSubtensor).rop = linear_rop<0, 1>;
  define_op(OpCode::Alloc).rop = linear_rop<0>;
  define_op(OpCode::IfElse).rop = linear_rop<1, 2>;
  define_op(OpCode::Concatenate).rop = all_linear_rop;
  define_op(OpCode::Repeat).rop = linear_rop<0>;  // issue 8: shape and construction
  define_op(OpCode::SplitPart).rop = linear_rop<0>;
  define_op(OpCode::Rebroadcast).rop = linear_rop<0>;
  define_op(OpCode::Print).rop = identity_rop;
  define_op(OpCode::GradControl).rop = identity_rop;
  define_op(OpCode::Max).rop = extremum_rop;
  define_op(OpCode::Min).rop = extremum_rop;
  define_op(OpCode::Dot).rop = dot_rop;
  define_op(OpCode::Softmax).rop = softmax_rop;
  define_op(OpCode::LogSoftmax).rop = log_softmax_rop;
  define_op(OpCode::SoftmaxGrad).rop = softmax_grad_rop;
}

}  // namespace graphjit::ir
