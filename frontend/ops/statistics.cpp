// var, std, any, all and logsumexp written with the fused reductions, so they
// compile into the same kernels and differentiate through them.
#include <graphjit/errors.hpp>
#include <graphjit/tensor.hpp>

#include "frontend/ops/op_support.hpp"

#include <fmt/format.h>

namespace graphjit::tensor {

namespace {
// The number of elements each reduced output element summarises, as a scalar of `dtype`.
Variable reduced_count(const Variable& x, const Variable& reduced_keepdims, DType dtype, SL where) {
  const Variable n = int_div(prod(shape(x, where), std::nullopt, false, where),
                             prod(shape(reduced_keepdims, where), std::nullopt, false, where), where);
  return cast(n, dtype, where);
}
}  // namespace

Variable var(const Variable& x, Axes axis, bool keepdims, int ddof, SL where) {
  if (ddof < 0) throw TypeError(fmt::format("var at {}: ddof must be >= 0, got {}", ops::where_str(where), ddof));
  const Variable m = mean(x, axis, /*keepdims=*/true, where);
  const Variable v = mean(sqr(sub(x, m, where), where), axis, keepdims, where);
  if (ddof == 0) return v;
  const Variable n = reduced_count(x, m, v.dtype(), where);
  return true_div(mul(v, n, where), sub(n, ddof, where), where);
}

Variable std(const Variable& x, Axes axis, bool keepdims, int ddof, SL where) {
  return sqrt(var(x, std::move(axis), keepdims, ddof, where), where);
}

Variable any(const Variable& x, Axes axis, bool keepdims, SL where) {
  return max(neq(x, 0, where), std::move(axis), keepdims, where);
}

Variable all(const Variable& x, Axes axis, bool keepdims, SL where) {
  return min(neq(x, 0, where), std::move(axis), keepdims, where);
}

Variable logsumexp(const Variable& x, Axes axis, bool keepdims, SL where) {
  const Variable m = max(x, axis, /*keepdims=*/true, where);
  // An all -inf row would give -inf - -inf = nan: shift such rows by 0.
  const Variable shift = switch_(isinf(m, where), 0, m, where);
  const Variable total = log(sum(exp(sub(x, shift, where), where), axis, /*keepdims=*/true, where), where);
  const Variable out = add(total, shift, where);
  if (keepdims) return out;
  return sum(out, axis, false, where);  // drops the kept length-1 axes
}

}  // namespace graphjit::tensor
