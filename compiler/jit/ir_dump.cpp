#include "compiler/jit/ir_dump.hpp"

#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/Transforms/Utils/Cloning.h>

#include <graphjit/runtime/config.hpp>

#include <mutex>
#include <stdexcept>
#include <string>

namespace graphjit::jit {

namespace {

// The effective setting: "" (off), "stderr", or a directory.
std::string dump_target() {
  const Config& options = config();
  if (!options.dump_ir) return "";
  return options.dump_dir.empty() ? "stderr" : options.dump_dir;
}

std::unique_ptr<llvm::raw_fd_ostream> open_in(const std::string& directory, const std::string& file) {
  if (std::error_code ec = llvm::sys::fs::create_directories(directory))
    throw std::runtime_error("dump_ir: cannot create directory '" + directory + "': " + ec.message());
  std::error_code ec;
  auto out = std::make_unique<llvm::raw_fd_ostream>(directory + "/" + file, ec);
  if (ec) throw std::runtime_error("dump_ir: cannot write '" + directory + "/" + file + "': " + ec.message());
  return out;
}

}  // namespace

void dump_ir(const llvm::Module& module, DumpStage stage) {
  const std::string target = dump_target();
  if (target.empty()) return;
  const bool optimized = stage == DumpStage::optimized;
  const std::string name = module.getModuleIdentifier();
  if (target == "stderr") {
    // Modules compiled on several threads at once print one after the other.
    static std::mutex stderr_mutex;
    std::lock_guard lock(stderr_mutex);
    llvm::errs() << "; ==== graphjit module " << name << (optimized ? " (optimized)" : " (as generated)") << " ====\n";
    module.print(llvm::errs(), nullptr);
    return;
  }
  module.print(*open_in(target, name + (optimized ? ".opt.ll" : ".ll")), nullptr);
}

void dump_assembly(const llvm::Module& module, llvm::TargetMachine& target) {
  const std::string where = dump_target();
  if (where.empty() || where == "stderr") return;
  // Code generation consumes the module it runs on; the JIT needs the original.
  std::unique_ptr<llvm::Module> copy = llvm::CloneModule(module);
  auto out = open_in(where, module.getModuleIdentifier() + ".s");
  llvm::legacy::PassManager passes;
  if (target.addPassesToEmitFile(passes, *out, nullptr, llvm::CodeGenFileType::AssemblyFile))
    throw std::runtime_error("dump_ir: this target cannot print assembly");
  passes.run(*copy);
}

}  // namespace graphjit::jit
