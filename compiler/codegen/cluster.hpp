// What the fusion pass hands the code generator: elementwise ops to run as
// one loop nest, and optionally reductions of their results.
#pragma once

#include "compiler/ir/node.hpp"

#include <string>
#include <vector>

namespace graphjit::codegen {

// One fused kernel's worth of graph.
//
// All values inside the cluster have the same number of dims, the iteration
// rank (the frontend's dimshuffles make elementwise inputs agree); an input may
// also be 0-d, which broadcasts everywhere. A dim of an input broadcasts iff
// its Type::broadcastable says so, and then has length 1 at run time.
//
// Rules (compile_kernels throws std::invalid_argument naming the node otherwise):
//  - every input of a node in `nodes` is in `inputs`, an earlier entry of
//    `nodes`, or a one-element Constant (whose value is then compiled in);
//  - `outputs` and the inputs of `reductions` are in `inputs` or `nodes`, and
//    have the cluster's broadcast pattern (the AND of the inputs' patterns):
//    a value repeated across a broadcast dim is not stored or reduced;
//  - `reductions` are Sum, Prod, Max or Min nodes (any attrs.axes/keepdims).
struct Cluster {
  std::string name;                     // shows up in symbol names and IR dumps; may be empty
  std::vector<ir::NodeRef> inputs;      // the kernel's input operands, in the order run() takes them
  std::vector<ir::NodeRef> nodes;       // elementwise nodes, each after the nodes it reads
  std::vector<ir::NodeRef> outputs;     // values written to memory
  std::vector<ir::NodeRef> reductions;  // reductions computed in the same loops, without storing their input
};

}  // namespace graphjit::codegen
