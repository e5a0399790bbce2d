// The process-wide LLVM JIT: turns LLVM modules into machine code for this CPU.
//
// One ORC LLJIT serves the whole process. Each graphjit function hands over
// one module holding all its kernels, so LLVM's fixed per-module costs are
// paid once per function; the returned CompiledModule keeps that code alive
// and unloads it when the last user lets go.
//
// Options (graphjit::config(), flags in GRAPHJIT_FLAGS):
//   vector_bits=128|256|512  narrower vectors than the CPU has (read at start-up)
//   jit_cpu=haswell|x86-64|...  code for another, older CPU (read at start-up)
//   jit_opt_level=0..3  the IR pipeline, see optimizer.hpp (default 1; read at each compile)
//   dump_ir, dump_dir  see ir_dump.hpp (read at each compile)
//
// This header deliberately names LLVM types only by forward declaration:
// files that merely run kernels do not pay for LLVM's headers.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace llvm {
class LLVMContext;
class Module;
class TargetMachine;
namespace orc {
class LLJIT;
}  // namespace orc
}  // namespace llvm

namespace graphjit::jit {

// The wall time LLVM has spent on the calling thread so far, in its two
// parts: IR optimization (verification, the pass pipeline, IR dumps) and
// code emission (instruction selection to machine code in memory). The
// compile profile reads the difference around a function's compile_kernels
// stage; per thread, so that other threads' compiles do not count.
struct LlvmTimes {
  double optimize_ms = 0;
  double codegen_ms = 0;
};
LlvmTimes thread_llvm_times();

// Machine code for one module. Thread-safe to read; the code is removed from
// the JIT when this object is destroyed.
class CompiledModule {
 public:
  ~CompiledModule();
  CompiledModule(const CompiledModule&) = delete;
  CompiledModule& operator=(const CompiledModule&) = delete;

  // The entry point of a function the module defines (one of the names passed to compile()).
  void* address(const std::string& symbol) const;
  double compile_ms() const { return compile_ms_; }  // optimization + machine code generation

 private:
  friend class JitEngine;
  explicit CompiledModule(std::string name) : name_(std::move(name)) {}
  std::string name_;
  std::function<void()> unload_;  // removes the code from the JIT
  std::unordered_map<std::string, void*> addresses_;
  double compile_ms_ = 0;
};

// What the code generator needs to know about the machine it generates for.
struct HostTarget {
  std::string cpu;        // "znver4", "skylake-avx512", ...
  std::string features;   // "+avx2,+fma,..."
  int vector_bits = 128;  // widest SIMD register the kernels should use
};

class JitEngine {
 public:
  // The one engine. LLVM's targets are initialized on first use (thread-safe).
  static JitEngine& instance();

  const HostTarget& host() const { return host_; }

  // `base` made unique in this process ("base.7"). Symbols of all modules
  // share one namespace, so generated function names should start with it.
  std::string unique_module_name(const std::string& base);

  // Sets the module's target triple and data layout to the JIT's; call before emitting code.
  void prepare(llvm::Module& module) const;

  // Optimizes the module (new pass manager), generates machine code, and
  // looks up `symbols`, which must be functions the module defines. Dumps the
  // IR when config().dump_ir is set (see ir_dump.hpp). Thread-safe.
  std::shared_ptr<CompiledModule> compile(std::unique_ptr<llvm::LLVMContext> context,
                                          std::unique_ptr<llvm::Module> module,
                                          const std::vector<std::string>& symbols);

  // Makes `name` resolve to `address` in all modules compiled from now on:
  // how generated code calls C++ helpers. Defining the same name twice with
  // the same address is allowed.
  void define_runtime_symbol(const std::string& name, void* address);

  JitEngine(const JitEngine&) = delete;
  JitEngine& operator=(const JitEngine&) = delete;

 private:
  JitEngine();
  ~JitEngine();

  std::mutex mutex_;  // serializes compile() and define_runtime_symbol()
  HostTarget host_;
  std::unique_ptr<llvm::orc::LLJIT> jit_;
  std::unique_ptr<llvm::TargetMachine> optimizer_target_;  // target info for the IR optimizer
  std::unordered_map<std::string, void*> runtime_symbols_;
  std::uint64_t modules_named_ = 0;
};

}  // namespace graphjit::jit
