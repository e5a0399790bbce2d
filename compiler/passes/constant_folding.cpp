// Constant folding: a node whose inputs are all constants is computed once,
// now, with its reference kernel, and becomes a constant.
//
// Not folded: ops with a side effect (Print must print when the function
// runs, not once while it compiles), Alloc (it only broadcasts a value; as a constant it would
// occupy memory for every element while the JIT fills it for free), results
// of more than kMaxFoldedElements elements (they would bloat the program),
// and nodes whose kernel throws (a constant subgraph with, say, a shape error
// keeps failing when the function runs, where the error is reported with the
// call's context).
#include "compiler/passes/passes.hpp"

#include "compiler/ir/op_info.hpp"
#include "compiler/passes/pattern.hpp"

#include <algorithm>
#include <exception>

namespace graphjit::compiler::passes {

namespace {

constexpr std::int64_t kMaxFoldedElements = 1 << 20;

bool worth_folding(const ir::Node& node) {
  const ir::OpInfo& info = ir::op_info(node.op);
  return info.kind != ir::OpKind::Leaf && node.op != ir::OpCode::Alloc && info.reference != nullptr &&
         !info.side_effect;
}

ir::NodeRef fold(const ir::NodeRef& node) {
  if (!worth_folding(*node)) return nullptr;
  std::vector<Tensor> values;
  for (const ir::NodeRef& in : node->inputs) {
    if (!is(in, ir::OpCode::Constant)) return nullptr;
    values.push_back(in->value);
  }
  const ir::OpInfo& info = ir::op_info(node->op);
  Tensor value;
  try {
    if (info.infer_shape && shape_numel(info.infer_shape(*node, values)) > kMaxFoldedElements) return nullptr;
    value = info.reference(*node, values);
  } catch (const std::exception&) {
    return nullptr;
  }
  if (value.dtype() != node->type.dtype || value.ndim() != node->type.ndim() || value.size() > kMaxFoldedElements)
    return nullptr;
  // A copy: the kernel may have returned a view of an input constant.
  auto folded = std::const_pointer_cast<ir::Node>(ir::make_constant(value.copy(), node->where));
  // make_constant calls every length-1 dim broadcastable; the node's Type may
  // not (a length-1 result of a general op), and a replacement keeps the Type.
  for (int d = 0; d < node->type.ndim(); ++d)
    if (node->type.broadcastable[d] && value.shape(d) != 1) return nullptr;
  folded->type = node->type;
  return folded;
}

constexpr Rule kRules[] = {{"fold_constant", fold}};

}  // namespace

Graph fold_constants(const Graph& roots) { return apply_rules(roots, kRules); }

}  // namespace graphjit::compiler::passes
