// The lowered form of a program: what runs, in which order, in which memory.
//
// The graph (compiler/ir) is for rewriting; the Schedule is for running. Its
// stages (compiler/pipeline.cpp lists them) each fill in one part of it:
//   build_steps     values (slots) and steps: a fused JIT kernel per cluster,
//                   a native kernel per other op
//   choose_inplace  which step outputs overwrite an input's memory
//   order_steps     the order steps run in
//   plan_memory     which buffer each stored value lives in
//   compile_kernels machine code for the fused kernels
// It is plain data, so every stage can be tested and printed on its own
// (print_schedule), and the executor (compiler/exec) only runs it.
#pragma once

#include "compiler/codegen/cluster.hpp"
#include "compiler/exec/kernel.hpp"
#include "compiler/program.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace graphjit::compiler::lower {

struct Step {
  enum class Kind {
    Kernel,  // a JIT-compiled fused kernel: Schedule::clusters[cluster]
    Native,  // the op's native kernel (op_info(node->op).native): BLAS calls, views, gathers, ...
  };
  Kind kind = Kind::Native;
  std::vector<int> in, out;        // slots read and written
  const ir::Node* node = nullptr;  // Native: the node computed
  std::size_t cluster = 0;         // Kernel: index into Schedule::clusters and Schedule::kernels
  std::vector<int> inplace;        // per output: the slot whose memory it overwrites, or -1
  std::vector<int> buffer;         // per output: its buffer (plan_memory), kFresh, or kNoBuffer
  // Writes an update into its shared variable's memory: runs after every step
  // that does not (order_steps), so a failing call changes no shared variable.
  bool writes_shared = false;
};

// Buffer ids other than pool indices.
inline constexpr int kNoBuffer = -1;  // the value is a view, or written in place, or a native allocates it
inline constexpr int kFresh = -2;     // a returned value: new memory every call, handed to the caller as is

struct Schedule {
  Program program;
  std::vector<ir::NodeRef> slots;  // every value the steps read or write, leaves included
  std::vector<Step> steps;         // in run order once order_steps has run
  std::vector<codegen::Cluster> clusters;
  std::vector<exec::Kernel> kernels;  // per cluster, once compile_kernels has run

  std::vector<std::pair<int, std::size_t>> input_slots;  // (slot, argument index)
  std::vector<int> shared_slots;                         // slots of Shared leaves
  std::vector<int> output_slots;                         // per program output

  // Per slot: the slot that owns its memory (itself, or what it is a view of).
  std::vector<int> root;
  // Per step: the steps that must run before it (data, and readers of what it overwrites).
  std::vector<std::vector<std::size_t>> after;
  std::size_t num_buffers = 0;  // the pool plan_memory asks for

  // Per program output: an update written into its shared variable's memory.
  std::vector<bool> output_inplace;
  // Per program output: the value lives in memory the caller may not keep
  // (a leaf, or shared with another output), so the call copies it.
  std::vector<bool> output_copy;

  const ir::Node& node(int slot) const { return *slots[static_cast<std::size_t>(slot)]; }
  int slot_of(const ir::Node* n) const;  // -1 if not a slot

  // Recomputes `root` from the ops' view declarations and the in-place choices.
  void update_roots();
  // Per step: the steps that compute what it reads.
  std::vector<std::vector<std::size_t>> data_edges() const;
};

}  // namespace graphjit::compiler::lower
