// From a program to something that runs it: the rewrites for the mode, in
// order, then the executor. The one place that lists the compiler's steps.
#pragma once

#include "compiler/program.hpp"

#include <graphjit/function.hpp>

#include <memory>

namespace graphjit::compiler {

struct Compiled {
  Program optimized;  // what debugprint(function) shows
  std::unique_ptr<Executor> executor;
  double rewrite_ms = 0;  // wall time of passes::optimize (benchmarks/bench_compile_depth)
};

Compiled compile(Program program, const FunctionOptions& options);

}  // namespace graphjit::compiler
