#include "compiler/jit/jit_engine.hpp"

#include "compiler/jit/ir_dump.hpp"
#include "compiler/jit/optimizer.hpp"

#include <llvm/ExecutionEngine/Orc/Core.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/Support/Error.h>
#include <llvm/Support/SmallVectorMemoryBuffer.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include <graphjit/runtime/config.hpp>

#include <ctime>
#include <stdexcept>

namespace graphjit::jit {

namespace {

thread_local LlvmTimes llvm_times;

double thread_cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return 1e3 * static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_nsec);
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
  std::unique_ptr<llvm::TargetMachine> machine =
      take(builder.createTargetMachine(), "cannot create a target machine for the host");
  host_ = describe_target(builder, *machine);
  idle_machines_.push_back(std::move(machine));
  machine_builder_ = std::make_unique<llvm::orc::JITTargetMachineBuilder>(builder);
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

std::unique_ptr<llvm::TargetMachine> JitEngine::take_target_machine() {
  {
    std::lock_guard lock(machines_mutex_);
    if (!idle_machines_.empty()) {
      std::unique_ptr<llvm::TargetMachine> machine = std::move(idle_machines_.back());
      idle_machines_.pop_back();
      return machine;
    }
  }
  return take(machine_builder_->createTargetMachine(), "cannot create a target machine for the host");
}

void JitEngine::return_target_machine(std::unique_ptr<llvm::TargetMachine> machine) {
  std::lock_guard lock(machines_mutex_);
  idle_machines_.push_back(std::move(machine));
}

ObjectCode JitEngine::compile_object(llvm::Module& ir) {
  // A target machine is not safe to share between threads compiling at once.
  std::unique_ptr<llvm::TargetMachine> machine = take_target_machine();
  struct GiveBack {
    JitEngine& engine;
    std::unique_ptr<llvm::TargetMachine>& machine;
    ~GiveBack() { engine.return_target_machine(std::move(machine)); }
  } give_back{*this, machine};
  ObjectCode code;
  code.module_name = ir.getModuleIdentifier();
  const double start = thread_cpu_ms();

  dump_ir(ir, DumpStage::generated);
  std::string problems;
  llvm::raw_string_ostream problem_stream(problems);
  if (llvm::verifyModule(ir, &problem_stream))
    throw std::logic_error("graphjit code generator produced invalid LLVM IR for module '" + code.module_name +
                           "' (run with GRAPHJIT_FLAGS=dump_ir=true to see it):\n" + problems);
  optimize_module(ir, *machine, optimization_level());
  dump_ir(ir, DumpStage::optimized);
  dump_assembly(ir, *machine);
  const double optimized = thread_cpu_ms();
  code.times.optimize_ms = optimized - start;

  llvm::SmallVector<char, 0> bytes;
  llvm::raw_svector_ostream out(bytes);
  llvm::legacy::PassManager passes;
  if (machine->addPassesToEmitFile(passes, out, nullptr, llvm::CodeGenFileType::ObjectFile))
    throw std::runtime_error("graphjit JIT: this target cannot emit object files");
  passes.run(ir);
  code.object = std::make_unique<llvm::SmallVectorMemoryBuffer>(std::move(bytes), code.module_name, false);
  code.times.codegen_ms = thread_cpu_ms() - optimized;
  return code;
}

std::shared_ptr<CompiledModule> JitEngine::load(std::vector<ObjectCode> objects, const std::string& name,
                                                const std::vector<std::string>& symbols) {
  std::lock_guard lock(mutex_);
  const double start = thread_cpu_ms();
  auto compiled = std::shared_ptr<CompiledModule>(new CompiledModule(name));
  llvm::orc::ResourceTrackerSP tracker = jit_->getMainJITDylib().createResourceTracker();
  // Removing the code leaves its symbol names interned in the session's
  // string pool (each module's names are unique); they are dropped too, or
  // every compiled-and-destroyed function would leave a few KB behind.
  // (The pool locks itself; mutex_ may be held here, when load() fails.)
  compiled->unload_ = [this, tracker] {
    llvm::consumeError(tracker->remove());
    jit_->getExecutionSession().getSymbolStringPool()->clearDeadEntries();
  };
  for (ObjectCode& code : objects) {
    compiled->compile_ms_ += code.times.optimize_ms + code.times.codegen_ms;
    if (llvm::Error error = jit_->addObjectFile(tracker, std::move(code.object)))
      throw std::runtime_error("graphjit JIT: cannot add module '" + code.module_name + "': " +
                               error_text(std::move(error)));
  }
  // The first lookup links the objects.
  for (const std::string& symbol : symbols)
    compiled->addresses_[symbol] =
        take(jit_->lookup(symbol), ("cannot find '" + symbol + "' in module '" + name + "'").c_str()).toPtr<void*>();
  compiled->compile_ms_ += thread_cpu_ms() - start;
  return compiled;
}

LlvmTimes& LlvmTimes::operator+=(const LlvmTimes& more) {
  optimize_ms += more.optimize_ms;
  codegen_ms += more.codegen_ms;
  wall_ms += more.wall_ms;
  return *this;
}

void add_thread_llvm_times(const LlvmTimes& times) { llvm_times += times; }

ObjectCode::ObjectCode() = default;
ObjectCode::ObjectCode(ObjectCode&&) noexcept = default;
ObjectCode& ObjectCode::operator=(ObjectCode&&) noexcept = default;
ObjectCode::~ObjectCode() = default;

LlvmTimes thread_llvm_times() { return llvm_times; }

}  // namespace graphjit::jit
