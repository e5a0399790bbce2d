#include "compiler/codegen/kernel_compiler.hpp"

#include "compiler/codegen/kernel_emitter.hpp"
#include "compiler/codegen/kernel_plan.hpp"
#include "compiler/codegen/runtime_helpers.hpp"
#include "compiler/jit/jit_engine.hpp"

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/raw_ostream.h>

#include <cctype>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace graphjit::codegen {

namespace {

// Symbol and file names: letters, digits, '_' and '.'.
std::string sanitize(const std::string& name) {
  std::string out;
  for (char c : name) out += std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' ? c : '_';
  return out;
}

// Kernels compiled in this process, by the text of their unoptimized IR
// (emitted under one fixed symbol name): two clusters with the same text are
// the same machine code, whatever graphs they came from. Entries do not keep
// code alive: a kernel whose functions are all gone is compiled again.
class KernelCache {
 public:
  struct Entry {
    std::weak_ptr<const jit::CompiledModule> code;
    std::string symbol;
  };
  static KernelCache& instance() {
    static KernelCache cache;
    return cache;
  }
  std::optional<std::pair<std::shared_ptr<const jit::CompiledModule>, std::string>> find(const std::string& key) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    auto code = it->second.code.lock();
    if (!code) {
      entries_.erase(it);
      return std::nullopt;
    }
    return std::make_pair(code, it->second.symbol);
  }
  void insert(const std::string& key, const std::shared_ptr<const jit::CompiledModule>& code, const std::string& symbol) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = entries_.begin(); it != entries_.end();)  // forget unloaded code as we go
      it = it->second.code.expired() ? entries_.erase(it) : std::next(it);
    entries_[key] = Entry{code, symbol};
  }

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
};

std::string ir_text(const KernelPlan& plan, const jit::JitEngine& engine) {
  llvm::LLVMContext context;
  context.setDiscardValueNames(true);  // values are named after graph nodes, which differ between graphs
  llvm::Module module("key", context);
  engine.prepare(module);
  emit_kernel(plan, module, engine.host());
  std::string text;
  llvm::raw_string_ostream os(text);
  module.print(os, nullptr);
  return text;
}

}  // namespace

std::vector<exec::Kernel> compile_kernels(const std::vector<Cluster>& clusters, const std::string& module_name) {
  jit::JitEngine& engine = jit::JitEngine::instance();
  register_runtime_helpers(engine);
  KernelCache& cache = KernelCache::instance();

  auto context = std::make_unique<llvm::LLVMContext>();
  const std::string unique_name = engine.unique_module_name(sanitize(module_name.empty() ? "graphjit" : module_name));
  auto module = std::make_unique<llvm::Module>(unique_name, *context);
  engine.prepare(*module);

  struct Pending {
    std::size_t index;
    std::string key, symbol;
  };
  std::vector<std::shared_ptr<const KernelPlan>> plans(clusters.size());
  std::vector<std::shared_ptr<const jit::CompiledModule>> codes(clusters.size());
  std::vector<std::string> symbols(clusters.size());
  std::vector<Pending> pending;
  std::unordered_map<std::string, std::size_t> first_with_key;  // duplicates within this module
  std::vector<std::size_t> same_as(clusters.size(), SIZE_MAX);
  for (std::size_t i = 0; i < clusters.size(); ++i) {
    const int bits = engine.host().vector_bits;
    std::string key = ir_text(plan_kernel(clusters[i], "graphjit_kernel", bits), engine);
    if (auto hit = cache.find(key)) {
      plans[i] = std::make_shared<const KernelPlan>(plan_kernel(clusters[i], hit->second, bits));
      codes[i] = hit->first;
      symbols[i] = hit->second;
      continue;
    }
    if (auto dup = first_with_key.find(key); dup != first_with_key.end()) {
      same_as[i] = dup->second;
      plans[i] = std::make_shared<const KernelPlan>(plan_kernel(clusters[i], symbols[dup->second], bits));
      symbols[i] = symbols[dup->second];
      continue;
    }
    std::string symbol = unique_name + ".k" + std::to_string(i);
    if (!clusters[i].name.empty()) symbol += "." + sanitize(clusters[i].name);
    plans[i] = std::make_shared<const KernelPlan>(plan_kernel(clusters[i], symbol, bits));
    emit_kernel(*plans[i], *module, engine.host());
    symbols[i] = symbol;
    first_with_key.emplace(key, i);
    pending.push_back({i, std::move(key), symbol});
  }

  if (!pending.empty()) {
    std::vector<std::string> new_symbols;
    for (const Pending& p : pending) new_symbols.push_back(p.symbol);
    std::shared_ptr<const jit::CompiledModule> code = engine.compile(std::move(context), std::move(module), new_symbols);
    for (const Pending& p : pending) {
      codes[p.index] = code;
      cache.insert(p.key, code, p.symbol);
    }
  }
  std::vector<exec::Kernel> kernels;
  for (std::size_t i = 0; i < clusters.size(); ++i) {
    const auto& code = same_as[i] == SIZE_MAX ? codes[i] : codes[same_as[i]];
    kernels.emplace_back(plans[i], code, reinterpret_cast<exec::Kernel::Entry>(code->address(symbols[i])));
  }
  return kernels;
}

}  // namespace graphjit::codegen
