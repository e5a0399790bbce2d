// Mode::debug (Theano's DebugMode): every call runs the reference evaluator
// on the user's graph and on the optimized graph, then the JIT, and compares.
// The first JIT-stored value that differs from the reference value of the
// same node is reported with its op, name and source line; then the final
// outputs are compared with the unoptimized graph's, which checks the
// rewrites. Like Theano's DebugMode (check_isfinite), a nan or an inf in a
// compiled step's result is an error too, naming the first op that produced
// one, even where the reference evaluator computes the same nan: log(-1) and
// dot(inf, w) are almost always bugs. Slow by design: for finding bugs, not for training.
#pragma once

#include "compiler/exec/executor.hpp"

namespace graphjit::exec {

class DebugExecutor final : public compiler::Executor {
 public:
  DebugExecutor(compiler::Program original, std::shared_ptr<const compiler::lower::Schedule> schedule,
                Watch watch = {});
  const ScheduleExecutor& jit() const { return jit_; }
  std::vector<Tensor> run(const std::vector<Tensor>& args) override;

 private:
  compiler::Program original_, optimized_;
  ScheduleExecutor jit_;
};

}  // namespace graphjit::exec
