// A function's whole computation as one graph, and what runs it.
//
// frontend/function.cpp builds a Program from the user's inputs, outputs,
// updates and givens; compiler/pipeline.cpp rewrites it and picks an
// Executor for the function's mode.
#pragma once

#include "compiler/ir/node.hpp"

#include <graphjit/runtime/shared_state.hpp>

#include <memory>
#include <vector>

namespace graphjit::compiler {

struct Program {
  std::vector<ir::NodeRef> inputs;   // Input nodes, in argument order
  std::vector<ir::NodeRef> outputs;  // the user's outputs, then one value per update
  std::size_t num_user_outputs = 0;
  std::vector<std::shared_ptr<SharedState>> update_targets;  // the shared variable each update writes
  // Per user output: Out(x, borrow=true), which lets the call return memory
  // it does not own (a shared variable's, an argument's) without a copy.
  std::vector<bool> borrowed;

  std::vector<ir::NodeRef> update_values() const {
    return {outputs.begin() + static_cast<std::ptrdiff_t>(num_user_outputs), outputs.end()};
  }
};

// Computes a program's outputs (user outputs, then update values) from its
// arguments, already checked and converted to the inputs' types. Executors
// read shared variables but never write them: the caller writes the updates.
class Executor {
 public:
  virtual ~Executor() = default;
  virtual std::vector<Tensor> run(const std::vector<Tensor>& args) = 0;
};

}  // namespace graphjit::compiler
