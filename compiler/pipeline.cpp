// The compiler's steps, in order:
//   1. passes::optimize   graph rewrites for the mode (compiler/passes/)
//   2. expand_for_fusion  softmax & co. written as elementwise + reductions
//   3. JitExecutor        fusion, scheduling, in-place updates, LLVM codegen
// Mode::reference skips all of them and runs the reference evaluator.
#include "compiler/pipeline.hpp"

#include "compiler/eval/reference_executor.hpp"
#include "compiler/lower/debug_executor.hpp"
#include "compiler/lower/expand.hpp"
#include "compiler/lower/jit_executor.hpp"
#include "compiler/passes/optimize.hpp"

#include <chrono>

namespace graphjit::compiler {

Compiled compile(Program program, const FunctionOptions& options) {
  Compiled result;
  if (options.mode == Mode::reference) {
    // Runs no rewrite, but checks options.excluded_passes like every mode.
    program = passes::optimize(std::move(program), options);
    result.optimized = program;
    result.executor = std::make_unique<eval::ReferenceExecutor>(std::move(program));
    return result;
  }
  Program original = program;
  const auto rewrite_start = std::chrono::steady_clock::now();
  program = passes::optimize(std::move(program), options);
  result.rewrite_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - rewrite_start).count();
  program.outputs = lower::expand_for_fusion(program.outputs);
  result.optimized = program;  // what debugprint(function) shows: the graph the executor runs
  if (options.mode == Mode::debug) result.executor = std::make_unique<lower::DebugExecutor>(std::move(original), program);
  else result.executor = std::make_unique<lower::JitExecutor>(program);
  return result;
}

}  // namespace graphjit::compiler
