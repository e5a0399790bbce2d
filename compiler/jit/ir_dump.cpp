#include "compiler/jit/ir_dump.hpp"

#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/Transforms/Utils/Cloning.h>

#include <cstdlib>
#include <mutex>
#include <stdexcept>

namespace graphjit::jit {

namespace {

std::mutex override_mutex;
std::optional<std::string> override_spec;

// The effective setting: "" (off), "stderr", or a directory.
std::string dump_target() {
  std::string spec;
  {
    std::lock_guard lock(override_mutex);
    if (override_spec)
      spec = *override_spec;
    else if (const char* env = std::getenv("GRAPHJIT_DUMP_IR"))
      spec = env;
  }
  if (spec == "0") return "";
  if (spec == "1") return "stderr";
  return spec;
}

std::unique_ptr<llvm::raw_fd_ostream> open_in(const std::string& directory, const std::string& file) {
  if (std::error_code ec = llvm::sys::fs::create_directories(directory))
    throw std::runtime_error("GRAPHJIT_DUMP_IR: cannot create directory '" + directory + "': " + ec.message());
  std::error_code ec;
  auto out = std::make_unique<llvm::raw_fd_ostream>(directory + "/" + file, ec);
  if (ec) throw std::runtime_error("GRAPHJIT_DUMP_IR: cannot write '" + directory + "/" + file + "': " + ec.message());
  return out;
}

}  // namespace

void set_ir_dump(std::optional<std::string> spec) {
  std::lock_guard lock(override_mutex);
  override_spec = std::move(spec);
}

void dump_ir(const llvm::Module& module, DumpStage stage) {
  const std::string target = dump_target();
  if (target.empty()) return;
  const bool optimized = stage == DumpStage::optimized;
  const std::string name = module.getModuleIdentifier();
  if (target == "stderr") {
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
    throw std::runtime_error("GRAPHJIT_DUMP_IR: this target cannot print assembly");
  passes.run(*copy);
}

}  // namespace graphjit::jit
