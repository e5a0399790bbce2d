// Graphs as text: Theano's debugprint listing, and the one-line form of a
// node the schedule printer and error messages use. frontend's debugprint is
// a thin wrapper over this.
#pragma once

#include "compiler/ir/node.hpp"

#include <string>
#include <vector>

namespace graphjit::ir {

// "tanh", "sum{axis=1}", "gemm{trans_a, alpha=-0.1, beta=1}", "x", "{0.5}".
std::string op_head(const Node& node);

// One line per node: op, name, type and id; a subtree seen before is printed
// once and referred to by its id afterwards. `titles`, if given, is printed
// before the root of the same index (e.g. "update of 'W':").
std::string debugprint(const std::vector<NodeRef>& roots, const std::vector<std::string>& titles = {});

}  // namespace graphjit::ir
