#include "compiler/lower/expand.hpp"

#include "compiler/passes/pattern.hpp"

namespace graphjit::compiler::lower {

namespace {

using ir::NodeRef;
using ir::OpCode;
using passes::make_like;  // new nodes carry the replaced node's source line

// Over the last axis, kept, so the result broadcasts against rows.
NodeRef over_rows(const ir::Node& old, OpCode reduction, const NodeRef& x) {
  ir::Attrs attrs;
  attrs.axes = {x->type.ndim() - 1};
  attrs.keepdims = true;
  return make_like(old, reduction, {x}, attrs);
}

NodeRef expand_softmax(const NodeRef& n) {
  if (n->op != OpCode::Softmax) return nullptr;
  const NodeRef& x = n->inputs[0];
  const NodeRef e = make_like(*n, OpCode::Exp, {make_like(*n, OpCode::Sub, {x, over_rows(*n, OpCode::Max, x)})});
  return make_like(*n, OpCode::TrueDiv, {e, over_rows(*n, OpCode::Sum, e)});
}

NodeRef expand_log_softmax(const NodeRef& n) {
  if (n->op != OpCode::LogSoftmax) return nullptr;
  const NodeRef& x = n->inputs[0];
  const NodeRef d = make_like(*n, OpCode::Sub, {x, over_rows(*n, OpCode::Max, x)});
  const NodeRef log_sum = make_like(*n, OpCode::Log, {over_rows(*n, OpCode::Sum, make_like(*n, OpCode::Exp, {d}))});
  return make_like(*n, OpCode::Sub, {d, log_sum});
}

NodeRef expand_softmax_grad(const NodeRef& n) {
  if (n->op != OpCode::SoftmaxGrad) return nullptr;
  const NodeRef &g = n->inputs[0], &y = n->inputs[1];
  const NodeRef gy = make_like(*n, OpCode::Mul, {g, y});
  return make_like(*n, OpCode::Mul, {make_like(*n, OpCode::Sub, {g, over_rows(*n, OpCode::Sum, gy)}), y});
}

constexpr passes::Rule kRules[] = {
    {"expand_softmax", expand_softmax},
    {"expand_log_softmax", expand_log_softmax},
    {"expand_softmax_grad", expand_softmax_grad},
};

}  // namespace

passes::Graph expand_for_fusion(const passes::Graph& roots) { return passes::apply_rules(roots, kRules); }

}  // namespace graphjit::compiler::lower
