// Axes and selection builders (issue 8) written with existing ops:
// transpose(x, axes) and newaxis (dimshuffle), reshape to a shape vector,
// take (indexing). (T::where, switch's alias, is in math.hpp.)
#include "frontend/ops/newaxis.hpp"
#include "frontend/ops/op_support.hpp"

#include <graphjit/shape_ops.hpp>
#include <graphjit/tensor.hpp>

#include <algorithm>
#include <fmt/format.h>

namespace graphjit::tensor {

Variable transpose(const Variable& x, const std::vector<std::int64_t>& axes, SL where) {
  ops::require_defined(x, "transpose", where);
  std::vector<std::int64_t> pattern;
  for (std::int64_t a : axes) pattern.push_back(a < 0 ? a + x.ndim() : a);
  std::vector<std::int64_t> sorted = pattern;
  std::sort(sorted.begin(), sorted.end());
  bool permutation = static_cast<int>(sorted.size()) == x.ndim();
  for (std::size_t i = 0; permutation && i < sorted.size(); ++i) permutation = sorted[i] == static_cast<std::int64_t>(i);
  if (!permutation)
    throw TypeError(fmt::format("transpose at {}: the axes ({}) are not a permutation of the {} dims of '{}' ({})",
                                ops::where_str(where), fmt::join(axes, ", "), x.ndim(), x.label(), x.type_str()));
  return dimshuffle(x, pattern, where);
}

Variable reshape(const Variable& x, const Variable& shape, int ndim, SL where) {
  ops::require_defined(x, "reshape", where);
  ops::require_defined(shape, "reshape", where);
  return reshape(x, SymbolicShape(shape, ndim).lengths("reshape", where), where);
}

// Theano's take: flattened without an axis, else x indexed by `indices` at
// the axis, after wrapping or clipping them to the axis' length for those modes.
Variable take(const Variable& x, const Variable& indices, std::optional<int> axis, TakeMode mode, SL where) {
  ops::require_defined(x, "take", where);
  ops::require_defined(indices, "take", where);
  if (!axis) return take(flatten(x, 1, where), indices, 0, mode, where);
  if (*axis < -x.ndim() || *axis >= x.ndim())
    throw TypeError(fmt::format("take at {}: axis {} is out of range for '{}' ({})", ops::where_str(where), *axis,
                                x.label(), x.type_str()));
  const int dim = *axis < 0 ? *axis + x.ndim() : *axis;
  Variable at = indices;
  if (mode != TakeMode::raise) {
    if (!is_integer(indices.dtype()) || indices.dtype() == bool_)
      throw TypeError(fmt::format("take at {}: the indices '{}' are {}; they must be integers", ops::where_str(where),
                                  indices.label(), indices.type_str()));
    const Variable length = x.shape(dim, where);
    at = mode == TakeMode::wrap ? mod(cast(indices, int64, where), length, where)
                                : clip(cast(indices, int64, where), 0, length - 1, where);
  }
  std::vector<Index> index(static_cast<std::size_t>(dim), Slice());
  index.emplace_back(at, where);
  return subtensor(x, index, where);
}

}  // namespace graphjit::tensor

namespace graphjit::ops {

// Theano's rule: each newaxis inserts a broadcastable dim into x at its place
// in the index, and that dim is then taken whole.
std::optional<Variable> index_with_newaxes(const Variable& x, const std::vector<Index>& indices, std::source_location where) {
  const auto is_newaxis = [](const Index& i) { return std::holds_alternative<NewAxis>(i.value()); };
  if (std::none_of(indices.begin(), indices.end(), is_newaxis)) return std::nullopt;
  require_defined(x, "subtensor", where);
  std::vector<std::int64_t> pattern;
  std::vector<Index> rest;
  std::int64_t next = 0;
  bool only_whole_dims = true;
  for (const Index& i : indices) {
    if (is_newaxis(i)) {
      pattern.push_back(-1);
      rest.emplace_back(Slice(), i.where());
      continue;
    }
    if (next < x.ndim()) pattern.push_back(next++);
    const Slice* s = std::get_if<Slice>(&i.value());
    only_whole_dims = only_whole_dims && s && !s->start && !s->stop && !s->step;
    rest.push_back(i);
  }
  for (; next < x.ndim(); ++next) pattern.push_back(next);
  const Variable expanded = tensor::dimshuffle(x, pattern, where);
  return only_whole_dims && static_cast<int>(rest.size()) <= expanded.ndim() ? expanded
                                                                             : tensor::subtensor(expanded, rest, where);
}

}  // namespace graphjit::ops
