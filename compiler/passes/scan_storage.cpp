// Scan's storage: a loop whose only output is read only at its last step
// (theano's pow(A, k)[-1], an RNN's h[-1] in a function that takes no
// gradient) keeps a ring of the states its taps reach instead of the whole
// history, and the output becomes that last state (one row).
//
//   scan_j(...)[-1]  ->  scan'_j(...)[-1]  where scan' stores the last state only
//
// Applies when the scan has one output (its other outputs would need a loop
// of their own) and the subtensor is its only reader; the gradient, which
// reads the whole history, keeps the full loop.
#include "compiler/passes/passes.hpp"

#include "compiler/ir/op_info.hpp"
#include "compiler/ir/scan_body.hpp"

#include <memory>

namespace graphjit::compiler::passes {

namespace {

using ir::NodeRef;
using ir::OpCode;

bool is_last_row(const ir::Node& subtensor) {
  if (subtensor.op != OpCode::Subtensor || subtensor.inputs.size() != 2 || subtensor.attrs.index.size() != 1 ||
      subtensor.attrs.index[0].kind != ir::IndexEntry::Scalar)
    return false;
  const ir::Node& index = *subtensor.inputs[1];
  return index.op == OpCode::Constant && index.value.size() == 1 && index.value.get({}) == -1;
}

std::shared_ptr<const ir::ScanBody> storing_last_only(const ir::ScanBody& body) {
  auto copy = std::make_shared<ir::ScanBody>();
  copy->sequences = body.sequences;
  copy->outputs = body.outputs;
  copy->outputs[0].last_only = true;
  copy->num_non_sequences = body.num_non_sequences;
  copy->inner_inputs = body.inner_inputs;
  copy->inner_outputs = body.inner_outputs;
  copy->truncate_gradient = body.truncate_gradient;
  copy->name = body.name;
  copy->where = body.where;
  return copy;
}

NodeRef last_state_only(const NodeRef& node) {
  if (!is_last_row(*node)) return nullptr;
  const NodeRef& scan = node->inputs[0];
  if (scan->op != OpCode::Scan || scan->attrs.scan->outputs.size() != 1 || scan->attrs.scan->outputs[0].last_only ||
      scan->attrs.scan->outputs[0].reversed_rows ||
      use_count(scan) != 1)
    return nullptr;
  ir::Attrs attrs = scan->attrs;
  attrs.scan = storing_last_only(*scan->attrs.scan);
  const NodeRef last = ir::make(OpCode::Scan, scan->inputs, attrs, scan->where);
  return rebuild_keeping_type(*node, {last, node->inputs[1]});
}

constexpr Rule kRules[] = {{"scan_last_state_only", last_state_only}};

}  // namespace

Graph scan_storage(const Graph& roots) { return apply_rules(roots, kRules); }

}  // namespace graphjit::compiler::passes
