#include "compiler/exec/executor.hpp"

#include "compiler/exec/finite_check.hpp"
#include "compiler/ir/diagnostics.hpp"
#include "compiler/ir/op_info.hpp"

#include <graphjit/errors.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <unordered_map>
#include <fmt/format.h>

namespace graphjit::exec {

using compiler::lower::Schedule;
using compiler::lower::Step;

namespace {

bool is_leaf(const ir::Node& n) { return ir::op_info(n.op).kind == ir::OpKind::Leaf; }

// Whether two elements of the tensor share memory (stride-0 or overlapping
// sliding-window views): writing into it element by element would read
// values it has already written.
bool has_overlapping_elements(const Tensor& t) {
  std::vector<std::pair<std::int64_t, std::int64_t>> dims;  // (|stride|, length)
  for (int d = 0; d < t.ndim(); ++d)
    if (t.shape(d) > 1) dims.emplace_back(std::abs(t.strides()[static_cast<std::size_t>(d)]), t.shape(d));
  std::sort(dims.begin(), dims.end());
  std::int64_t span = 1;  // elements covered by the dims with smaller strides
  for (auto [stride, length] : dims) {
    if (stride < span) return true;
    span = stride * length;
  }
  return false;
}

}  // namespace

// The memory a native kernel writes its output into.
class StepMemory final : public ir::OutputMemory {
 public:
  StepMemory(ScheduleExecutor& executor, const Step& step) : executor_(executor), step_(step) {}
  Tensor get(const Shape& shape, DType dtype) override { return executor_.output_memory(step_, 0, shape, dtype); }

 private:
  ScheduleExecutor& executor_;
  const Step& step_;
};

ScheduleExecutor::ScheduleExecutor(std::shared_ptr<const Schedule> schedule, Watch watch)
    : schedule_(std::move(schedule)), pool_(schedule_->num_buffers), slots_(schedule_->slots.size()),
      first_update_write_(schedule_->steps.size()), watch_(watch) {
  profile_.steps.resize(schedule_->steps.size());
  const Schedule& s = *schedule_;
  for (std::size_t i = 0; i < s.slots.size(); ++i)
    if (s.slots[i]->op == ir::OpCode::Constant) slots_[i] = s.slots[i]->value;
  for (std::size_t t = s.steps.size(); t-- > 0 && s.steps[t].writes_shared;) first_update_write_ = t;
}

// An in-place choice holds this call only if the target has the output's
// shape and dtype, its elements do not overlap, and no other leaf shares its
// memory (an argument f(W.get_value(true).T), a shared variable set from the
// same tensor), which the write would change under the steps that read it.
bool ScheduleExecutor::overwritable(int target, const Shape& shape, DType dtype) const {
  const Tensor& t = slots_[static_cast<std::size_t>(target)];
  if (!t.defined() || t.shape() != shape || t.dtype() != dtype || has_overlapping_elements(t)) return false;
  for (std::size_t s = 0; s < slots_.size(); ++s)
    if (static_cast<int>(s) != target && is_leaf(*schedule_->slots[s]) && slots_[s].shares_storage_with(t))
      return false;
  return true;
}

Tensor ScheduleExecutor::output_memory(const Step& step, std::size_t j, const Shape& shape, DType dtype) {
  if (step.inplace[j] >= 0 && overwritable(step.inplace[j], shape, dtype))
    return slots_[static_cast<std::size_t>(step.inplace[j])];
  if (step.buffer[j] < 0) return Tensor::empty(shape, dtype);  // returned (kFresh) or unplanned
  std::shared_ptr<Storage>& storage = pool_[static_cast<std::size_t>(step.buffer[j])];
  const std::size_t bytes = static_cast<std::size_t>(shape_numel(shape)) * dtype_size(dtype);
  if (!storage || storage->bytes() < bytes) storage = std::make_shared<Storage>(std::max<std::size_t>(bytes, 1));
  return Tensor(storage, dtype, shape, contiguous_strides(shape), 0);
}

void ScheduleExecutor::run_kernel(const Step& step) {
  const Kernel& kernel = schedule_->kernels[step.cluster];
  std::vector<Tensor> inputs;
  inputs.reserve(step.in.size());
  for (int i : step.in) inputs.push_back(slots_[static_cast<std::size_t>(i)]);
  const std::vector<Shape> shapes = kernel.output_shapes(inputs);
  const std::vector<DType> dtypes = kernel.output_dtypes();
  std::vector<Tensor> outputs(step.out.size());
  for (std::size_t j = 0; j < step.out.size(); ++j) outputs[j] = output_memory(step, j, shapes[j], dtypes[j]);
  kernel.run(inputs, outputs);
  for (std::size_t j = 0; j < step.out.size(); ++j) slots_[static_cast<std::size_t>(step.out[j])] = outputs[j];
}

void ScheduleExecutor::run_native(const Step& step) {
  const ir::Node& node = *step.node;
  const ir::OpInfo& info = ir::op_info(node.op);
  std::vector<Tensor> inputs;
  inputs.reserve(step.in.size());
  for (int i : step.in) inputs.push_back(slots_[static_cast<std::size_t>(i)]);
  StepMemory memory(*this, step);
  Tensor value = info.native.run(node, inputs, memory);
  // The planner trusts the aliasing declarations; an undeclared view would
  // let a later step overwrite memory this value still lives in.
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const bool declared = static_cast<int>(k) == info.view_of || static_cast<int>(k) == info.destroys;
    if (declared || !value.shares_storage_with(inputs[k])) continue;
    const bool explained = (info.view_of >= 0 && value.shares_storage_with(inputs[static_cast<std::size_t>(info.view_of)])) ||
                           (info.destroys >= 0 && value.shares_storage_with(inputs[static_cast<std::size_t>(info.destroys)]));
    if (!explained)
      throw std::logic_error(fmt::format("graphjit internal error: the native kernel of {} returned memory of its input "
                                         "{}, which op '{}' does not declare as a view",
                                         ir::describe(node), k, info.name));
  }
  slots_[static_cast<std::size_t>(step.out[0])] = std::move(value);
}

