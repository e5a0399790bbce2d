#include "compiler/exec/kernel.hpp"

#include "compiler/codegen/kernel_plan.hpp"
#include "compiler/jit/jit_engine.hpp"
#include "compiler/exec/thread_pool.hpp"

#include <graphjit/errors.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <type_traits>

namespace graphjit::exec {

namespace {

using codegen::KernelPlan;
using codegen::Operand;
using ir::ReduceOp;
using ir::reduce_combine;
using ir::reduce_identity;
using Role = Operand::Role;

// Reductions accumulate into their output, so it starts at the identity.
void fill_with_identity(const Tensor& out, ReduceOp op) {
  visit_dtype(out.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T value = reduce_identity<T>(op);
    T* base = static_cast<T*>(out.raw_data());
    if (out.is_contiguous()) {  // the usual case; for_each_index costs ~40 instructions per element
      std::fill_n(base, out.size(), value);
      return;
    }
    const Strides& strides = out.strides();
    for_each_index(out.shape(), [&](const std::vector<std::int64_t>& index) {
      std::int64_t at = 0;
      for (std::size_t d = 0; d < index.size(); ++d) at += index[d] * strides[d];
      base[at] = value;
    });
  });
}


// A reduction output private to one thread, for splitting a loop along a dim
// that the reduction reduces. It has the real output's layout, so the
// launch's strides apply to it unchanged, and is merged into the output at
// the end.
class PrivateAccumulator {
 public:
  PrivateAccumulator(const Tensor& out, ReduceOp op) {
    std::int64_t span = 1, lowest = 0;
    for (int d = 0; d < out.ndim(); ++d) {
      const std::int64_t reach = (out.shape(d) - 1) * out.strides()[static_cast<std::size_t>(d)];
      span += reach < 0 ? -reach : reach;
      lowest += std::min<std::int64_t>(reach, 0);
    }
    const std::size_t size = dtype_size(out.dtype());
    memory_ = std::make_unique<std::byte[]>(static_cast<std::size_t>(span) * size);
    view_ = Tensor::from_external(memory_.get() + static_cast<std::size_t>(-lowest) * size, out.shape(), out.dtype(),
                                  out.strides());
    fill_with_identity(view_, op);
  }
  void* data() const { return view_.raw_data(); }

  void merge_into(const Tensor& out, ReduceOp op) const {
    visit_dtype(out.dtype(), [&](auto tag) {
      using T = decltype(tag);
      T* target = static_cast<T*>(out.raw_data());
      const T* mine = static_cast<const T*>(view_.raw_data());
      const Strides& strides = out.strides();
      for_each_index(out.shape(), [&](const std::vector<std::int64_t>& index) {
        std::int64_t at = 0;
        for (std::size_t d = 0; d < index.size(); ++d) at += index[d] * strides[d];
        target[at] = reduce_combine<T>(op, target[at], mine[at]);
      });
    });
  }

