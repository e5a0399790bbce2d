// Mode::debug (Theano's DebugMode): every call runs the reference evaluator
// on the user's graph and on the optimized graph, then the JIT, and compares.
// The first JIT-stored value that differs from the reference value of the
// same node is reported with its op, name and source line; then the final
// outputs are compared with the unoptimized graph's, which checks the
// rewrites. Slow by design: for finding bugs, not for training.
#pragma once

#include "compiler/lower/jit_executor.hpp"

namespace graphjit::compiler::lower {

class DebugExecutor final : public Executor {
 public:
  DebugExecutor(Program original, const Program& optimized);
  std::vector<Tensor> run(const std::vector<Tensor>& args) override;

 private:
  Program original_, optimized_;
  JitExecutor jit_;
};

}  // namespace graphjit::compiler::lower
