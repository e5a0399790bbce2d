// theano.clone: copies of output graphs with some variables replaced (issue 8).
#pragma once

#include <graphjit/variable.hpp>

#include <utility>
#include <vector>

namespace graphjit {

// The outputs rebuilt with each `replace` key substituted by its value
// (same dtype and rank, else a TypeError naming both); the originals are unchanged.
std::vector<Variable> clone(const std::vector<Variable>& outputs,
                            const std::vector<std::pair<Variable, Variable>>& replace = {});
Variable clone(const Variable& output, const std::vector<std::pair<Variable, Variable>>& replace = {});

}  // namespace graphjit
