// Graphs as text: Theano's debugprint listing (a node's one-line form is
// Node::head()). frontend's debugprint is a thin wrapper over this.
#pragma once

#include "compiler/ir/node.hpp"

#include <string>
#include <vector>

namespace graphjit::ir {

// One line per node: op, name, type and id; a subtree seen before is printed
// once and referred to by its id afterwards. `titles`, if given, is printed
// before the root of the same index (e.g. "update of 'W':").
std::string debugprint(const std::vector<NodeRef>& roots, const std::vector<std::string>& titles = {});

}  // namespace graphjit::ir
