#include "compiler/exec/executor.hpp"

#include "compiler/ir/diagnostics.hpp"
#include "compiler/ir/op_info.hpp"

#include <graphjit/errors.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>
#include <numeric>

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

ScheduleExecutor::ScheduleExecutor(std::shared_ptr<const Schedule> schedule)
    : schedule_(std::move(schedule)), pool_(schedule_->num_buffers), slots_(schedule_->slots.size()),
      first_update_write_(schedule_->steps.size()), seconds_(schedule_->steps.size(), 0.0) {
  const Schedule& s = *schedule_;
  for (std::size_t i = 0; i < s.slots.size(); ++i)
    if (s.slots[i]->op == ir::OpCode::Constant) slots_[i] = s.slots[i]->value;
  for (std::size_t t = s.steps.size(); t-- > 0 && s.steps[t].writes_shared;) first_update_write_ = t;
  const char* profile = std::getenv("GRAPHJIT_PROFILE");
  profile_ = profile && *profile && std::string(profile) != "0";
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
  ++calls_;
  for (std::size_t t = 0; t < s.steps.size(); ++t) {
    const Step& step = s.steps[t];
    try {
      if (profile_) {
        const auto t0 = std::chrono::steady_clock::now();
        run_step(t);
        seconds_[t] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      } else {
        run_step(t);
      }
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
  return results;
}

std::string ScheduleExecutor::describe(const Step& step) const {
  if (step.kind == Step::Kind::Kernel) return schedule_->kernels[step.cluster].describe();
  return ir::describe(*step.node);
}

ScheduleExecutor::~ScheduleExecutor() {
  if (!profile_ || calls_ == 0) return;
  const double total = std::accumulate(seconds_.begin(), seconds_.end(), 0.0);
  std::string table = fmt::format("graphjit profile: {} calls, {:.3f} ms per call\n", calls_, 1e3 * total / calls_);
  std::vector<std::size_t> by_time(seconds_.size());
  std::iota(by_time.begin(), by_time.end(), 0);
  std::sort(by_time.begin(), by_time.end(), [&](auto a, auto b) { return seconds_[a] > seconds_[b]; });
  for (std::size_t t : by_time)
    table += fmt::format("  {:6.1f}%  {:9.1f} us  {}\n", 100 * seconds_[t] / std::max(total, 1e-12),
                         1e6 * seconds_[t] / calls_, describe(schedule_->steps[t]).substr(0, 150));
  std::fputs(table.c_str(), stderr);
}

}  // namespace graphjit::exec
