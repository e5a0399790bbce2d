// newaxis in an index (issue 8): tensor::subtensor hands an index holding
// newaxis entries here (frontend/ops/axes_selection.cpp).
#pragma once

#include <graphjit/variable.hpp>

#include <optional>
#include <source_location>
#include <vector>

namespace graphjit::ops {

// x[indices] when they hold newaxis: x with a broadcastable dim inserted for
// each (a dimshuffle), indexed by the rest. Nothing when there is no newaxis.
std::optional<Variable> index_with_newaxes(const Variable& x, const std::vector<Index>& indices,
                                           std::source_location where);

}  // namespace graphjit::ops
