// Showing users what the code generator made.
//
// config().dump_ir (flag dump_ir) turns it on; config().dump_dir says where:
//   dump_dir empty     each module's LLVM IR before and after optimization, on stderr
//   dump_dir set       that directory (created if missing) receives, per module,
//                      <module>.ll (as generated), <module>.opt.ll (optimized)
//                      and <module>.s (the machine code as assembly)
#pragma once


namespace llvm {
class Module;
class TargetMachine;
}  // namespace llvm

namespace graphjit::jit {

enum class DumpStage { generated, optimized };

// Writes the module's IR where the settings say, if anywhere.
void dump_ir(const llvm::Module& module, DumpStage stage);
// Writes the module's assembly when dumping to a directory (on stderr it would drown the IR).
void dump_assembly(const llvm::Module& module, llvm::TargetMachine& target);

}  // namespace graphjit::jit
