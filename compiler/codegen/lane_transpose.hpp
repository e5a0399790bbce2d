// A square block of lanes transposed in registers: rows[i] lane j becomes
// result[j] lane i. Row lanes (kernel_emitter.cpp) use it to turn vector_width
// short rows, loaded whole, into one vector per column, and back.
#pragma once

#include <llvm/IR/IRBuilder.h>

#include <vector>

namespace graphjit::codegen {

// `rows` holds n vectors of n lanes each, n a power of two.
std::vector<llvm::Value*> transpose_lanes(llvm::IRBuilder<>& b, std::vector<llvm::Value*> rows);

}  // namespace graphjit::codegen
