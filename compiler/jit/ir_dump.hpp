// Showing users what the code generator made.
//
// GRAPHJIT_DUMP_IR (or set_ir_dump, which takes precedence) selects:
//   unset, "" or "0"   nothing
//   "1" or "stderr"    each module's LLVM IR before and after optimization, on stderr
//   any other value    a directory (created if missing) that receives, per module,
//                      <module>.ll (as generated), <module>.opt.ll (optimized)
//                      and <module>.s (the machine code as assembly)
#pragma once

#include <optional>
#include <string>

namespace llvm {
class Module;
class TargetMachine;
}  // namespace llvm

namespace graphjit::jit {

// Overrides the environment variable for this process; nullopt returns to it.
void set_ir_dump(std::optional<std::string> spec);

enum class DumpStage { generated, optimized };

// Writes the module's IR where the settings say, if anywhere.
void dump_ir(const llvm::Module& module, DumpStage stage);
// Writes the module's assembly when dumping to a directory (on stderr it would drown the IR).
void dump_assembly(const llvm::Module& module, llvm::TargetMachine& target);

}  // namespace graphjit::jit
