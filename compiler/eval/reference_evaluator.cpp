#include "compiler/eval/reference_evaluator.hpp"

#include "compiler/ir/graph.hpp"
#include "compiler/ir/op_info.hpp"
#include "compiler/ir/diagnostics.hpp"

#include <graphjit/errors.hpp>

namespace graphjit::eval {

std::vector<Tensor> evaluate(const std::vector<ir::NodeRef>& outputs, const Values& inputs,
                             const std::function<void(const ir::Node&, const Tensor&)>& on_node) {
  Values values;
  for (const ir::NodeRef& node : ir::toposort(outputs)) {
    Tensor value;
    if (node->op == ir::OpCode::Input) {
      auto it = inputs.find(node.get());
      if (it == inputs.end())
        throw FunctionError("the graph needs input '" + node->label() + "', which has no value");
      value = it->second;
    } else {
      std::vector<Tensor> args;
      args.reserve(node->inputs.size());
      for (const ir::NodeRef& in : node->inputs) args.push_back(values.at(in.get()));
      value = ir::run_reference(*node, args);
    }
    if (on_node) on_node(*node, value);
    values.emplace(node.get(), std::move(value));
  }
  std::vector<Tensor> result;
  for (const ir::NodeRef& out : outputs) result.push_back(values.at(out.get()));
  return result;
}

}  // namespace graphjit::eval