// Update writes run last; before the first one, every one of them checks its
// shapes, so that a call that fails leaves every shared variable as it was.
void ScheduleExecutor::check_update_writes(std::size_t from) const {
  for (std::size_t t = from; t < schedule_->steps.size(); ++t) {
    const Step& step = schedule_->steps[t];
    std::vector<Tensor> inputs;
    for (int i : step.in) inputs.push_back(slots_[static_cast<std::size_t>(i)]);
    if (step.kind == Step::Kind::Kernel) schedule_->kernels[step.cluster].output_shapes(inputs);
    else ir::op_info(step.node->op).infer_shape(*step.node, inputs);
  }
}

void ScheduleExecutor::run_step(std::size_t t) {
  const Step& step = schedule_->steps[t];
  if (t == first_update_write_) check_update_writes(t);
  if (step.kind == Step::Kind::Kernel) run_kernel(step);
  else run_native(step);
}

std::vector<Tensor> ScheduleExecutor::run(const std::vector<Tensor>& args) { return run(args, Observer()); }

std::vector<Tensor> ScheduleExecutor::run(const std::vector<Tensor>& args, const Observer& observe) {
  const Schedule& s = *schedule_;
  for (auto [slot, i] : s.input_slots) slots_[static_cast<std::size_t>(slot)] = args[i];
  for (int slot : s.shared_slots) slots_[static_cast<std::size_t>(slot)] = s.node(slot).shared->value;
  const auto call_start = watch_.profile ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
  for (std::size_t t = 0; t < s.steps.size(); ++t) {
    const Step& step = s.steps[t];
    try {
      if (watch_.nan_guard) save_overwritten_inputs(t);
      if (watch_.profile) run_profiled_step(t);
      else run_step(t);
      if (watch_.nan_guard) guard_outputs(t);
    } catch (const ShapeError& e) {
      if (step.kind != Step::Kind::Kernel) throw;
      // Name the user's expression: the kernel only knows its own operands.
      std::string computing;
      for (int o : step.out)
        computing += fmt::format("{}{} (built at {})", computing.empty() ? "" : ", ", s.node(o).label(),
                                 ir::where_str(s.node(o).where));
      throw ShapeError(fmt::format("{}\n  while computing {}", e.what(), computing));
    }
    if (observe)
      for (int o : step.out) observe(s.node(o), slots_[static_cast<std::size_t>(o)]);
  }
  // Returned values live in memory of their own (plan_memory), except those
  // the schedule marks for a copy.
  std::vector<Tensor> results;
  results.reserve(s.output_slots.size());
  for (std::size_t o = 0; o < s.output_slots.size(); ++o) {
    const Tensor& v = slots_[static_cast<std::size_t>(s.output_slots[o])];
    if (!v.defined())
      throw std::logic_error(fmt::format("graphjit internal error: no step computed {} ({}); please report it with "
                                         "debugprint of the function",
                                         s.node(s.output_slots[o]).label(), ir::describe(s.node(s.output_slots[o]))));
    results.push_back(s.output_copy[o] ? v.copy() : v);
  }
  // Let go of this call's values: arguments and returned tensors belong to the caller.
  for (std::size_t i = 0; i < slots_.size(); ++i)
    if (s.slots[i]->op != ir::OpCode::Constant) slots_[i] = Tensor();
  saved_inputs_.clear();
  saved_shared_.clear();
  if (watch_.profile) {
    ++profile_.calls;
    profile_.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - call_start).count();
  }
  return results;
}

namespace {

// The floating-point operations of a BLAS step (dot, gemm) on these inputs: 2*m*n*k.
double blas_flops(const ir::Node& node, const std::vector<Tensor>& in) {
  if (node.op == ir::OpCode::Gemm) {
    const std::int64_t m = in[2].shape(0), n = in[2].shape(1), k = in[0].shape(node.attrs.trans_a ? 0 : 1);
    return 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  }
  if (node.op == ir::OpCode::Dot && in[0].ndim() > 0) {
    const Shape out = ir::op_info(node.op).infer_shape(node, in);
    return 2.0 * static_cast<double>(shape_numel(out)) * static_cast<double>(in[0].shape(in[0].ndim() - 1));
  }
  return 0;
}

}  // namespace

