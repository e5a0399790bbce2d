#include "compiler/pipeline.hpp"

#include "compiler/eval/reference_executor.hpp"
#include "compiler/passes/optimize.hpp"

namespace graphjit::compiler {

Compiled compile(Program program, const FunctionOptions& options) {
  program = passes::optimize(std::move(program), options);
  Compiled result;
  result.optimized = program;
  result.executor = std::make_unique<eval::ReferenceExecutor>(std::move(program));
  return result;
}

}  // namespace graphjit::compiler
