// graphjit::profile: the executor's per-step sums (exec::RunProfile) and the
// compile's stage times (Compiled::stage_ms) as one report.
#include <graphjit/errors.hpp>
#include <graphjit/profile.hpp>

#include "compiler/exec/debug_executor.hpp"
#include "compiler/exec/executor.hpp"
#include "compiler/ir/diagnostics.hpp"
#include "compiler/ir/op_info.hpp"
#include "compiler/view/json.hpp"
#include "frontend/function_impl.hpp"

#include <algorithm>
#include <cstdio>
#include <fmt/format.h>
#include <numeric>

namespace graphjit {

namespace {

const exec::ScheduleExecutor* schedule_executor(const compiler::Executor* e) {
  if (auto* s = dynamic_cast<const exec::ScheduleExecutor*>(e)) return s;
  if (auto* d = dynamic_cast<const exec::DebugExecutor*>(e)) return &d->jit();
  return nullptr;
}

StepProfile step_profile(const compiler::lower::Schedule& s, std::size_t t, const exec::StepTotals& totals) {
  using compiler::lower::Step;
  const Step& step = s.steps[t];
  StepProfile p;
  p.index = t;
  const ir::Node& first_out = s.node(step.out.front());
  if (step.kind == Step::Kind::Kernel) {
    p.kind = "kernel";
    p.what = s.kernels[step.cluster].describe();
  } else {
    p.kind = ir::op_info(step.node->op).name;
    p.what = ir::describe(*step.node);
  }
  p.where = ir::where_str(first_out.where);
  p.calls = totals.calls;
  p.seconds = totals.seconds;
  if (totals.seconds > 0) {
    p.gflops = totals.flops / totals.seconds * 1e-9;
    p.gbytes_per_s = totals.bytes / totals.seconds * 1e-9;
  }
  return p;
}

}  // namespace

Profile profile(const Function& f) {
  const Function::Impl& impl = *f.impl();
  const exec::ScheduleExecutor* executor = schedule_executor(impl.compiled.executor.get());
  if (!executor)
    throw FunctionError(impl.name + ": profile() needs a compiled schedule; Mode::reference has none (use fast_run, "
                                    "fast_compile or debug)");
  if (!executor->watch().profile)
    throw FunctionError(impl.name + ": was not compiled with profiling on; pass {.profile = true} to function() or "
                                    "set the flag (GRAPHJIT_FLAGS=profile=true)");
  const exec::RunProfile& run = executor->profile();
  Profile p;
  p.function = impl.name;
  p.calls = run.calls;
  p.seconds = run.seconds;
  for (std::size_t t = 0; t < run.steps.size(); ++t) {
    p.steps.push_back(step_profile(executor->schedule(), t, run.steps[t]));
    p.steps.back().share = run.seconds > 0 ? run.steps[t].seconds / run.seconds : 0;
  }
  p.compile_ms = impl.compiled.stage_ms;
  p.compile_ms.emplace_back("llvm_optimize", impl.compiled.llvm_optimize_ms);
  p.compile_ms.emplace_back("llvm_codegen", impl.compiled.llvm_codegen_ms);
  p.compile_ms.emplace_back("llvm_wall", impl.compiled.llvm_wall_ms);
  return p;
}

double Profile::step_seconds() const {
  return std::accumulate(steps.begin(), steps.end(), 0.0, [](double sum, const StepProfile& s) { return sum + s.seconds; });
}

std::string Profile::table() const {
  const double per_call = calls ? 1e6 / static_cast<double>(calls) : 0;
  std::string out = fmt::format("graphjit profile of {}\n  {} calls, {:.1f} us per call; the steps take {:.1f}% of it, "
                                "the executor the rest\n",
                                function, calls, seconds * per_call, seconds > 0 ? 100 * step_seconds() / seconds : 0);
  std::vector<const StepProfile*> by_time;
  for (const StepProfile& s : steps) by_time.push_back(&s);
  std::stable_sort(by_time.begin(), by_time.end(), [](auto* a, auto* b) { return a->seconds > b->seconds; });
  out += "  <% time> <sum %> <us/call> <calls> <rate>        <step> <kind> <what>\n";
  double cumulative = 0;
  for (const StepProfile* s : by_time) {
    cumulative += s->share;
    std::string rate;
    if (s->gflops > 0) rate = fmt::format("{:.2f} GFLOP/s", s->gflops);
    else if (s->gbytes_per_s > 0) rate = fmt::format("{:.2f} GB/s", s->gbytes_per_s);
    const double us = s->calls ? 1e6 * s->seconds / static_cast<double>(s->calls) : 0;
    std::string what = s->what.size() > 110 ? s->what.substr(0, 107) + "..." : s->what;
    out += fmt::format("  {:6.1f}% {:6.1f}% {:9.1f} {:7} {:<15} #{:<4} {} {}\n", 100 * s->share, 100 * cumulative, us,
                       s->calls, rate, s->index, s->kind, what);
  }
  out += "  compile (ms):";
  for (const auto& [stage, ms] : compile_ms) out += fmt::format(" {} {:.2f},", stage, ms);
  out.back() = '\n';
  return out;
}

std::string Profile::json() const {
  using view::json_string;
  std::string out = fmt::format("{{\"function\": {}, \"calls\": {}, \"seconds\": {:.9g}, \"steps\": [", json_string(function),
                                calls, seconds);
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const StepProfile& s = steps[i];
    out += fmt::format("{}\n  {{\"index\": {}, \"kind\": {}, \"what\": {}, \"where\": {}, \"calls\": {}, \"seconds\": "
                       "{:.9g}, \"share\": {:.6g}, \"gflops\": {:.6g}, \"gbytes_per_s\": {:.6g}}}",
                       i ? "," : "", s.index, json_string(s.kind), json_string(s.what), json_string(s.where), s.calls,
                       s.seconds, s.share, s.gflops, s.gbytes_per_s);
  }
  out += "],\n \"compile_ms\": {";
  for (std::size_t i = 0; i < compile_ms.size(); ++i)
    out += fmt::format("{}{}: {:.6g}", i ? ", " : "", json_string(compile_ms[i].first), compile_ms[i].second);
  return out + "}}\n";
}

Function::Impl::~Impl() {
  if (!print_profile) return;
  try {
    std::fputs(profile(Function(std::shared_ptr<Impl>(this, [](Impl*) {}))).table().c_str(), stderr);
  } catch (const std::exception&) {
    // A destructor reports what it can; Mode::reference has no profile.
  }
}

}  // namespace graphjit