// Times one step and counts its work. The counting reads only shapes, so a
// profiled call costs two clock reads and a few multiplications per step.
void ScheduleExecutor::run_profiled_step(std::size_t t) {
  const Step& step = schedule_->steps[t];
  StepTotals& totals = profile_.steps[t];
  double bytes = 0;
  if (step.kind == Step::Kind::Kernel) {
    for (int i : step.in)
      if (const Tensor& v = slots_[static_cast<std::size_t>(i)]; v.defined()) bytes += static_cast<double>(v.nbytes());
  } else if (step.node->op == ir::OpCode::Gemm || step.node->op == ir::OpCode::Dot) {
    std::vector<Tensor> in;
    for (int i : step.in) in.push_back(slots_[static_cast<std::size_t>(i)]);
    totals.flops += blas_flops(*step.node, in);
  }
  const auto start = std::chrono::steady_clock::now();
  run_step(t);
  totals.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ++totals.calls;
  if (step.kind == Step::Kind::Kernel) {
    for (int o : step.out) bytes += static_cast<double>(slots_[static_cast<std::size_t>(o)].nbytes());
    totals.bytes += bytes;
  }
}

// Before a step runs under the NaN guard: copies of the inputs it will
// overwrite, and before the first update write, of every shared variable an
// update overwrites, so that a stopped call leaves them as they were.
void ScheduleExecutor::save_overwritten_inputs(std::size_t t) {
  const Schedule& s = *schedule_;
  saved_inputs_.clear();
  for (int target : s.steps[t].inplace)
    if (target >= 0) saved_inputs_.emplace_back(target, slots_[static_cast<std::size_t>(target)].copy());
  if (t != first_update_write_) return;
  for (std::size_t u = t; u < s.steps.size(); ++u)
    for (int target : s.steps[u].inplace)
      if (target >= 0 && s.node(target).op == ir::OpCode::Shared)
        saved_shared_.emplace_back(target, slots_[static_cast<std::size_t>(target)].copy());
}

void ScheduleExecutor::restore_shared() {
  for (auto& [slot, value] : saved_shared_) schedule_->node(slot).shared->value.assign(value);
  saved_shared_.clear();
}

// After a step under the NaN guard: if an output holds a nan or an inf, the
// call stops, naming the first op that produced one. A fused kernel's inner
// ops are recomputed by the reference evaluator from the kernel's inputs to
// find which of them it was.
void ScheduleExecutor::guard_outputs(std::size_t t) {
  const Schedule& s = *schedule_;
  const Step& step = s.steps[t];
  int bad = -1;
  for (int o : step.out)
    if (bad < 0 && !all_finite(slots_[static_cast<std::size_t>(o)])) bad = o;
  if (bad < 0) return;

  // The values this step saw and made, by node; the rest of a kernel's inner
  // values on demand.
  std::unordered_map<const ir::Node*, Tensor> known;
  for (int i : step.in) known[&s.node(i)] = slots_[static_cast<std::size_t>(i)];
  for (const auto& [slot, before] : saved_inputs_) known[&s.node(slot)] = before;
  for (int o : step.out) known[&s.node(o)] = slots_[static_cast<std::size_t>(o)];
  std::unordered_map<const ir::Node*, bool> inside;
  if (step.kind == Step::Kind::Kernel) {
    const auto& cluster = s.clusters[step.cluster];
    for (const auto& n : cluster.nodes) inside[n.get()] = true;
    for (const auto& n : cluster.reductions) inside[n.get()] = true;
  }
  std::function<Tensor(const ir::Node&)> value_of = [&](const ir::Node& n) -> Tensor {
    if (auto it = known.find(&n); it != known.end()) return it->second;
    if (n.op == ir::OpCode::Constant) return n.value;
    if (!inside.count(&n)) return Tensor();  // computed by another step, already checked
    std::vector<Tensor> args;
    for (const ir::NodeRef& in : n.inputs) args.push_back(value_of(*in));
    Tensor v = ir::op_info(n.op).reference(n, args);
    known[&n] = v;
    return v;
  };
  const ir::Node& stored = s.node(bad);
  const ir::Node* origin = first_nonfinite(stored, value_of);
  const ir::Node& culprit = origin ? *origin : stored;
  std::vector<Tensor> inputs;
  for (const ir::NodeRef& in : culprit.inputs) inputs.push_back(value_of(*in));
  std::string report = nonfinite_report(culprit, value_of(culprit), inputs);
  if (!origin) report += "\n  (its inputs were not finite already: they came in as arguments, shared variables or constants)";
  restore_shared();
  throw FunctionError("nan_guard: " + report +
                      "\n  (the call stopped here; shared variables keep their values from before it)");
}

}  // namespace graphjit::exec
