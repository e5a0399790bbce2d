// What runs a compiled function: the steps of a Schedule (compiler/lower),
// in order, on the arguments of one call.
//
// Run-time state only: the values of the current call (one per schedule
// slot) and the pool of step buffers, kept across calls so that a call in
// steady state allocates nothing but the values it returns. Not thread-safe:
// the Function that owns an executor serializes its calls.
#pragma once

#include "compiler/lower/schedule.hpp"
#include "compiler/program.hpp"

#include <functional>
#include <memory>
#include <vector>

namespace graphjit::exec {

// What a run watches besides computing: both off costs one branch per step.
struct Watch {
  bool profile = false;    // time each step (RunProfile)
  bool nan_guard = false;  // stop at the first op whose result holds a nan or an inf
};

// Sums over every profiled call (frontend/profile.cpp turns them into graphjit::Profile).
struct StepTotals {
  std::size_t calls = 0;
  double seconds = 0;
  double flops = 0;  // dot and gemm steps: 2*m*n*k per call
  double bytes = 0;  // fused kernels: bytes of their operands read and written
};
struct RunProfile {
  std::size_t calls = 0;
  double seconds = 0;             // whole calls, from the arguments to the returned values
  std::vector<StepTotals> steps;  // per schedule step
};

class ScheduleExecutor final : public compiler::Executor {
 public:
  explicit ScheduleExecutor(std::shared_ptr<const compiler::lower::Schedule> schedule, Watch watch = {});
  std::vector<Tensor> run(const std::vector<Tensor>& args) override;

  // What debug mode compares against the reference evaluator: called after
  // each step with every value the step stored, in step order. Called then,
  // not after the run, because an in-place update later overwrites the
  // memory of the views of the old value that earlier steps stored.
  using Observer = std::function<void(const ir::Node& node, const Tensor& value)>;
  std::vector<Tensor> run(const std::vector<Tensor>& args, const Observer& observe);

  const compiler::lower::Schedule& schedule() const { return *schedule_; }
  const Watch& watch() const { return watch_; }
  const RunProfile& profile() const { return profile_; }

 private:
  friend class StepMemory;
  void run_step(std::size_t s);
  void run_kernel(const compiler::lower::Step& step);
  void run_native(const compiler::lower::Step& step);
  void check_update_writes(std::size_t from) const;
  Tensor output_memory(const compiler::lower::Step& step, std::size_t j, const Shape& shape, DType dtype);
  bool overwritable(int target, const Shape& shape, DType dtype) const;
  void run_profiled_step(std::size_t t);
  void save_overwritten_inputs(std::size_t t);
  void guard_outputs(std::size_t t);
  void restore_shared();

  std::shared_ptr<const compiler::lower::Schedule> schedule_;
  std::vector<std::shared_ptr<Storage>> pool_;
  std::vector<Tensor> slots_;
  std::size_t first_update_write_;  // the first step writing into a shared variable (all after it do too)
  Watch watch_;
  RunProfile profile_;
  // NaN guard: copies of the values the current step overwrites in place (its
  // inputs' statistics are reported from them), and of the shared variables
  // the update steps overwrite (restored if the guard stops the call).
  std::vector<std::pair<int, Tensor>> saved_inputs_, saved_shared_;
};

}  // namespace graphjit::exec
