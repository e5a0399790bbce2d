// Before fusion: ops the code generator has no kernel for, but that are
// elementwise work and reductions underneath, are written out as such, so
// the fusion pass can put them in loops with their neighbours.
//
//   softmax(x)          e = exp(x - max(x, -1)), e / sum(e, -1)
//   log_softmax(x)      d = x - max(x, -1), d - log(sum(exp(d), -1))
//   softmax_grad(g, y)  (g - sum(g * y, -1)) * y
//
// The results equal the reference kernels' up to rounding (same formulas).
#pragma once

#include "compiler/passes/rewrite.hpp"

namespace graphjit::compiler::lower {

passes::Graph expand_for_fusion(const passes::Graph& roots);

}  // namespace graphjit::compiler::lower
