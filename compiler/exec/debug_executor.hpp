// Mode::debug (Theano's DebugMode): every call runs the reference evaluator
// on the user's graph and on the optimized graph, then the JIT, and compares.
// The first JIT-stored value that differs from the reference value of the
// same node is reported with its op, name and source line; then the final
// outputs are compared with the unoptimized graph's, which checks the
// rewrites. Slow by design: for finding bugs, not for training.
#pragma once

#include "compiler/exec/executor.hpp"

namespace graphjit::exec {

class DebugExecutor final : public compiler::Executor {
 public:
  DebugExecutor(compiler::Program original, std::shared_ptr<const compiler::lower::Schedule> schedule);
  std::vector<Tensor> run(const std::vector<Tensor>& args) override;

 private:
  compiler::Program original_, optimized_;
  ScheduleExecutor jit_;
};

}  // namespace graphjit::exec
