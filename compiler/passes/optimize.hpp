// The optimizer: the graph rewrites a function's mode asks for, in order.
#pragma once

#include "compiler/program.hpp"

#include "compiler/options.hpp"

#include <string>
#include <vector>

namespace graphjit::compiler::passes {

// The program with its outputs and update values rewritten by every pass the
// mode runs (Mode::reference: none; fast_compile: the cheap ones the JIT
// benefits from; fast_run and debug: all) and options.optimizer allows,
// except options.excluded_passes. Throws FunctionError when excluded_passes
// names an unknown pass. config().dump_passes (flag dump_passes) prints the
// graph to stderr after each pass that changed it.
Program optimize(Program program, const CompileOptions& options);

// Every pass name, in pipeline order, each once: what excluded_passes accepts.
std::vector<std::string> pass_names();

// GRAPHJIT_DUMP_PASSES: print the program after every stage of the compiler
// (the rewrites here, the lowering stages in compiler/pipeline.cpp).
bool dump_requested();

}  // namespace graphjit::compiler::passes
