// Whole-graph utilities: ordering, ancestry and substitution.
#pragma once

#include "compiler/ir/node.hpp"

#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace graphjit::ir {

// Every node the outputs depend on, each once, inputs before users.
std::vector<NodeRef> toposort(const std::vector<NodeRef>& outputs);

// The nodes among `nodes` reachable from `outputs`.
std::unordered_set<const Node*> ancestors(const std::vector<NodeRef>& outputs);

using Replacements = std::unordered_map<const Node*, NodeRef>;
// The outputs with every node in `replace` swapped for its replacement, and
// every node above a swapped one rebuilt on its new inputs. Nodes that do not
// change are shared with the original graph.
std::vector<NodeRef> clone_replace(const std::vector<NodeRef>& outputs, const Replacements& replace);

}  // namespace graphjit::ir
