// Cumulative sums and products (Theano's extra_ops.cumsum/cumprod) and
// sorting (theano.tensor.sort/argsort), numpy's semantics. Included by tensor.hpp.
#pragma once

#include <graphjit/variable.hpp>

#include <optional>
#include <source_location>

namespace graphjit::tensor {

using SL = std::source_location;

// The running sum / product along `axis`; no axis (Theano's axis=None)
// accumulates over the flattened input and returns a vector. The result has
// x's dtype, as Theano's CumOp (integers wrap on overflow; numpy's cumsum
// would widen int32 to int64, graphjit's and Theano's sum do); bool counts
// in int64. Both have gradients (cumprod's is exact at zeros too) and Rops.
Variable cumsum(const Variable& x, std::optional<int> axis = std::nullopt, SL where = SL::current());
Variable cumprod(const Variable& x, std::optional<int> axis = std::nullopt, SL where = SL::current());

// numpy.sort / numpy.argsort along `axis` (default the last); no axis sorts
// the flattened input. Ascending, nan after everything else (numpy's order);
// argsort is stable (equal values keep their order) and int64. sort has a
// gradient: the output's gradient sent back to where each value came from.
Variable sort(const Variable& x, std::optional<int> axis = -1, SL where = SL::current());
Variable argsort(const Variable& x, std::optional<int> axis = -1, SL where = SL::current());

namespace extra_ops {
using tensor::cumprod;
using tensor::cumsum;
}  // namespace extra_ops

}  // namespace graphjit::tensor
