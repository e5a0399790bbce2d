// When two nodes compute the same value by construction: the same op with the
// same attrs and Type, applied to the very same input nodes. Merge joins such
// nodes; the rewrite engine remembers what it rewrote them to.
#pragma once

#include "compiler/ir/node.hpp"

#include <cstddef>

namespace graphjit::ir {

// For nodes with inputs. Leaves are compared by what they hold (merge.cpp),
// not by this.
std::size_t hash_computation(const Node& n);
bool same_computation(const Node& a, const Node& b);

// Containers keyed by computation (std::unordered_map<NodeRef, V, ComputationHash, SameComputation>).
struct ComputationHash {
  std::size_t operator()(const NodeRef& n) const { return hash_computation(*n); }
};
struct SameComputation {
  bool operator()(const NodeRef& a, const NodeRef& b) const { return a == b || same_computation(*a, *b); }
};

}  // namespace graphjit::ir
