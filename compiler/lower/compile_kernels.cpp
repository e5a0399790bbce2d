#include "compiler/codegen/kernel_compiler.hpp"
#include "compiler/lower/lower.hpp"

namespace graphjit::compiler::lower {

void compile_kernels(Schedule& schedule, const std::string& name) {
  if (!schedule.clusters.empty()) schedule.kernels = codegen::compile_kernels(schedule.clusters, name);
}

}  // namespace graphjit::compiler::lower
