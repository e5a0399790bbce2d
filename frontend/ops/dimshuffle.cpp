// DimShuffle (Theano's x.dimshuffle(pattern)): reorders dims, drops
// broadcastable ones and inserts broadcastable ones ('x', written -1). The
// elementwise builders use it to line up ranks; transpose is one too.
#include "frontend/ops/op_support.hpp"

#include <graphjit/tensor.hpp>

#include <algorithm>
#include <fmt/format.h>

namespace graphjit::ir {

namespace {

constexpr std::int64_t kNewAxis = -1;

// Input dims that the pattern leaves out, in increasing order.
std::vector<int> dropped_dims(const Node& node) {
  std::vector<int> dropped;
  for (int d = 0; d < node.inputs[0]->type.ndim(); ++d)
    if (std::find(node.attrs.ints.begin(), node.attrs.ints.end(), d) == node.attrs.ints.end()) dropped.push_back(d);
  return dropped;
}

Type infer_type(const Node& node) {
  const Type& in = node.inputs[0]->type;
  std::vector<bool> seen(static_cast<std::size_t>(in.ndim()), false);
  Type out{in.dtype, {}};
  for (std::int64_t p : node.attrs.ints) {
    if (p == kNewAxis) {
      out.broadcastable.push_back(true);
      continue;
    }
    if (p < 0 || p >= in.ndim() || seen[p])
      ops::type_error(node, fmt::format("dimshuffle pattern entry {} is not a distinct dim of the input (ndim {})", p,
                                        in.ndim()));
    seen[p] = true;
    out.broadcastable.push_back(in.broadcastable[p]);
  }
  for (int d : dropped_dims(node))
    if (!in.broadcastable[d])
      ops::type_error(node, fmt::format("dimshuffle drops dim {}, which is not broadcastable; only length-1 "
                                        "(broadcastable) dims can be dropped",
                                        d));
  return out;
}

Tensor reference(const Node& node, const std::vector<Tensor>& inputs) {
  Tensor t = inputs[0];
  std::vector<int> dropped = dropped_dims(node);
  for (auto it = dropped.rbegin(); it != dropped.rend(); ++it) {
    if (t.shape(*it) != 1)
      ops::shape_error(node, inputs, fmt::format("dim {} is declared broadcastable but has length {}", *it, t.shape(*it)));
    t = t.squeeze(*it);
  }
  // After dropping, input dim d sits at d minus the dropped dims before it.
  std::vector<int> order;
  for (std::int64_t p : node.attrs.ints)
    if (p != kNewAxis)
      order.push_back(static_cast<int>(p - std::count_if(dropped.begin(), dropped.end(), [&](int d) { return d < p; })));
  t = t.permute(order);
  for (std::size_t i = 0; i < node.attrs.ints.size(); ++i)
    if (node.attrs.ints[i] == kNewAxis) t = t.expand_dims(static_cast<int>(i));
  return t;
}

Shape infer_shape(const Node& node, const std::vector<Tensor>& inputs) {
  Shape out;
  for (std::int64_t p : node.attrs.ints) out.push_back(p == kNewAxis ? 1 : inputs[0].shape(static_cast<int>(p)));
  return out;
}

// The output gradient, with the inserted dims summed away, put back in the input's order.
std::vector<Variable> grad(const Node& node, const Variable&, const Variable& g) {
  std::vector<int> new_axes;
  std::vector<std::int64_t> kept;
  for (std::size_t i = 0; i < node.attrs.ints.size(); ++i) {
    if (node.attrs.ints[i] == kNewAxis) new_axes.push_back(static_cast<int>(i));
    else kept.push_back(node.attrs.ints[i]);
  }
  Variable gk = new_axes.empty() ? g : tensor::sum(g, new_axes);
  // gk's dim j is input dim kept[j]; build the pattern that puts them back.
  std::vector<std::int64_t> back;
  for (int d = 0; d < node.inputs[0]->type.ndim(); ++d) {
    auto it = std::find(kept.begin(), kept.end(), d);
    back.push_back(it == kept.end() ? kNewAxis : it - kept.begin());
  }
  return {tensor::dimshuffle(gk, back)};
}

}  // namespace

void register_dimshuffle_op() {
  define_op(OpCode::DimShuffle, {infer_type, infer_shape, reference, grad, plain_native<reference>, /*view_of=*/0});
}

}  // namespace graphjit::ir

namespace graphjit::tensor {

Variable dimshuffle(const Variable& x, std::vector<std::int64_t> pattern, SL where) {
  bool identity = static_cast<int>(pattern.size()) == x.ndim();
  for (std::size_t i = 0; identity && i < pattern.size(); ++i) identity = pattern[i] == static_cast<std::int64_t>(i);
  if (identity) return x;
  ir::Attrs attrs;
  attrs.ints = std::move(pattern);
  return ops::apply(ir::OpCode::DimShuffle, {x}, std::move(attrs), where);
}

Variable transpose(const Variable& x, SL where) {
  std::vector<std::int64_t> pattern;
  for (int d = x.ndim() - 1; d >= 0; --d) pattern.push_back(d);
  return dimshuffle(x, pattern, where);
}

}  // namespace graphjit::tensor
