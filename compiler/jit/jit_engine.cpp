#include "compiler/jit/jit_engine.hpp"

#include "compiler/jit/ir_dump.hpp"
#include "compiler/jit/optimizer.hpp"

#include <llvm/ExecutionEngine/Orc/Core.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/Support/Error.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include <graphjit/runtime/config.hpp>

#include <chrono>
#include <stdexcept>

namespace graphjit::jit {

namespace {

thread_local LlvmTimes llvm_times;

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

std::string error_text(llvm::Error error) {
  std::string text;
  llvm::raw_string_ostream out(text);
  out << error;
  return text;
}

template <class T> T take(llvm::Expected<T> value, const char* what) {
  if (!value) throw std::runtime_error(std::string("graphjit JIT: ") + what + ": " + error_text(value.takeError()));
  return std::move(*value);
}

// See optimizer.hpp; the flag jit_opt_level overrides the default.
int optimization_level() {
  check_config(config());
  return config().jit_opt_level;
}

// What the kernels may use, as the target machine sees it (so that an
// overridden CPU is described by its own features, not the host's).
HostTarget describe_target(const llvm::orc::JITTargetMachineBuilder& builder, const llvm::TargetMachine& target) {
  HostTarget host;
  host.cpu = builder.getCPU();
  host.features = builder.getFeatures().getString();
  const llvm::MCSubtargetInfo& info = *target.getMCSubtargetInfo();
  host.vector_bits = info.checkFeatures("+avx512f") ? 512 : info.checkFeatures("+avx") ? 256 : 128;
  // For experiments and for machines where wide vectors slow the clock down
  // (flag vector_bits, checked by check_config).
  const int requested = config().vector_bits;
  if (requested != 0 && requested < host.vector_bits) host.vector_bits = requested;
  return host;
}

}  // namespace

CompiledModule::~CompiledModule() {
  if (unload_) unload_();
}

void* CompiledModule::address(const std::string& symbol) const {
  auto it = addresses_.find(symbol);
  if (it == addresses_.end())
    throw std::invalid_argument("CompiledModule '" + name_ + "' has no function '" + symbol +
                                "' (only the symbols passed to JitEngine::compile are looked up)");
  return it->second;
}

JitEngine& JitEngine::instance() {
  // Never destroyed: compiled modules held by static objects may be released
  // during exit, after a static engine would already be gone.
  static JitEngine* engine = new JitEngine();
  return *engine;
}

JitEngine::JitEngine() {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::InitializeNativeTargetAsmParser();

  auto builder = take(llvm::orc::JITTargetMachineBuilder::detectHost(), "cannot describe the host CPU");
  builder.setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  // jit_cpu=haswell (or x86-64, ...) generates code for an older CPU than the
  // host: how the other code paths get tested on a new machine.
  check_config(config());
  if (const std::string& cpu = config().jit_cpu; !cpu.empty()) {
    builder.setCPU(cpu);
    builder.setFeatures("");
  }
  optimizer_target_ = take(builder.createTargetMachine(), "cannot create a target machine for the host");
  host_ = describe_target(builder, *optimizer_target_);
  jit_ = take(llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(builder).create(), "cannot create the JIT");
  // Generated code may call libm (pow, fmod) and the C library.
  jit_->getMainJITDylib().addGenerator(
      take(llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(jit_->getDataLayout().getGlobalPrefix()),
           "cannot search the process for symbols"));
}

JitEngine::~JitEngine() = default;

std::string JitEngine::unique_module_name(const std::string& base) {
  std::lock_guard lock(mutex_);
  return base + "." + std::to_string(++modules_named_);
}

void JitEngine::prepare(llvm::Module& module) const {
  module.setDataLayout(jit_->getDataLayout());
  module.setTargetTriple(jit_->getTargetTriple().str());
}

void JitEngine::define_runtime_symbol(const std::string& name, void* address) {
  std::lock_guard lock(mutex_);
  auto [it, inserted] = runtime_symbols_.emplace(name, address);
  if (!inserted) {
    if (it->second != address)
      throw std::logic_error("JitEngine::define_runtime_symbol: '" + name + "' is already defined at another address");
    return;
  }
  llvm::orc::SymbolMap symbols;
  symbols[jit_->mangleAndIntern(name)] = llvm::orc::ExecutorSymbolDef(
      llvm::orc::ExecutorAddr::fromPtr(address), llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable);
  if (llvm::Error error = jit_->getMainJITDylib().define(llvm::orc::absoluteSymbols(std::move(symbols))))
    throw std::runtime_error("graphjit JIT: cannot define runtime symbol '" + name +
                             "': " + error_text(std::move(error)));
}

std::shared_ptr<CompiledModule> JitEngine::compile(std::unique_ptr<llvm::LLVMContext> context,
                                                   std::unique_ptr<llvm::Module> module,
                                                   const std::vector<std::string>& symbols) {
  // Owned together from here on: a module must be destroyed before its
  // context, which two unique_ptr parameters do not guarantee when anything
  // below throws (a bad GRAPHJIT_JIT_OPT_LEVEL crashed the process).
  llvm::orc::ThreadSafeModule owned(std::move(module), std::move(context));
  llvm::Module& ir = *owned.getModuleUnlocked();
  std::lock_guard lock(mutex_);
  const auto start = std::chrono::steady_clock::now();
  const std::string name = ir.getModuleIdentifier();

  dump_ir(ir, DumpStage::generated);
  std::string problems;
  llvm::raw_string_ostream problem_stream(problems);
  if (llvm::verifyModule(ir, &problem_stream))
    throw std::logic_error("graphjit code generator produced invalid LLVM IR for module '" + name + "' (run with " +
                           "GRAPHJIT_FLAGS=dump_ir=true to see it):\n" + problems);
  optimize_module(ir, *optimizer_target_, optimization_level());
  dump_ir(ir, DumpStage::optimized);
  dump_assembly(ir, *optimizer_target_);
  const double optimize_ms = ms_since(start);
  llvm_times.optimize_ms += optimize_ms;

  auto compiled = std::shared_ptr<CompiledModule>(new CompiledModule(name));
  llvm::orc::ResourceTrackerSP tracker = jit_->getMainJITDylib().createResourceTracker();
  if (llvm::Error error = jit_->addIRModule(tracker, std::move(owned)))
    throw std::runtime_error("graphjit JIT: cannot add module '" + name + "': " + error_text(std::move(error)));
  // Removing the code leaves its symbol names interned in the session's
  // string pool (each module's names are unique); they are dropped too, or
  // every compiled-and-destroyed function would leave a few KB behind.
  // (The pool locks itself; mutex_ may be held here, when compile() fails.)
  compiled->unload_ = [this, tracker] {
    llvm::consumeError(tracker->remove());
    jit_->getExecutionSession().getSymbolStringPool()->clearDeadEntries();
  };
  // The first lookup generates machine code for the whole module.
  for (const std::string& symbol : symbols)
    compiled->addresses_[symbol] =
        take(jit_->lookup(symbol), ("cannot find '" + symbol + "' in module '" + name + "'").c_str()).toPtr<void*>();
  compiled->compile_ms_ = ms_since(start);
  llvm_times.codegen_ms += compiled->compile_ms_ - optimize_ms;
  return compiled;
}

LlvmTimes thread_llvm_times() { return llvm_times; }

}  // namespace graphjit::jit
