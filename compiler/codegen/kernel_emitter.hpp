// The loop nest of one fused kernel, as an LLVM function.
//
// The function has the C signature
//   void kernel(void* const* pointers, const int64_t* shape, const int64_t* strides)
// pointers: one per plan operand, at its first element; shape: plan.loop_ndim
// extents; strides: operand-major, plan.loop_ndim per operand, in elements
// (entries for stride_zero dims are not read). Reductions accumulate into
// their output, which the caller fills with the identity first.
//
// The innermost dim runs in two loops: a vector loop of plan.vector_width
// lanes, taken when every operand that moves along that dim has stride 1,
// and a scalar loop for the remainder, which handles any strides. Reductions
// over the innermost dim accumulate in registers.
#pragma once

#include "compiler/codegen/kernel_plan.hpp"
#include "compiler/jit/jit_engine.hpp"

namespace llvm {
class Function;
class Module;
}  // namespace llvm

namespace graphjit::codegen {

llvm::Function* emit_kernel(const KernelPlan& plan, llvm::Module& module, const jit::HostTarget& host);

}  // namespace graphjit::codegen
