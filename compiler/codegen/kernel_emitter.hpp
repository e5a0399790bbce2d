// The loop nest of one fused kernel, as an LLVM function.
//
// The function has the C signature
//   void kernel(void* const* pointers, const int64_t* shape, const int64_t* strides)
// pointers: one per plan operand, at its first element; shape: plan.loop_ndim
// extents; strides: operand-major, plan.loop_ndim per operand, in elements
// (entries for stride_zero dims are not read). Reductions accumulate into
// their output, which the caller fills with the identity first.
//
// The innermost loop steps plan.vector_width lanes at a time. While every
// operand moving along that dim has stride 1 (inputs: 1 or 0), steps whose
// lanes are all in range use plain vector loads and stores; other steps
// gather and scatter, with the lanes past the end masked off. A large
// computation (tanh, exp, ...) gets one general loop that chooses per step,
// all paths feeding a single copy of it, so the IR LLVM compiles stays
// small; the last step of a unit-stride row is masked there. A small one
// (adds, products, sums) gets two loops without per-step tests instead: full
// steps of unit-stride rows, then the rest by gathers. Inputs broadcast along
// the innermost dim are loaded once per row, by their type or, with stride 0
// at run time (a broadcast view), into a buffer the vector loads read;
// reductions over it accumulate in registers.
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
