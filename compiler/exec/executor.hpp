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

class ScheduleExecutor final : public compiler::Executor {
 public:
  explicit ScheduleExecutor(std::shared_ptr<const compiler::lower::Schedule> schedule);
  ~ScheduleExecutor() override;
  std::vector<Tensor> run(const std::vector<Tensor>& args) override;

  // What debug mode compares against the reference evaluator: called after
  // each step with every value the step stored, in step order. Called then,
  // not after the run, because an in-place update later overwrites the
  // memory of the views of the old value that earlier steps stored.
  using Observer = std::function<void(const ir::Node& node, const Tensor& value)>;
  std::vector<Tensor> run(const std::vector<Tensor>& args, const Observer& observe);

  const compiler::lower::Schedule& schedule() const { return *schedule_; }

 private:
  friend class StepMemory;
  void run_step(std::size_t s);
  void run_kernel(const compiler::lower::Step& step);
  void run_native(const compiler::lower::Step& step);
  void check_update_writes(std::size_t from) const;
  Tensor output_memory(const compiler::lower::Step& step, std::size_t j, const Shape& shape, DType dtype);
  bool overwritable(int target, const Shape& shape, DType dtype) const;
  std::string describe(const compiler::lower::Step& step) const;

  std::shared_ptr<const compiler::lower::Schedule> schedule_;
  std::vector<std::shared_ptr<Storage>> pool_;
  std::vector<Tensor> slots_;
  std::size_t first_update_write_;  // the first step writing into a shared variable (all after it do too)
  bool profile_ = false;            // GRAPHJIT_PROFILE=1: time each step, print a table when destroyed
  std::vector<double> seconds_;     // per step, when profiling
  std::size_t calls_ = 0;
};

}  // namespace graphjit::exec
