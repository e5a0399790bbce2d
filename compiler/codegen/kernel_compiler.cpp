#include "compiler/codegen/kernel_compiler.hpp"

#include "compiler/codegen/kernel_emitter.hpp"
#include "compiler/codegen/kernel_plan.hpp"
#include "compiler/codegen/runtime_helpers.hpp"
#include "compiler/jit/jit_engine.hpp"

#include <graphjit/runtime/config.hpp>

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/raw_ostream.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <ctime>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
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

// A kernel this call compiles: its plan under its final symbol, and its cache key.
struct NewKernel {
  std::size_t index;
  std::shared_ptr<const KernelPlan> plan;
  std::string key;
};

std::atomic<int> requested_compile_threads{0};

std::size_t compile_thread_count(std::size_t kernels) {
  return std::min(static_cast<std::size_t>(compile_threads()), std::max<std::size_t>(kernels, 1));
}

// The kernels split into `parts` groups of about equal IR size (the key, the
// kernel's IR text, measures it): largest first, each into the lightest group
// so far. Deterministic, so that a function's modules are the same each time.
std::vector<std::vector<const NewKernel*>> balance(const std::vector<NewKernel>& kernels, std::size_t parts) {
  std::vector<const NewKernel*> by_size;
  for (const NewKernel& k : kernels) by_size.push_back(&k);
  std::stable_sort(by_size.begin(), by_size.end(),
                   [](const NewKernel* a, const NewKernel* b) { return a->key.size() > b->key.size(); });
  std::vector<std::vector<const NewKernel*>> groups(parts);
  std::vector<std::size_t> load(parts, 0);
  for (const NewKernel* k : by_size) {
    const std::size_t lightest = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    groups[lightest].push_back(k);
    load[lightest] += k->key.size();
  }
  for (auto& group : groups)  // each module in kernel order, as one module was before
    std::sort(group.begin(), group.end(), [](const NewKernel* a, const NewKernel* b) { return a->index < b->index; });
  return groups;
}

// Emits a group's kernels into a module of its own (and its own context) and
// compiles it to an object file.
jit::ObjectCode compile_group(const std::vector<const NewKernel*>& group, const std::string& module_name,
                              jit::JitEngine& engine) {
  llvm::LLVMContext context;
  llvm::Module module(module_name, context);
  engine.prepare(module);
  for (const NewKernel* k : group) emit_kernel(*k->plan, module, engine.host());
  return engine.compile_object(module);
}

// Runs task(0) .. task(n - 1): task 0 on the calling thread, the others on
// threads of their own. Waits for all, then rethrows the failure of the
// lowest-numbered task, if any.
void run_on_threads(std::size_t n, const std::function<void(std::size_t)>& task) {
  std::vector<std::exception_ptr> failures(n);
  auto guarded = [&](std::size_t i) {
    try {
      task(i);
    } catch (...) {
      failures[i] = std::current_exception();
    }
  };
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < n; ++i) threads.emplace_back(guarded, i);
  guarded(0);
  for (std::thread& t : threads) t.join();
  for (const std::exception_ptr& failure : failures)
    if (failure) std::rethrow_exception(failure);
}

// The clusters' cache keys, built on compile_thread_count() threads (each
// key is an IR emission of its own). A bad cluster's error is the one a
// sequential loop would have thrown first.
std::vector<std::string> cache_keys(const std::vector<Cluster>& clusters, jit::JitEngine& engine) {
  const std::size_t n = clusters.size(), threads = compile_thread_count(n);
  std::vector<std::string> keys(n);
  std::vector<std::exception_ptr> failures(n);
  run_on_threads(threads, [&](std::size_t t) {
    for (std::size_t i = t; i < n; i += threads) try {
        keys[i] = ir_text(plan_kernel(clusters[i], "graphjit_kernel", engine.host().vector_bits), engine);
      } catch (...) {
        failures[i] = std::current_exception();
      }
  });
  for (const std::exception_ptr& failure : failures)
    if (failure) std::rethrow_exception(failure);
  return keys;
}

