#include "compiler/codegen/kernel_compiler.hpp"
#include "compiler/ir/op_info.hpp"
#include "compiler/lower/lower.hpp"

namespace graphjit::compiler::lower {

void compile_kernels(Schedule& schedule, const std::string& name) {
  if (!schedule.clusters.empty()) schedule.kernels = codegen::compile_kernels(schedule.clusters, name);
  // Native ops with code of their own to compile (scan's body) do it now, at
  // the function's compile time, not at its first call.
  for (const Step& step : schedule.steps)
    if (step.kind == Step::Kind::Native)
      if (const auto prepare = ir::op_info(step.node->op).prepare) prepare(*step.node);
}

}  // namespace graphjit::compiler::lower
