// Compiling fused clusters: the code generator's entry point.
#pragma once

#include "compiler/codegen/cluster.hpp"
#include "compiler/exec/kernel.hpp"

#include <string>
#include <vector>

namespace graphjit::codegen {

// Compiles the clusters and returns one kernel per cluster, in order.
// Kernels already in the process-wide kernel cache are reused; the new ones
// are split into compile_threads() modules of about equal size, each
// optimized and turned into machine code on a thread of its own, and loaded
// into the JIT together. `module_name` names the module in IR dumps
// (GRAPHJIT_DUMP_IR) and in symbol names; a graphjit function's name fits.
// Throws std::invalid_argument naming the node when a cluster breaks the
// rules in cluster.hpp.
// How many threads compile one call's new kernels: set_compile_threads(n)
// with n > 0, else the flag compile_threads (GRAPHJIT_FLAGS) when > 0, else
// the hardware threads, at most 8.
// 1 compiles one module on the calling thread. Never more than the kernels.
// Process-wide; takes effect at the next compile.
void set_compile_threads(int threads);
int compile_threads();

std::vector<exec::Kernel> compile_kernels(const std::vector<Cluster>& clusters, const std::string& module_name = "graphjit");

}  // namespace graphjit::codegen
