// The IR optimization pipeline the JIT runs on every module (new pass manager).
#pragma once

namespace llvm {
class Module;
class TargetMachine;
}  // namespace llvm

namespace graphjit::jit {

// Runs LLVM's standard per-module pipeline at `level` (0-3). The code
// generator vectorizes kernels itself, so LLVM's loop and SLP vectorizers are
// switched off: they would only spend compile time re-deriving what the
// kernels already say.
void optimize_module(llvm::Module& module, llvm::TargetMachine& target, int level);

}  // namespace graphjit::jit
