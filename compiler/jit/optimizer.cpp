#include "compiler/jit/optimizer.hpp"

#include <llvm/IR/Module.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Target/TargetMachine.h>

#include <stdexcept>
#include <string>

namespace graphjit::jit {

void optimize_module(llvm::Module& module, llvm::TargetMachine& target, int level) {
  llvm::OptimizationLevel opt;
  switch (level) {
    case 0: opt = llvm::OptimizationLevel::O0; break;
    case 1: opt = llvm::OptimizationLevel::O1; break;
    case 2: opt = llvm::OptimizationLevel::O2; break;
    case 3: opt = llvm::OptimizationLevel::O3; break;
    default: throw std::invalid_argument("optimize_module: level must be 0-3, got " + std::to_string(level));
  }
  llvm::PipelineTuningOptions tuning;
  tuning.LoopVectorization = false;
  tuning.SLPVectorization = false;
  tuning.LoopInterleaving = false;
  // Unrolling would copy each kernel's body (its exp/tanh/log polynomials)
  // several times for little gain on out-of-order cores.
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

  llvm::ModulePassManager passes = opt == llvm::OptimizationLevel::O0
                                       ? builder.buildO0DefaultPipeline(opt)
                                       : builder.buildPerModuleDefaultPipeline(opt);
  passes.run(module, modules);
}

}  // namespace graphjit::jit
