// Sums over steps moved after the backward loop (scan_step_sums.hpp).
#include "frontend/ops/scan_step_sums.hpp"

#include "compiler/ir/graph.hpp"

#include <graphjit/tensor.hpp>

namespace graphjit::ir {

namespace {

bool is_linear_link(const Node& n) {
  return n.op == OpCode::Sum || n.op == OpCode::DimShuffle || n.op == OpCode::Cast;
}

bool is_transpose(const Node& n) {
  return n.op == OpCode::DimShuffle && n.attrs.ints == std::vector<std::int64_t>{1, 0};
}

// The terms of an Add tree whose adds keep their operands' type (no broadcasting).
void split_sum(const NodeRef& g, std::vector<NodeRef>& terms) {
  if (g->op == OpCode::Add && g->inputs[0]->type == g->type && g->inputs[1]->type == g->type) {
    split_sum(g->inputs[0], terms);
    split_sum(g->inputs[1], terms);
    return;
  }
  terms.push_back(g);
}

Variable stack_rows(const Variable& x) {  // (T, B, n) -> (T*B, n)
  return x.reshape({x.shape(0) * x.shape(1), x.shape(2)});
}

}  // namespace

std::optional<std::vector<StepSumTerm>> step_sum_terms(const NodeRef& g, const std::function<bool(const NodeRef&)>& stored) {
  std::vector<NodeRef> terms;
  split_sum(g, terms);
  std::vector<StepSumTerm> out;
  for (const NodeRef& term : terms) {
    NodeRef base = term;
    while (is_linear_link(*base) && !stored(base)) base = base->inputs[0];
    const bool product = base->op == OpCode::Dot && is_transpose(*base->inputs[0]) &&
                         base->inputs[0]->inputs[0]->type.ndim() == 2 && base->inputs[1]->type.ndim() == 2;
    if (product) {
      out.push_back({term, base, {base->inputs[0]->inputs[0], base->inputs[1]}});
    } else if (stored(base) && is_float(base->type.dtype)) {
      out.push_back({term, base, {base}});
    } else {
      return std::nullopt;
    }
  }
  return out;
}

Variable sum_over_steps(const StepSumTerm& term, const std::vector<Variable>& stacked) {
  const Variable total = term.product() ? tensor::dot(stack_rows(stacked[0]).T(), stack_rows(stacked[1]))
                                        : tensor::sum(stacked[0], std::vector<int>{0});
  if (term.term == term.base) return total;
  return Variable(clone_replace({term.term}, {{term.base.get(), total.node()}}).front());
}

}  // namespace graphjit::ir
