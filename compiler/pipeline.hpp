// From a program to something that runs it. compiler/pipeline.cpp is the one
// place that lists the compiler's stages, in order.
#pragma once

#include "compiler/program.hpp"

#include "compiler/options.hpp"

#include <memory>
#include <string>
#include <vector>

namespace graphjit::compiler {

namespace lower {
struct Schedule;
}

struct Compiled {
  Program optimized;                                // the rewritten graph, what debugprint(function) lists
  std::shared_ptr<const lower::Schedule> schedule;  // what runs it (null in Mode::reference)
  std::unique_ptr<Executor> executor;
  // Wall milliseconds of each stage that ran, in order ("optimize", "expand",
  // "fuse", ..., "compile_kernels"): the compile-time profile.
  std::vector<std::pair<std::string, double>> stage_ms;
  // compile_kernels's LLVM time (jit::LlvmTimes): the CPU time of its two
  // parts, IR optimization and machine code generation, summed over the
  // compile threads (so with several threads their sum may exceed the
  // stage's wall time), and the wall time the stage waited for them; the rest
  // of that stage is planning and emitting the kernels' IR. Zero when every
  // kernel came from the kernel cache.
  double llvm_optimize_ms = 0, llvm_codegen_ms = 0, llvm_wall_ms = 0;
  double ms(const std::string& stage) const {
    for (const auto& [name, ms] : stage_ms)
      if (name == stage) return ms;
    return 0;
  }
};

Compiled compile(Program program, const CompileOptions& options);

// The lowering stages that options.excluded_passes may switch off, besides
// the rewrites: "expand", "fusion", "inplace", "buffer_reuse".
std::vector<std::string> lowering_stage_names();

}  // namespace graphjit::compiler
