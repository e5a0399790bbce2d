// The graph rewrites, one function per pass. Each takes the roots of a
// program's graph (outputs, then update values) and returns the roots of an
// equivalent graph with the same Types; nodes it leaves alone are shared.
// optimize.cpp runs them in order; tests call them one by one.
#pragma once

#include "compiler/passes/rewrite.hpp"

namespace graphjit::compiler::passes {

// Common subexpressions and equal constants become one node (merge.cpp).
Graph merge(const Graph& roots);
// Nodes whose inputs are all constants become constants (constant_folding.cpp).
Graph fold_constants(const Graph& roots);
// Algebraic identities and one normal form per expression (canonicalize.cpp).
Graph canonicalize(const Graph& roots);
// Numerically unstable expressions become stable equivalents (stabilize.cpp).
Graph stabilize(const Graph& roots);
// The stabilize rules T::grad applies to a cost before differentiating it.
Graph stabilize_before_grad(const Graph& roots);
// Matrix products with an added or scaled term become Gemm (gemm.cpp).
Graph insert_gemm(const Graph& roots);
// A scan read only at its last step keeps only its last states (scan_storage.cpp).
Graph scan_storage(const Graph& roots);

}  // namespace graphjit::compiler::passes
