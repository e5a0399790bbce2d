#include "compiler/eval/reference_executor.hpp"

#include "compiler/eval/reference_evaluator.hpp"

namespace graphjit::eval {

std::vector<Tensor> ReferenceExecutor::run(const std::vector<Tensor>& args) {
  Values inputs;
  for (std::size_t i = 0; i < args.size(); ++i) inputs.emplace(program_.inputs[i].get(), args[i]);
  return evaluate(program_.outputs, inputs);
}

}  // namespace graphjit::eval
