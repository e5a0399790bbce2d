// What the compiler needs to know of a function's options: the frontend's
// FunctionOptions (graphjit/function.hpp) less what it resolves itself
// (updates, givens, argument checking).
#pragma once

#include <graphjit/runtime/config.hpp>

#include <string>
#include <vector>

namespace graphjit::compiler {

struct CompileOptions {
  Mode mode = Mode::fast_run;
  Optimizer optimizer = Optimizer::fast_run;   // narrows the rewrites the mode runs
  std::vector<std::string> excluded_passes{};  // rewrites and lowering stages to switch off by name
  std::string name;                            // the function's name, for symbols and dumps
  bool profile = false;                        // time each step and count its work (graphjit::profile)
  bool nan_guard = false;                      // stop at the first step producing a nan or inf
};

}  // namespace graphjit::compiler
