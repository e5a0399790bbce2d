// The loop of a Scan node, shared by its reference kernel (each step run by
// the reference evaluator: the oracle) and its compiled implementation (each
// step run by the body's Schedule, compiled once).
#pragma once

#include "compiler/ir/scan_body.hpp"

#include <graphjit/runtime/tensor.hpp>

#include <functional>
#include <vector>

namespace graphjit::ops {

// Computes one step: the body's outputs from its inner inputs' values. Where
// it can, it writes output j into `into[j]` (the row of output j's history
// for this step, or undefined) and returns that tensor.
using StepRunner = std::function<std::vector<Tensor>(const std::vector<Tensor>& inner, const std::vector<Tensor>& into)>;

// Runs the loop of `node` (any output of the application) on its outer
// inputs and returns the outputs listed in `wanted` (indices into
// body.outputs). Throws ShapeError naming the scan, the output and the step
// when a step's value does not match its state.
std::vector<Tensor> run_scan(const ir::Node& node, const std::vector<Tensor>& inputs, const std::vector<int>& wanted,
                             const StepRunner& step);

}  // namespace graphjit::ops
