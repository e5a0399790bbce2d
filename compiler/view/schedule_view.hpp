// A picture of what runs: a function's Schedule (compiler/lower) as a
// GraphView. Each fused kernel is a group of the elementwise ops and
// reductions it computes in one loop nest; each native step (gemm and dot
// calls, views, gathers) a node of its own; every computed value says which
// step makes it, which buffer it lives in and which value's memory it
// overwrites in place (also drawn as a dashed edge); with a profile, each
// step's time per call, share of the call and call count.
#pragma once

#include "compiler/lower/schedule.hpp"
#include "compiler/view/graph_view.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace graphjit::view {

// One step's profile, as graphjit::Profile reports it.
struct StepTime {
  std::size_t calls = 0;
  double seconds = 0;  // summed over the calls
  double share = 0;    // of the calls' time, 0 to 1
};

// `times`: per schedule step, or empty when the function was not profiled.
// `output_labels`: per program output ("output 0", "update of W").
GraphView view_of_schedule(const compiler::lower::Schedule& schedule, const std::vector<std::string>& output_labels,
                           const std::vector<StepTime>& times, std::string title);

}  // namespace graphjit::view