// Compiles the new kernels on compile_thread_count() threads, one module
// each, and loads the object files as one CompiledModule. With one thread,
// one module holds them all, compiled on the calling thread.
std::shared_ptr<const jit::CompiledModule> compile_new(const std::vector<NewKernel>& kernels,
                                                       const std::string& unique_name, jit::JitEngine& engine) {
  const auto start = std::chrono::steady_clock::now();
  const std::vector<std::vector<const NewKernel*>> groups = balance(kernels, compile_thread_count(kernels.size()));
  std::vector<jit::ObjectCode> objects(groups.size());
  run_on_threads(groups.size(), [&](std::size_t g) {
    const std::string name = groups.size() == 1 ? unique_name : unique_name + ".part" + std::to_string(g);
    objects[g] = compile_group(groups[g], name, engine);
  });
  jit::LlvmTimes times;
  for (const jit::ObjectCode& object : objects) times += object.times;
  std::vector<std::string> symbols;
  for (const NewKernel& k : kernels) symbols.push_back(k.plan->symbol);
  timespec cpu0{}, cpu1{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu0);
  std::shared_ptr<const jit::CompiledModule> code = engine.load(std::move(objects), unique_name, symbols);
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu1);
  times.codegen_ms += 1e3 * static_cast<double>(cpu1.tv_sec - cpu0.tv_sec) + 1e-6 * static_cast<double>(cpu1.tv_nsec - cpu0.tv_nsec);
  times.wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  jit::add_thread_llvm_times(times);
  return code;
}

}  // namespace

void set_compile_threads(int threads) {
  if (threads < 0) throw std::invalid_argument("set_compile_threads: the count must be >= 0, got " + std::to_string(threads));
  requested_compile_threads = threads;
}

int compile_threads() {
  if (const int requested = requested_compile_threads.load(); requested > 0) return requested;
  if (const int flag = config().compile_threads; flag > 0) return flag;
  // 8: a function rarely has enough kernels to keep more threads busy.
  return std::clamp(static_cast<int>(std::thread::hardware_concurrency()), 1, 8);
}

std::vector<exec::Kernel> compile_kernels(const std::vector<Cluster>& clusters, const std::string& module_name) {
  jit::JitEngine& engine = jit::JitEngine::instance();
  register_runtime_helpers(engine);
  KernelCache& cache = KernelCache::instance();
  const std::string unique_name = engine.unique_module_name(sanitize(module_name.empty() ? "graphjit" : module_name));
  const int bits = engine.host().vector_bits;

  std::vector<std::shared_ptr<const KernelPlan>> plans(clusters.size());
  std::vector<std::shared_ptr<const jit::CompiledModule>> codes(clusters.size());
  std::vector<NewKernel> fresh;
  std::unordered_map<std::string, std::size_t> first_with_key;  // duplicates within this call
  std::vector<std::size_t> same_as(clusters.size(), SIZE_MAX);
  std::vector<std::string> keys = cache_keys(clusters, engine);
  for (std::size_t i = 0; i < clusters.size(); ++i) {
    std::string& key = keys[i];
    if (auto hit = cache.find(key)) {
      plans[i] = std::make_shared<const KernelPlan>(plan_kernel(clusters[i], hit->second, bits));
      codes[i] = hit->first;
      continue;
    }
    if (auto dup = first_with_key.find(key); dup != first_with_key.end()) {
      same_as[i] = fresh[dup->second].index;
      plans[i] = std::make_shared<const KernelPlan>(plan_kernel(clusters[i], fresh[dup->second].plan->symbol, bits));
      continue;
    }
    std::string symbol = unique_name + ".k" + std::to_string(i);
    if (!clusters[i].name.empty()) symbol += "." + sanitize(clusters[i].name);
    plans[i] = std::make_shared<const KernelPlan>(plan_kernel(clusters[i], symbol, bits));
    first_with_key.emplace(key, fresh.size());
    fresh.push_back({i, plans[i], std::move(key)});
  }

  if (!fresh.empty()) {
    std::shared_ptr<const jit::CompiledModule> code = compile_new(fresh, unique_name, engine);
    for (const NewKernel& k : fresh) {
      codes[k.index] = code;
      cache.insert(k.key, code, k.plan->symbol);
    }
  }
  std::vector<exec::Kernel> kernels;
  for (std::size_t i = 0; i < clusters.size(); ++i) {
    const auto& code = same_as[i] == SIZE_MAX ? codes[i] : codes[same_as[i]];
    kernels.emplace_back(plans[i], code, reinterpret_cast<exec::Kernel::Entry>(code->address(plans[i]->symbol)));
  }
  return kernels;
}

}  // namespace graphjit::codegen
