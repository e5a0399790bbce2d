// Theano's default updates gathered from a graph: the one walk that function()
// (for the outputs and updates it computes) and scan() (for the step's
// graph, whose random streams become loop states) share.
#pragma once

#include <graphjit/shared.hpp>
#include <graphjit/variable.hpp>

#include <functional>
#include <utility>
#include <vector>

namespace graphjit {

// The (shared variable, default update) of every shared variable that `roots`
// read and that has a default update (graphjit/random_streams.hpp), in the
// order found, leaving out those `skip` names. An added update may read more
// such variables, so the search repeats on what it added.
std::vector<std::pair<SharedVariable, Variable>> gather_default_updates(
    const std::vector<Variable>& roots, const std::function<bool(const SharedState*)>& skip);

}  // namespace graphjit
