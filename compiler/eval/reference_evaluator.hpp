// The reference evaluator: runs a graph node by node with each op's reference
// kernel. It is simple on purpose: it is the
// oracle every rewrite and the JIT are tested against.
#pragma once

#include "compiler/ir/node.hpp"

#include <functional>
#include <unordered_map>
#include <vector>

namespace graphjit::eval {

using Values = std::unordered_map<const ir::Node*, Tensor>;

// Values of `outputs`, given the values of the graph's Input nodes. Shared
// variables read their current value; constants their own. `on_node`, if set,
// sees every node's value as it is computed (debug mode compares with it).
std::vector<Tensor> evaluate(const std::vector<ir::NodeRef>& outputs, const Values& inputs,
                             const std::function<void(const ir::Node&, const Tensor&)>& on_node = {});

}  // namespace graphjit::eval
