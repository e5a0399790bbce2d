// Leaves of the graph: symbolic inputs, constants and shared variables. Their
// type is set when they are made; their value comes from the call's
// arguments, the node itself, or the shared variable's current value.
#include "frontend/ops/op_support.hpp"

#include <graphjit/shared.hpp>

namespace graphjit::ir {

void register_leaf_ops() {
  for (OpCode op : {OpCode::Input, OpCode::Constant, OpCode::Shared}) {
    OpInfo& info = define_op(op);
    info.infer_type = [](const Node& node) { return node.type; };
  }
  define_op(OpCode::Constant).reference = [](const Node& node, const std::vector<Tensor>&) { return node.value; };
  define_op(OpCode::Shared).reference = [](const Node& node, const std::vector<Tensor>&) { return node.shared->value; };
  define_op(OpCode::Input).reference = [](const Node& node, const std::vector<Tensor>&) -> Tensor {
    throw FunctionError("input '" + node.label() + "' has no value: pass it as an argument of the function");
  };
}

}  // namespace graphjit::ir
