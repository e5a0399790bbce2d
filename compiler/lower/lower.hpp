// The lowering stages, each a free function over a Schedule (schedule.hpp).
// compiler/pipeline.cpp calls them in order; tests call them one by one.
#pragma once

#include "compiler/lower/fusion.hpp"
#include "compiler/lower/schedule.hpp"

#include <string>

namespace graphjit::compiler::lower {

// One step per fused cluster (a JIT kernel) and one per other non-leaf node
// (its op's native kernel), in the program's order, with every value a slot.
// Throws std::logic_error naming the op when it has no compiled implementation.
Schedule build_steps(const Program& program, const Fusion& fusion);

// Update values written into their shared variable's own memory, and gemm
// accumulating onto a c no one else reads: decided from the ops' aliasing
// declarations (op_info's view_of and destroys; a fused kernel may overwrite
// an input of its output's type, element by element). Adds the order edges
// that make every other reader of the overwritten value run first.
void choose_inplace(Schedule& schedule);

// Orders the steps: each after its inputs' producers and the `after` edges,
// ties in program order. An in-place choice that would need a cycle is undone.
void order_steps(Schedule& schedule);

// Buffers for step outputs: with `reuse`, values whose lifetimes do not
// overlap share one; returned values get fresh memory each call (kFresh).
void plan_memory(Schedule& schedule, bool reuse);

// Machine code for every cluster, in one LLVM module named `name`; a kernel
// identical to one already compiled in this process is reused.
void compile_kernels(Schedule& schedule, const std::string& name);

// The schedule as text: steps in order, with what each computes, reads and
// writes, its in-place choices and buffers (debugprint of a function).
std::string print_schedule(const Schedule& schedule);

}  // namespace graphjit::compiler::lower
