// Compiling fused clusters: the code generator's entry point.
#pragma once

#include "compiler/codegen/cluster.hpp"
#include "compiler/exec/kernel.hpp"

#include <string>
#include <vector>

namespace graphjit::codegen {

// Compiles all clusters into one LLVM module, optimized and turned into
// machine code in one go (per-module costs are paid once), and returns one
// kernel per cluster, in order. `module_name` names the module in IR dumps
// (GRAPHJIT_DUMP_IR) and in symbol names; a graphjit function's name fits.
// Throws std::invalid_argument naming the node when a cluster breaks the
// rules in cluster.hpp.
std::vector<exec::Kernel> compile_kernels(const std::vector<Cluster>& clusters, const std::string& module_name = "graphjit");

}  // namespace graphjit::codegen
