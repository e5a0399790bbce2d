// The IR optimization pipeline the JIT runs on every module (new pass manager).
#pragma once

namespace llvm {
class Module;
class TargetMachine;
}  // namespace llvm

namespace graphjit::jit {

// Optimizes the module at `level`:
//   0  nothing (LLVM's O0 pipeline)
//   1  the kernel pipeline: CSE, instruction combining, hoisting of loop
//      invariants, CFG cleanup. The default: the code generator emits loops
//      that are already vectorized and in loop form, so the rest of LLVM's
//      pipeline finds nothing to improve but costs 5x the compile time.
//   2, 3  LLVM's O2/O3 pipelines, for comparison and for hand-written IR
// LLVM's loop and SLP vectorizers and loop unrolling stay off at every level:
// the kernels are vectorized by construction, and unrolling would copy each
// kernel body (exp/tanh/log polynomials included) for little gain on
// out-of-order cores.
void optimize_module(llvm::Module& module, llvm::TargetMachine& target, int level);

}  // namespace graphjit::jit