 private:
  std::unique_ptr<std::byte[]> memory_;
  Tensor view_;
};

// The arguments of one call of the generated function.
struct Launch {
  std::vector<void*> pointers;
  Shape shape;                        // loop_ndim extents
  std::vector<std::int64_t> strides;  // operand-major, loop_ndim each, in elements
};

// Merges adjacent dims where every operand's strides line up, so that
// contiguous data runs as one long innermost loop. Merged-away dims keep
// length 1; the loop nest keeps its depth.
void collapse_dims(const KernelPlan& plan, Launch& launch) {
  const int L = plan.loop_ndim;
  const std::size_t operands = plan.operands.size();
  auto stride = [&](std::size_t k, int d) -> std::int64_t& { return launch.strides[k * L + d]; };
  int inner = L - 1;  // the dim that absorbs outer ones
  for (int d = L - 2; d >= 0; --d) {
    if (launch.shape[d] == 1) continue;
    if (plan.dim_pattern[d] == plan.dim_pattern[inner]) {
      if (launch.shape[inner] == 1) {
        launch.shape[inner] = launch.shape[d];
        for (std::size_t k = 0; k < operands; ++k) stride(k, inner) = stride(k, d);
        launch.shape[d] = 1;
        continue;
      }
      bool contiguous = true;
      for (std::size_t k = 0; k < operands; ++k)
        if (!plan.operands[k].stride_zero[d])
          contiguous = contiguous && stride(k, d) == stride(k, inner) * launch.shape[inner];
      if (contiguous) {
        launch.shape[inner] *= launch.shape[d];
        launch.shape[d] = 1;
        continue;
      }
    }
    inner = d;
  }
}

bool reduces_dim(const Operand& operand, int d) { return operand.role == Role::Reduction && operand.stride_zero[d]; }

// The dim to cut into one piece per thread: the outermost one long enough
// that no reduction reduces, else the outermost long enough (the reductions
// over it then accumulate into private copies, merged at the end).
int parallel_dim(const KernelPlan& plan, const Launch& launch, int threads) {
  int fallback = -1;
  for (int d = 0; d < plan.loop_ndim; ++d) {
    if (launch.shape[d] < threads) continue;
    if (std::none_of(plan.operands.begin(), plan.operands.end(), [&](const Operand& o) { return reduces_dim(o, d); }))
      return d;
    if (fallback < 0) fallback = d;
  }
  return fallback;
}

std::string describe_input(const KernelPlan& plan, std::size_t i) {
  const ir::Node& node = *plan.inputs[i];
  return fmt::format("input {} ({}: {})", i, node.label(), node.type.str());
}

// The shape the loops run over: the inputs' shapes broadcast together.
Shape iteration_shape(const KernelPlan& plan, const std::vector<Tensor>& inputs) {
  if (inputs.size() != plan.inputs.size())
    throw std::invalid_argument(
        fmt::format("{}: takes {} inputs, got {}", plan.describe(), plan.inputs.size(), inputs.size()));
  Shape shape(static_cast<std::size_t>(plan.ndim), 1);
  std::vector<int> shaped_by(static_cast<std::size_t>(plan.ndim), -1);  // the input that set shape[d]
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const int k = plan.input_operand[i];
    if (k < 0) continue;  // compiled in
    const Tensor& t = inputs[i];
    const ir::Node& node = *plan.inputs[i];
    if (!t.defined())
      throw std::invalid_argument(fmt::format("{}: {} is undefined", plan.describe(), describe_input(plan, i)));
    if (t.dtype() != node.type.dtype || t.ndim() != node.type.ndim())
      throw std::invalid_argument(fmt::format("{}: {} was given a {} tensor of shape {}", plan.describe(),
                                              describe_input(plan, i), dtype_name(t.dtype()), shape_str(t.shape())));
    if (t.ndim() == 0) continue;
    for (int d = 0; d < plan.ndim; ++d) {
      const std::int64_t n = t.shape(d);
      if (plan.operands[static_cast<std::size_t>(k)].stride_zero[d]) {
        if (n != 1)
          throw ShapeError(
              fmt::format("{}: {} has shape {}, but dim {} is declared broadcastable and must have "
                          "length 1",
                          plan.describe(), describe_input(plan, i), shape_str(t.shape()), d));
        continue;
      }
      if (shaped_by[d] >= 0 && n != shape[d]) {
        const auto other = static_cast<std::size_t>(shaped_by[d]);
        throw ShapeError(
            fmt::format("{}: {} has shape {} but {} has shape {}; they differ in dim {}, which neither "
                        "declares broadcastable",
                        plan.describe(), describe_input(plan, i), shape_str(t.shape()), describe_input(plan, other),
                        shape_str(inputs[other].shape()), d));
      }
      shape[d] = n;
      shaped_by[d] = static_cast<int>(i);
    }
  }
  // Broadcast inputs (stride-0 views) can meet in a shape no buffer could hold.
  try {
    shape_numel(shape);
  } catch (const std::overflow_error&) {
    throw ShapeError(fmt::format("{}: the inputs broadcast to shape {}, which has more elements than an int64 can count",
                                 plan.describe(), shape_str(shape)));
  }
  return shape;
}

