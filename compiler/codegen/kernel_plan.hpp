// A cluster checked and laid out as a kernel: which pointers the generated
// function takes, which of their strides are known to be zero, and what is
// computed in which dtype. Both the IR emitter and the run-time launcher
// (kernel.cpp) read the plan, so they cannot disagree about the layout.
#pragma once

#include "compiler/codegen/cluster.hpp"
#include "compiler/ir/reduction.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace graphjit::codegen {

using ReduceOp = ir::ReduceOp;

// One pointer the kernel reads or writes, with strides per loop dim.
struct Operand {
  enum class Role : std::uint8_t { Input, Output, Reduction };
  Role role = Role::Input;
  DType dtype = DType::float64;
  // Per loop dim: the stride is zero whatever the tensor, because the input
  // broadcasts there, or the reduction accumulates over that dim.
  std::vector<bool> stride_zero;
  const ir::Node* value = nullptr;  // the value loaded, stored or reduced
  int index = 0;                    // position among run()'s inputs or outputs
  // Reductions only.
  ReduceOp reduce = ReduceOp::Sum;
  bool keepdims = false;
};

struct KernelPlan {
  std::string name;    // the cluster's name, for messages
  std::string symbol;  // the generated function's name
  int ndim = 0;        // the cluster's rank
  int loop_ndim = 1;   // dims of the generated loop nest: max(ndim, 1)
  int vector_width = 1;
  std::vector<ir::NodeRef> inputs;         // run()'s inputs, in order
  std::vector<int> input_operand;          // per input: its operand, or -1 if compiled in
  std::vector<const ir::Node*> constants;  // one-element constants compiled into the code
  std::vector<ir::NodeRef> nodes;          // elementwise nodes, in evaluation order
  std::vector<ir::NodeRef> outputs;        // run()'s outputs: stored values, then reductions
  std::vector<Operand> operands;           // inputs read, then stored values, then reductions
  // Per loop dim, an id of its column of stride_zero flags: adjacent dims with
  // equal ids may be merged into one at run time when the strides line up.
  std::vector<int> dim_pattern;
  // Row lanes (issue 7): a kernel with per-row operands (reductions along
  // the innermost dim, or inputs broadcast along it) may run the dim above
  // it vector_width rows at a time, one lane per row, stepping through each
  // row's elements one by one; short rows then fill whole vectors. It is
  // taken at run time (takes_row_lanes) for rows of at most this many
  // elements; 0: the kernel has no such path.
  std::int64_t row_lanes_max_extent = 0;

  // "fused kernel 'name' (mul, add, tanh)", for error messages.
  std::string describe() const;
};

// Checks the cluster (throws std::invalid_argument naming the offending node)
// and lays it out for vectors of `vector_bits`.
KernelPlan plan_kernel(const Cluster& cluster, std::string symbol, int vector_bits);

// Whether a launch with these extents of the two innermost loop dims (after
// the launcher merged dims) runs the row-lanes loop for its leading rows
// (the last rows % vector_width rows run the per-row loop), given unit
// strides along the rows. The emitted code tests the same condition.
bool takes_row_lanes(const KernelPlan& plan, std::int64_t rows, std::int64_t row_extent);

// The dtype an elementwise node computes in, following the reference
// evaluator: floats in their own precision, integers and bools in int64;
// comparisons in the promoted input type; logic on bools; casts and switches
// convert straight to the result type.
DType compute_dtype(const ir::Node& node);

// Whether the node is a one-element constant, which kernels compile in as an
// immediate instead of reading it from memory.
bool is_compiled_in_constant(const ir::Node& node);

}  // namespace graphjit::codegen
