// A compiled fused kernel, ready to run on tensors: the run-time half of
// code generation (codegen/kernel_plan.hpp is the contract both halves read).
#pragma once

#include <graphjit/runtime/tensor.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace graphjit::jit {
class CompiledModule;
}
namespace graphjit::codegen {
struct KernelPlan;
}

namespace graphjit::exec {

using codegen::KernelPlan;

class Kernel {
 public:
  using Entry = void (*)(void* const* pointers, const std::int64_t* shape, const std::int64_t* strides);

  Kernel(std::shared_ptr<const KernelPlan> plan, std::shared_ptr<const jit::CompiledModule> code, Entry entry);

  // "fused kernel 'name' (mul, add, tanh)".
  std::string describe() const;

  // The outputs (stored values, then reductions): their shapes for these
  // inputs, and their dtypes. Throws graphjit::ShapeError naming the shapes
  // when the inputs do not broadcast together.
  std::vector<Shape> output_shapes(const std::vector<Tensor>& inputs) const;
  std::vector<DType> output_dtypes() const;

  // Allocates the outputs (contiguous) and runs the kernel.
  std::vector<Tensor> run(const std::vector<Tensor>& inputs) const;
  // Runs into outputs the caller allocated, with output_shapes() and
  // output_dtypes(); they may be any views (e.g. transposed, or slices of a
  // larger buffer). An output may share memory with an input only if it is
  // exactly the same view (in-place elementwise). Inputs that are compiled-in
  // constants may be passed as undefined tensors.
  void run(const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs) const;

  // The machine code's entry point: equal for kernels that share their code.
  Entry entry() const { return entry_; }

  // Milliseconds LLVM spent on the module this kernel was compiled in.
  double module_compile_ms() const;

  // Kernels with at least this many elements run on all cores. Measured on 2
  // cores (float64): a plain multiply breaks even at ~12K elements and gains
  // ~20% at 16K; transcendental chains gain ~1.7x already at 4K.
  static constexpr std::int64_t parallel_threshold = 16 * 1024;

 private:
  std::shared_ptr<const KernelPlan> plan_;
  std::shared_ptr<const jit::CompiledModule> code_;  // keeps `entry_` alive
  Entry entry_;
};

}  // namespace graphjit::exec
