// The process-wide LLVM JIT: turns LLVM modules into machine code for this CPU.
//
// One ORC LLJIT serves the whole process. Compiling is split in two so that
// a function's kernels can be compiled on several threads at once:
// compile_object() optimizes a module and generates its machine code as an
// object file (any thread, no lock, a target machine of its own), and load()
// links a function's object files into the JIT under one resource tracker.
// The returned CompiledModule keeps that code alive and unloads it when the
// last user lets go.
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
class MemoryBuffer;
class Module;
class TargetMachine;
namespace orc {
class JITTargetMachineBuilder;
class LLJIT;
}  // namespace orc
}  // namespace llvm

namespace graphjit::jit {

// The time LLVM has spent on the calling thread's compiles so far: the CPU
// time of its two parts, summed over every thread that compiled one of its
// modules (IR optimization: verification, the pass pipeline, IR dumps; code
// generation: instruction selection to an object file, then linking it into
// the JIT), and the wall time the calling thread waited for both. The compile
// profile reads the difference around a function's compile_kernels stage;
// per calling thread, so that other user threads' compiles do not count.
struct LlvmTimes {
  double optimize_ms = 0;
  double codegen_ms = 0;
  double wall_ms = 0;
  LlvmTimes& operator+=(const LlvmTimes& more);
};
LlvmTimes thread_llvm_times();
// Adds a compile's cost to the calling thread's account (compile_kernels
// does, for all the modules of a function).
void add_thread_llvm_times(const LlvmTimes& times);

// One module's machine code as an object file, ready for JitEngine::load().
struct ObjectCode {
  std::unique_ptr<llvm::MemoryBuffer> object;
  std::string module_name;
  LlvmTimes times;  // optimize_ms and codegen_ms: CPU time of the thread that compiled it
  ObjectCode();
  ObjectCode(ObjectCode&&) noexcept;
  ObjectCode& operator=(ObjectCode&&) noexcept;
  ~ObjectCode();
};

// Machine code for the modules of one load(). Thread-safe to read; the code is removed from
// the JIT when this object is destroyed.
class CompiledModule {
 public:
  ~CompiledModule();
  CompiledModule(const CompiledModule&) = delete;
  CompiledModule& operator=(const CompiledModule&) = delete;

  // The entry point of a function the modules define (one of the names passed to load()).
  void* address(const std::string& symbol) const;
  // Optimization + machine code generation: CPU time summed over the
  // threads that compiled the objects, and the linking.
  double compile_ms() const { return compile_ms_; }

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

  // Verifies and optimizes the module (new pass manager, config().jit_opt_level)
  // and generates its machine code as an object file. Dumps the IR when
  // config().dump_ir is set (see ir_dump.hpp). Thread-safe and lock-free:
  // several threads compile modules (each in its own LLVMContext) at once.
  ObjectCode compile_object(llvm::Module& module);

  // Links the objects into the JIT and looks up `symbols`, which must be
  // functions they define. `name` names the result in error messages. On
  // failure nothing stays loaded. Thread-safe.
  std::shared_ptr<CompiledModule> load(std::vector<ObjectCode> objects, const std::string& name,
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

  // A target machine for one compile: from the idle ones, or a new one.
  std::unique_ptr<llvm::TargetMachine> take_target_machine();
  void return_target_machine(std::unique_ptr<llvm::TargetMachine> machine);

  std::mutex mutex_;  // serializes load() and define_runtime_symbol()
  HostTarget host_;
  std::unique_ptr<llvm::orc::JITTargetMachineBuilder> machine_builder_;
  std::unique_ptr<llvm::orc::LLJIT> jit_;
  std::mutex machines_mutex_;
  std::vector<std::unique_ptr<llvm::TargetMachine>> idle_machines_;  // one per compile at a time, reused
  std::unordered_map<std::string, void*> runtime_symbols_;
  std::uint64_t modules_named_ = 0;
};

}  // namespace graphjit::jit