std::vector<Shape> output_shapes_for(const KernelPlan& plan, const Shape& shape) {
  std::vector<Shape> shapes;
  for (const Operand& operand : plan.operands) {
    if (operand.role == Role::Input) continue;
    if (operand.role == Role::Output) {
      shapes.push_back(shape);
      continue;
    }
    Shape reduced;
    for (int d = 0; d < plan.ndim; ++d) {
      if (!operand.stride_zero[d])
        reduced.push_back(shape[d]);
      else if (operand.keepdims)
        reduced.push_back(1);
    }
    shapes.push_back(reduced);
  }
  return shapes;
}

// The generated function's arguments for these tensors.
Launch prepare_launch(const KernelPlan& plan, const Shape& shape, const std::vector<Tensor>& inputs,
                      const std::vector<Tensor>& outputs) {
  const int L = plan.loop_ndim;
  Launch launch;
  launch.shape.assign(static_cast<std::size_t>(L), 1);
  std::copy(shape.begin(), shape.end(), launch.shape.begin());
  launch.strides.assign(plan.operands.size() * static_cast<std::size_t>(L), 0);
  for (std::size_t k = 0; k < plan.operands.size(); ++k) {
    const Operand& operand = plan.operands[k];
    const Tensor& t = operand.role == Role::Input ? inputs[static_cast<std::size_t>(operand.index)]
                                                  : outputs[static_cast<std::size_t>(operand.index)];
    launch.pointers.push_back(t.raw_data());
    if (t.ndim() == 0) continue;
    // The tensor dim of each loop dim: the same one, except for reductions without keepdims.
    int tensor_dim = 0;
    for (int d = 0; d < plan.ndim; ++d) {
      if (!operand.stride_zero[d]) launch.strides[k * L + d] = t.strides()[static_cast<std::size_t>(tensor_dim)];
      const bool dropped = operand.role == Role::Reduction && operand.stride_zero[d] && !operand.keepdims;
      if (!dropped) ++tensor_dim;
    }
  }
  return launch;
}

void check_outputs(const KernelPlan& plan, const std::vector<Shape>& shapes, const std::vector<Tensor>& outputs) {
  if (outputs.size() != shapes.size())
    throw std::invalid_argument(
        fmt::format("{}: has {} outputs, got {}", plan.describe(), shapes.size(), outputs.size()));
  for (std::size_t o = 0; o < outputs.size(); ++o) {
    const DType dtype = plan.outputs[o]->type.dtype;
    const Tensor& out = outputs[o];
    if (!out.defined() || out.shape() != shapes[o] || out.dtype() != dtype)
      throw std::invalid_argument(fmt::format(
          "{}: output {} must be a {} tensor of shape {}, got {}", plan.describe(), o, dtype_name(dtype),
          shape_str(shapes[o]),
          out.defined() ? fmt::format("a {} tensor of shape {}", dtype_name(out.dtype()), shape_str(out.shape()))
                        : "an undefined tensor"));
  }
}

bool reduces_empty_dim(const Operand& operand, const Shape& shape) {
  for (std::size_t d = 0; d < shape.size(); ++d)
    if (shape[d] == 0 && reduces_dim(operand, static_cast<int>(d))) return true;
  return false;
}

// Fills the reductions' outputs with the identity they accumulate from;
// max and min of nothing have no value. As in numpy (and the reference),
// that is an error whenever a reduced dim has length 0, even when the result
// is empty too: max over axis 1 of a (0, 0) array.
void start_reductions(const KernelPlan& plan, const Shape& shape, const std::vector<Tensor>& outputs) {
  for (const Operand& operand : plan.operands) {
    if (operand.role != Role::Reduction) continue;
    const Tensor& out = outputs[static_cast<std::size_t>(operand.index)];
    const bool extremum = operand.reduce == ReduceOp::Max || operand.reduce == ReduceOp::Min;
    if (extremum && reduces_empty_dim(operand, shape))
      throw ShapeError(fmt::format("{}: max and min over a dim of length 0 have no value (input shape {})",
                                   plan.describe(), shape_str(shape)));
    fill_with_identity(out, operand.reduce);
  }
}

}  // namespace

Kernel::Kernel(std::shared_ptr<const KernelPlan> plan, std::shared_ptr<const jit::CompiledModule> code, Entry entry)
    : plan_(std::move(plan)), code_(std::move(code)), entry_(entry) {}

