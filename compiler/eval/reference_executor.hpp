// Runs a program on the reference evaluator (Mode::reference).
#pragma once

#include "compiler/program.hpp"

namespace graphjit::eval {

class ReferenceExecutor final : public compiler::Executor {
 public:
  explicit ReferenceExecutor(compiler::Program program) : program_(std::move(program)) {}
  std::vector<Tensor> run(const std::vector<Tensor>& args) override;

 private:
  compiler::Program program_;
};

}  // namespace graphjit::eval
