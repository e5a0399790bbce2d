#include "compiler/jit/optimizer.hpp"

#include <llvm/IR/Module.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/Error.h>
#include <llvm/Target/TargetMachine.h>

#include <stdexcept>
#include <string>

namespace graphjit::jit {

namespace {
constexpr const char* kernel_pipeline =
    "function(early-cse<memssa>,instcombine<no-verify-fixpoint>,simplifycfg,loop-mssa(licm),gvn,"
    "instcombine<no-verify-fixpoint>,simplifycfg)";
}  // namespace

void optimize_module(llvm::Module& module, llvm::TargetMachine& target, int level) {
  if (level < 0 || level > 3)
    throw std::invalid_argument("optimize_module: level must be 0-3, got " + std::to_string(level));
  llvm::PipelineTuningOptions tuning;
  tuning.LoopVectorization = false;
  tuning.SLPVectorization = false;
  tuning.LoopInterleaving = false;
  tuning.LoopUnrolling = false;

  llvm::LoopAnalysisManager loops;
  llvm::FunctionAnalysisManager functions;
  llvm::CGSCCAnalysisManager sccs;
  llvm::ModuleAnalysisManager modules;
  llvm::PassBuilder builder(&target, tuning);
  builder.registerModuleAnalyses(modules);
  builder.registerCGSCCAnalyses(sccs);
  builder.registerFunctionAnalyses(functions);
  builder.registerLoopAnalyses(loops);
  builder.crossRegisterProxies(loops, functions, sccs, modules);

  llvm::ModulePassManager passes;
  switch (level) {
    case 0: passes = builder.buildO0DefaultPipeline(llvm::OptimizationLevel::O0); break;
    case 1:
      if (llvm::Error error = builder.parsePassPipeline(passes, kernel_pipeline))
        throw std::logic_error("optimize_module: bad kernel pipeline: " + llvm::toString(std::move(error)));
      break;
    case 2: passes = builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O2); break;
    case 3: passes = builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3); break;
  }
  passes.run(module, modules);
}

}  // namespace graphjit::jit