std::string Kernel::describe() const { return plan_->describe(); }
double Kernel::module_compile_ms() const { return code_->compile_ms(); }

std::vector<DType> Kernel::output_dtypes() const {
  std::vector<DType> dtypes;
  for (const auto& node : plan_->outputs) dtypes.push_back(node->type.dtype);
  return dtypes;
}

std::vector<Shape> Kernel::output_shapes(const std::vector<Tensor>& inputs) const {
  return output_shapes_for(*plan_, iteration_shape(*plan_, inputs));
}

std::vector<Tensor> Kernel::run(const std::vector<Tensor>& inputs) const {
  const std::vector<Shape> shapes = output_shapes(inputs);
  const std::vector<DType> dtypes = output_dtypes();
  std::vector<Tensor> outputs;
  for (std::size_t o = 0; o < shapes.size(); ++o) outputs.push_back(Tensor::empty(shapes[o], dtypes[o]));
  run(inputs, outputs);
  return outputs;
}

void Kernel::run(const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs) const {
  const KernelPlan& plan = *plan_;
  const Shape shape = iteration_shape(plan, inputs);
  check_outputs(plan, output_shapes_for(plan, shape), outputs);
  start_reductions(plan, shape, outputs);
  const std::int64_t elements = shape_numel(shape);
  if (elements == 0) return;

  Launch launch = prepare_launch(plan, shape, inputs, outputs);
  collapse_dims(plan, launch);
  exec::ThreadPool& pool = exec::ThreadPool::global();
  const int threads = pool.concurrency();
  const int split = elements >= parallel_threshold && threads > 1 ? parallel_dim(plan, launch, threads) : -1;
  if (split < 0) {
    entry_(launch.pointers.data(), launch.shape.data(), launch.strides.data());
    return;
  }

  // Cuts of the innermost dim fall on multiples of the vector width, so only the last piece has a partial step.
  const int L = plan.loop_ndim;
  const std::int64_t grain = split == L - 1 ? plan.vector_width : 1;
  const std::int64_t n = launch.shape[static_cast<std::size_t>(split)];
  const std::int64_t per_thread = ((n + grain - 1) / grain + threads - 1) / threads * grain;
  // Piece 0 accumulates into the outputs themselves, the others into private copies.
  std::vector<std::vector<std::unique_ptr<PrivateAccumulator>>> privates(static_cast<std::size_t>(threads));
  for (int t = 1; t < threads; ++t)
    for (const Operand& operand : plan.operands)
      privates[static_cast<std::size_t>(t)].push_back(
          reduces_dim(operand, split)
              ? std::make_unique<PrivateAccumulator>(outputs[static_cast<std::size_t>(operand.index)], operand.reduce)
              : nullptr);
  pool.run(threads, [&](int t) {
    const std::int64_t begin = std::min(n, per_thread * t), end = std::min(n, begin + per_thread);
    if (begin >= end) return;
    Launch piece = launch;
    piece.shape[static_cast<std::size_t>(split)] = end - begin;
    for (std::size_t k = 0; k < plan.operands.size(); ++k) {
      const Operand& operand = plan.operands[k];
      if (t > 0 && privates[static_cast<std::size_t>(t)][k])
        piece.pointers[k] = privates[static_cast<std::size_t>(t)][k]->data();
      if (operand.stride_zero[split]) continue;
      const std::int64_t bytes =
          begin * launch.strides[k * L + split] * static_cast<std::int64_t>(dtype_size(operand.dtype));
      piece.pointers[k] = static_cast<char*>(piece.pointers[k]) + bytes;
    }
    entry_(piece.pointers.data(), piece.shape.data(), piece.strides.data());
  });
  for (int t = 1; t < threads; ++t)
    for (std::size_t k = 0; k < plan.operands.size(); ++k)
      if (const auto& mine = privates[static_cast<std::size_t>(t)][k])
        mine->merge_into(outputs[static_cast<std::size_t>(plan.operands[k].index)], plan.operands[k].reduce);
}

}  // namespace graphjit::exec
