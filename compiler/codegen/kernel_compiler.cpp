#include "compiler/codegen/kernel_compiler.hpp"

#include "compiler/codegen/kernel_emitter.hpp"
#include "compiler/codegen/kernel_plan.hpp"
#include "compiler/codegen/runtime_helpers.hpp"
#include "compiler/jit/jit_engine.hpp"

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <cctype>
#include <memory>

namespace graphjit::codegen {

namespace {
// Symbol and file names: letters, digits, '_' and '.'.
std::string sanitize(const std::string& name) {
  std::string out;
  for (char c : name) out += std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' ? c : '_';
  return out;
}
}  // namespace

std::vector<Kernel> compile_kernels(const std::vector<Cluster>& clusters, const std::string& module_name) {
  jit::JitEngine& engine = jit::JitEngine::instance();
  register_runtime_helpers(engine);

  auto context = std::make_unique<llvm::LLVMContext>();
  const std::string unique_name = engine.unique_module_name(sanitize(module_name.empty() ? "graphjit" : module_name));
  auto module = std::make_unique<llvm::Module>(unique_name, *context);
  engine.prepare(*module);

  std::vector<std::shared_ptr<const KernelPlan>> plans;
  std::vector<std::string> symbols;
  for (std::size_t i = 0; i < clusters.size(); ++i) {
    std::string symbol = unique_name + ".k" + std::to_string(i);
    if (!clusters[i].name.empty()) symbol += "." + sanitize(clusters[i].name);
    auto plan = std::make_shared<const KernelPlan>(plan_kernel(clusters[i], symbol, engine.host().vector_bits));
    emit_kernel(*plan, *module, engine.host());
    plans.push_back(plan);
    symbols.push_back(symbol);
  }

  std::shared_ptr<const jit::CompiledModule> code = engine.compile(std::move(context), std::move(module), symbols);
  std::vector<Kernel> kernels;
  for (std::size_t i = 0; i < plans.size(); ++i)
    kernels.emplace_back(plans[i], code, reinterpret_cast<Kernel::Entry>(code->address(symbols[i])));
  return kernels;
}

}  // namespace graphjit::codegen
