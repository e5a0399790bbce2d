// The whole compiler, top to bottom. Each stage is a free function over plain
// data; GRAPHJIT_DUMP_PASSES=1 prints the program after each one, and the
// ones named in lowering_stage_names() can be switched off by name
// (CompileOptions::excluded_passes), like the rewrites.
//
//   optimize         graph rewrites for the mode          compiler/passes/optimize.cpp
//   expand           softmax & co. as elementwise ops     compiler/lower/expand.cpp
//   fuse             elementwise clusters + reductions    compiler/lower/fusion.cpp
//   build_steps      a step per kernel or native op        compiler/lower/build_steps.cpp
//   choose_inplace   updates and gemm written in place     compiler/lower/choose_inplace.cpp
//   order_steps      the order steps run in                compiler/lower/order_steps.cpp
//   plan_memory      buffers, and what a call returns      compiler/lower/plan_memory.cpp
//   compile_kernels  LLVM machine code for the kernels     compiler/lower/compile_kernels.cpp
//
// Mode::reference stops after optimize (which runs no rewrite there) and runs
// the reference evaluator; Mode::debug runs the schedule beside it.
#include "compiler/pipeline.hpp"

#include "compiler/eval/reference_executor.hpp"
#include "compiler/exec/debug_executor.hpp"
#include "compiler/exec/executor.hpp"
#include "compiler/ir/graph.hpp"
#include "compiler/ir/printer.hpp"
#include "compiler/jit/jit_engine.hpp"
#include "compiler/lower/expand.hpp"
#include "compiler/lower/lower.hpp"
#include "compiler/passes/optimize.hpp"

#include <graphjit/errors.hpp>

#include <algorithm>
#include <chrono>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <iostream>

namespace graphjit::compiler {

namespace {

bool excluded(const CompileOptions& options, const std::string& stage) {
  return std::find(options.excluded_passes.begin(), options.excluded_passes.end(), stage) !=
         options.excluded_passes.end();
}

// Checks every excluded name against the rewrites and the lowering stages;
// returns the options the rewrites see (their own names only).
CompileOptions split_exclusions(const CompileOptions& options) {
  std::vector<std::string> valid = passes::pass_names();
  const std::vector<std::string> stages = lowering_stage_names();
  valid.insert(valid.end(), stages.begin(), stages.end());
  CompileOptions rewrites = options;
  rewrites.excluded_passes.clear();
  for (const std::string& name : options.excluded_passes) {
    if (std::find(valid.begin(), valid.end(), name) == valid.end())
      throw FunctionError(fmt::format("excluded_passes (flag optimizer_excluding): there is no pass named '{}'; "
                                      "the passes are: {}", name,
                                      fmt::join(valid, ", ")));
    if (std::find(stages.begin(), stages.end(), name) == stages.end()) rewrites.excluded_passes.push_back(name);
  }
  return rewrites;
}

void dump(const std::string& stage, const std::string& text) {
  if (passes::dump_requested()) std::cerr << "=== graphjit: after " << stage << " ===\n" << text;
}

// Runs one stage, adding its wall time to `times` under its name.
template <class F> auto timed(std::vector<std::pair<std::string, double>>& times, const char* stage, F&& run) {
  const auto start = std::chrono::steady_clock::now();
  struct Record {
    std::vector<std::pair<std::string, double>>& times;
    const char* stage;
    std::chrono::steady_clock::time_point start;
    ~Record() {
      times.emplace_back(stage, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
  } record{times, stage, start};
  return run();
}

lower::Schedule lower_program(const Program& program, const CompileOptions& options, Compiled& result) {
  auto& t = result.stage_ms;
  const lower::Fusion fusion = timed(t, "fuse", [&] {
    return lower::fuse(ir::toposort(program.outputs), program.outputs, !excluded(options, "fusion"));
  });
  lower::Schedule schedule = timed(t, "build_steps", [&] { return lower::build_steps(program, fusion); });
  dump("build_steps", lower::print_schedule(schedule));
  if (!excluded(options, "inplace")) {
    timed(t, "choose_inplace", [&] { lower::choose_inplace(schedule); });
    dump("choose_inplace", lower::print_schedule(schedule));
  }
  timed(t, "order_steps", [&] { lower::order_steps(schedule); });
  dump("order_steps", lower::print_schedule(schedule));
  timed(t, "plan_memory", [&] { lower::plan_memory(schedule, !excluded(options, "buffer_reuse")); });
  dump("plan_memory", lower::print_schedule(schedule));
  const jit::LlvmTimes before = jit::thread_llvm_times();
  timed(t, "compile_kernels", [&] {
    lower::compile_kernels(schedule, options.name.empty() ? "graphjit_function" : options.name);
  });
  const jit::LlvmTimes after = jit::thread_llvm_times();
  result.llvm_optimize_ms = after.optimize_ms - before.optimize_ms;
  result.llvm_codegen_ms = after.codegen_ms - before.codegen_ms;
  result.llvm_wall_ms = after.wall_ms - before.wall_ms;
  return schedule;
}

}  // namespace

std::vector<std::string> lowering_stage_names() { return {"expand", "fusion", "inplace", "buffer_reuse"}; }

Compiled compile(Program program, const CompileOptions& options) {
  const CompileOptions rewrite_options = split_exclusions(options);
  Compiled result;
  if (options.mode == Mode::reference) {
    result.optimized = passes::optimize(std::move(program), rewrite_options);
    result.executor = std::make_unique<eval::ReferenceExecutor>(result.optimized);
    return result;
  }
  const Program original = program;
  program = timed(result.stage_ms, "optimize", [&] { return passes::optimize(std::move(program), rewrite_options); });
  if (!excluded(options, "expand")) {
    program.outputs = timed(result.stage_ms, "expand", [&] { return lower::expand_for_fusion(program.outputs); });
    dump("expand", ir::debugprint(program.outputs));
  }
  result.optimized = program;
  auto schedule = std::make_shared<const lower::Schedule>(lower_program(program, options, result));
  result.schedule = schedule;
  const exec::Watch watch{options.profile, options.nan_guard};
  if (options.mode == Mode::debug) result.executor = std::make_unique<exec::DebugExecutor>(original, schedule, watch);
  else result.executor = std::make_unique<exec::ScheduleExecutor>(schedule, watch);
  return result;
}

}  // namespace graphjit::compiler
