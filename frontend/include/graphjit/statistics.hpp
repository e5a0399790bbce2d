// Reductions built from the fused ones (issue 8): variance and standard
// deviation with numpy's ddof, any and all, and the max-shifted logsumexp.
// Included by tensor.hpp.
#pragma once

#include <graphjit/variable.hpp>

#include <source_location>

namespace graphjit::tensor {

// mean((x - mean(x))^2) * n / (n - ddof) over the axes; float64 for integer x.
Variable var(const Variable& x, Axes axis = std::nullopt, bool keepdims = false, int ddof = 0,
             std::source_location where = std::source_location::current());
Variable std(const Variable& x, Axes axis = std::nullopt, bool keepdims = false, int ddof = 0,
             std::source_location where = std::source_location::current());
// Whether any / all elements are nonzero; bool results.
Variable any(const Variable& x, Axes axis = std::nullopt, bool keepdims = false,
             std::source_location where = std::source_location::current());
Variable all(const Variable& x, Axes axis = std::nullopt, bool keepdims = false,
             std::source_location where = std::source_location::current());
// log(sum(exp(x))) computed as m + log(sum(exp(x - m))), m = max(x): finite for large x.
Variable logsumexp(const Variable& x, Axes axis = std::nullopt, bool keepdims = false,
                   std::source_location where = std::source_location::current());

}  // namespace graphjit::tensor
