// The LLVM IR for each elementwise op: the one place that knows what every
// fusable op computes. Its switch lists every OpCode, so a new op that is
// not handled here is a -Wswitch warning, not a silent gap.
#pragma once

#include "compiler/codegen/llvm_dtype.hpp"
#include "compiler/ir/node.hpp"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>

#include <vector>

namespace graphjit::codegen {

// Emits `node` applied to `args` (one per node input, in the inputs' dtypes,
// all of the same lane count) and returns the result in node.type.dtype.
// `module` receives declarations of the helpers some ops call.
TypedValue emit_elemwise(llvm::IRBuilder<>& b, llvm::Module& module, const ir::Node& node,
                         const std::vector<TypedValue>& args);

}  // namespace graphjit::codegen
