// The pipeline: every graph rewrite, in the order they run, in one list.
//
//   merge             shares common subexpressions, so later passes see them once
//   constant_folding  computes constant subgraphs, so rules see plain constants
//   canonicalize      removes identities, picks one form per expression
//   stabilize         log(softmax) -> log_softmax, log(1+x) -> log1p, ...
//   gemm              dot(a, b) + c, W - lr * dot(a, b) -> Gemm
//   canonicalize      again, for the lengths the gemms' c matrices read
//   merge             shares what the rewrites built twice
//
// A pass listed twice is one pass run twice: excluding it by name excludes both.
// Each pass is tagged with the lowest mode it runs in: fast_compile runs only
// merge (cheap, and every later stage does less work); fast_run runs all.
// Mode::reference runs none: it is the oracle for the user's graph as
// written. CompileOptions::optimizer (flag `optimizer`) narrows the list
// further: fast_compile as in Mode::fast_compile, None runs no pass. Mode::debug runs the fast_run list, so it checks the graph the JIT
// really runs.
#include "compiler/passes/optimize.hpp"

#include "compiler/passes/passes.hpp"

#include <graphjit/errors.hpp>

#include "compiler/ir/printer.hpp"
#include <graphjit/runtime/config.hpp>

#include <fmt/format.h>
#include <iostream>
#include <algorithm>
#include <fmt/ranges.h>
#include <stdexcept>

namespace graphjit::compiler::passes {

namespace {

struct Pass {
  const char* name;
  Mode lowest;  // fast_compile: runs in fast_compile, fast_run and debug; fast_run: in fast_run and debug
  Graph (*run)(const Graph&);
};

constexpr Pass kPipeline[] = {
    {"merge", Mode::fast_compile, merge},
    {"constant_folding", Mode::fast_run, fold_constants},
    {"canonicalize", Mode::fast_run, canonicalize},
    {"stabilize", Mode::fast_run, stabilize},
    {"gemm", Mode::fast_run, insert_gemm},
    {"canonicalize", Mode::fast_run, canonicalize},
    {"merge", Mode::fast_compile, merge},
};

bool runs_in(const Pass& pass, Mode mode) {
  switch (mode) {
    case Mode::reference: return false;
    case Mode::fast_compile: return pass.lowest == Mode::fast_compile;
    case Mode::fast_run:
    case Mode::debug: return true;
  }
  return false;
}

// The optimizer option narrows the mode's list (config's `optimizer` flag).
bool allowed_by(const Pass& pass, Optimizer optimizer) {
  switch (optimizer) {
    case Optimizer::none: return false;
    case Optimizer::fast_compile: return runs_in(pass, Mode::fast_compile);
    case Optimizer::fast_run: return true;
  }
  return false;
}

bool is_excluded(const Pass& pass, const CompileOptions& options) {
  for (const std::string& name : options.excluded_passes)
    if (name == pass.name) return true;
  return false;
}

void check_excluded_names(const CompileOptions& options) {
  const std::vector<std::string> valid = pass_names();
  for (const std::string& name : options.excluded_passes)
    if (std::find(valid.begin(), valid.end(), name) == valid.end())
      throw FunctionError(fmt::format("excluded_passes (flag optimizer_excluding): there is no pass named '{}'; "
                                      "the passes are: {}", name,
                                      fmt::join(valid, ", ")));
}

void dump(const std::string& title, const Graph& roots) {
  std::cerr << "=== graphjit: " << title << " ===\n" << ir::debugprint(roots);
}

// A pass that changed an output's Type would change what the function
// returns: a bug in the pass, reported as such.
void check_types(const Pass& pass, const Graph& before, const Graph& after) {
  if (after.size() != before.size())
    throw std::logic_error(fmt::format("pass '{}' returned {} roots for {}", pass.name, after.size(), before.size()));
  for (std::size_t i = 0; i < before.size(); ++i)
    if (after[i]->type != before[i]->type)
      throw std::logic_error(fmt::format("pass '{}' changed the type of output {} from {} to {}", pass.name, i,
                                         before[i]->type.str(), after[i]->type.str()));
}

}  // namespace

bool dump_requested() { return config().dump_passes; }

std::vector<std::string> pass_names() {
  std::vector<std::string> names;
  for (const Pass& pass : kPipeline)
    if (std::find(names.begin(), names.end(), pass.name) == names.end()) names.emplace_back(pass.name);
  return names;
}

Program optimize(Program program, const CompileOptions& options) {
  check_excluded_names(options);
  const bool dumping = dump_requested();
  if (dumping && options.mode != Mode::reference) dump("before the passes", program.outputs);
  for (const Pass& pass : kPipeline) {
    if (!runs_in(pass, options.mode) || !allowed_by(pass, options.optimizer) || is_excluded(pass, options)) continue;
    Graph rewritten = pass.run(program.outputs);
    check_types(pass, program.outputs, rewritten);
    const bool changed = rewritten != program.outputs;
    program.outputs = std::move(rewritten);
    if (dumping && changed) dump(fmt::format("after pass '{}'", pass.name), program.outputs);
  }
  return program;
}

}  // namespace graphjit::compiler::passes
