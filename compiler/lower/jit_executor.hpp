// The compiled form of a program and what runs it (the default modes).
//
// Lowering turns the optimized graph into steps: one per fused cluster (a
// JIT-compiled kernel), one per matrix product (a BLAS gemm), one per other
// op (its reference kernel: views, indexing, argmax, ...); alloc of a
// scalar is a broadcast view. Steps are ordered
// once. Their outputs live in a pool of buffers planned once: outputs whose
// lifetimes do not overlap share a buffer, and buffers are kept across calls,
// so a call in steady state allocates no large buffers. An update whose value is a gemm on the old
// value, or an elementwise kernel reading it, writes into the shared
// variable's own buffer, after every other reader of the old value has run.
#pragma once

#include "compiler/codegen/kernel.hpp"
#include "compiler/program.hpp"

#include <functional>
#include <unordered_map>
#include <vector>

namespace graphjit::compiler::lower {

class JitExecutor final : public Executor {
 public:
  explicit JitExecutor(const Program& program);
  ~JitExecutor() override;
  std::vector<Tensor> run(const std::vector<Tensor>& args) override;

  // What debug mode compares against the reference evaluator: called after
  // each step with every value the step stored, in step order. Called then,
  // not after the run, because an in-place update later overwrites the
  // memory of the views of the old value that earlier steps stored.
  using Observer = std::function<void(const ir::Node& node, const Tensor& value)>;
  std::vector<Tensor> run(const std::vector<Tensor>& args, const Observer& observe);
  std::size_t num_kernels() const { return kernels_.size(); }
  double compile_ms() const { return compile_ms_; }

 private:
  struct Step {
    enum class Kind { Kernel, Gemm, Broadcast, Reference } kind = Kind::Reference;
    std::vector<int> in, out;      // slots
    const ir::Node* node = nullptr;  // Gemm and Reference: the node computed
    std::size_t kernel = 0;         // Kernel: index into kernels_
    std::vector<int> inplace;       // per output: the input slot whose buffer it overwrites, or -1
    std::vector<int> buffer_id;     // per output: its buffer in pool_ when not written in place
    double seconds = 0;             // time spent, when profiling
  };
  std::string describe(const Step& step) const;

  void run_step(Step& step);
  void run_kernel(Step& step);
  void run_gemm(Step& step);
  void plan_buffers(const std::vector<int>& root);
  Tensor buffer(const Step& step, std::size_t j, const Shape& shape, DType dtype);
  bool overwritable(int target, const Shape& shape) const;

  Program program_;
  std::vector<codegen::Kernel> kernels_;
  // Buffers for step outputs, shared by outputs whose lifetimes do not
  // overlap (plan_buffers); each grows to the largest size asked of it and is
  // kept across calls, so a call in steady state allocates none.
  std::vector<std::shared_ptr<Storage>> pool_;
  std::vector<Step> steps_;
  std::vector<Tensor> slots_;
  std::vector<const ir::Node*> slot_node_;
  std::vector<std::pair<int, std::size_t>> input_slots_;  // (slot, argument index)
  std::vector<std::pair<int, std::shared_ptr<SharedState>>> shared_slots_;
  std::vector<int> output_slots_;
  std::vector<bool> output_inplace_;  // per output: an update that may be written in place
  double compile_ms_ = 0;
  bool profile_ = false;  // GRAPHJIT_PROFILE=1: time each step, print a table when destroyed
  std::size_t calls_ = 0;
};

}  // namespace graphjit::compiler::lower
