// Reductions: sum, prod, max, min, argmax, argmin over attrs.axes (empty: all
// axes), with attrs.keepdims. Builders canonicalise the axes (non-negative,
// sorted, "all" stored as empty), so equal reductions are equal nodes.
//
// dtypes follow numpy: sum and prod of bool or integers are int64, of floats
// their own dtype; max and min keep the dtype; argmax and argmin are int64
// (the index along the one axis, or into the flattened input for all axes).
//
// The reference kernels accumulate float sums and products in double and
// round once at the end (numpy sums float32 pairwise in float32; double
// accumulation is at least as accurate, so the JIT is compared against the
// better answer). Integer sums and products wrap around like numpy's int64.
#include "frontend/ops/op_support.hpp"

#include <graphjit/tensor.hpp>

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <type_traits>

namespace graphjit::ir {

namespace {

bool is_arg_reduction(OpCode op) { return op == OpCode::Argmax || op == OpCode::Argmin; }

// Which input dims the node reduces. Also the type check of the axes: each
// must be in range and listed once, and argmax/argmin take one axis or all.
std::vector<bool> reduced_dims(const Node& node) {
  const int ndim = node.inputs[0]->type.ndim();
  const std::vector<int>& axes = node.attrs.axes;
  if (is_arg_reduction(node.op) && axes.size() > 1)
    ops::type_error(node, fmt::format("{} takes one axis or all of them (nullopt), not {} axes",
                                      op_info(node.op).name, axes.size()));
  std::vector<bool> reduced(static_cast<std::size_t>(ndim), axes.empty());
  for (int axis : axes) {
    const int d = ops::normalize_axis(node, axis, ndim);
    if (reduced[d]) ops::type_error(node, fmt::format("axis {} is listed twice; list each axis once", axis));
    reduced[d] = true;
  }
  return reduced;
}

Type infer_type(const Node& node) {
  const Type& in = node.inputs[0]->type;
  const std::vector<bool> reduced = reduced_dims(node);
  Type out;
  switch (node.op) {
    case OpCode::Sum:
    case OpCode::Prod: out.dtype = is_float(in.dtype) ? in.dtype : int64; break;
    case OpCode::Argmax:
    case OpCode::Argmin: out.dtype = int64; break;
    default: out.dtype = in.dtype; break;
  }
  for (int d = 0; d < in.ndim(); ++d) {
    if (!reduced[d]) out.broadcastable.push_back(in.broadcastable[d]);
    else if (node.attrs.keepdims) out.broadcastable.push_back(true);
  }
  return out;
}

Shape infer_shape(const Node& node, const std::vector<Tensor>& inputs) {
  const std::vector<bool> reduced = reduced_dims(node);
  Shape out;
  for (int d = 0; d < inputs[0].ndim(); ++d) {
    if (!reduced[d]) out.push_back(inputs[0].shape(d));
    else if (node.attrs.keepdims) out.push_back(1);
  }
  return out;
}

// Walks the input in row-major order, telling `visit` each element's flat
// position in the input, in the output, and within its reduced group (the
// row-major index over the reduced dims: what argmax returns).
template <class Visit> void for_each_reduced(const Tensor& x, const std::vector<bool>& reduced, Visit&& visit) {
  const int ndim = x.ndim();
  std::vector<std::int64_t> out_stride(static_cast<std::size_t>(ndim), 0), group_stride(out_stride);
  std::int64_t out_step = 1, group_step = 1;
  for (int d = ndim - 1; d >= 0; --d) {
    if (reduced[d]) {
      group_stride[d] = group_step;
      group_step *= x.shape(d);
    } else {
      out_stride[d] = out_step;
      out_step *= x.shape(d);
    }
  }
  std::int64_t k = 0;
  for_each_index(x.shape(), [&](const std::vector<std::int64_t>& idx) {
    std::int64_t o = 0, g = 0;
    for (int d = 0; d < ndim; ++d) {
      o += idx[d] * out_stride[d];
      g += idx[d] * group_stride[d];
    }
    visit(k++, o, g);
  });
}

// Writes one value per output element (in row-major order) into a new tensor of the node's type.
template <class V> Tensor to_output(const Node& node, const Shape& shape, const std::vector<V>& values) {
  Tensor out = Tensor::empty(shape, node.type.dtype);
  visit_dtype(node.type.dtype, [&](auto tag) {
    using O = decltype(tag);
    O* dst = out.data<O>();
    for (std::size_t i = 0; i < values.size(); ++i) dst[i] = value_cast<O>(values[i]);
  });
  return out;
}

// Sum or product: floats accumulate in double; integers in uint64, which
// wraps around as int64 arithmetic does in numpy (signed overflow is undefined in C++).
Tensor sum_or_prod_reference(const Node& node, const std::vector<Tensor>& inputs) {
  const Tensor x = inputs[0].contiguous();
  const Shape shape = infer_shape(node, inputs);
  const std::vector<bool> reduced = reduced_dims(node);
  const bool product = node.op == OpCode::Prod;
  const auto n = static_cast<std::size_t>(shape_numel(shape));
  return visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    using Acc = std::conditional_t<std::is_floating_point_v<T>, double, std::uint64_t>;
    const T* p = x.data<T>();
    std::vector<Acc> acc(n, product ? Acc(1) : Acc(0));
    for_each_reduced(x, reduced, [&](std::int64_t k, std::int64_t o, std::int64_t) {
      const Acc v = static_cast<Acc>(p[k]);
      acc[o] = product ? acc[o] * v : acc[o] + v;
    });
    if constexpr (std::is_floating_point_v<T>) return to_output(node, shape, acc);
    else {
      std::vector<std::int64_t> wrapped(acc.begin(), acc.end());
      return to_output(node, shape, wrapped);
    }
  });
}

std::int64_t reduced_count(const Tensor& x, const std::vector<bool>& reduced) {
  std::int64_t count = 1;
  for (int d = 0; d < x.ndim(); ++d)
    if (reduced[d]) count *= x.shape(d);
  return count;
}

// max/min/argmax/argmin: the winning value and where it sits in its group.
// NaN wins (numpy propagates it, and argmax points at the first NaN); ties
// keep the first occurrence.
Tensor extremum_reference(const Node& node, const std::vector<Tensor>& inputs) {
  const Tensor x = inputs[0].contiguous();
  const Shape shape = infer_shape(node, inputs);
  const std::vector<bool> reduced = reduced_dims(node);
  if (reduced_count(x, reduced) == 0)
    ops::shape_error(node, inputs,
                     fmt::format("{} over an empty set of elements is undefined (a reduced dim has length 0)",
                                 op_info(node.op).name));
  const bool want_max = node.op == OpCode::Max || node.op == OpCode::Argmax;
  const auto n = static_cast<std::size_t>(shape_numel(shape));
  return visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* p = x.data<T>();
    std::vector<T> best(n);
    std::vector<std::int64_t> position(n, -1);
    for_each_reduced(x, reduced, [&](std::int64_t k, std::int64_t o, std::int64_t g) {
      const T v = p[k];
      bool take = position[o] < 0;
      if (!take) {
        const T b = best[o];
        if constexpr (std::is_floating_point_v<T>) take = !std::isnan(b) && (std::isnan(v) || (want_max ? v > b : v < b));
        else take = want_max ? v > b : v < b;
      }
      if (take) {
        best[o] = v;
        position[o] = g;
      }
    });
    return is_arg_reduction(node.op) ? to_output(node, shape, position) : to_output(node, shape, best);
  });
}

// The output gradient (or output) of a reduction, with the reduced dims put
// back as broadcastable ones, so it broadcasts against the input.
Variable unreduce(const Node& node, const Variable& v) {
  if (node.attrs.keepdims) return v;
  const std::vector<bool> reduced = reduced_dims(node);
  std::vector<std::int64_t> pattern;
  std::int64_t kept = 0;
  for (bool r : reduced) pattern.push_back(r ? -1 : kept++);
  return tensor::dimshuffle(v, pattern);
}

// `g` (broadcastable against the input) as a gradient of the input's type.
Variable as_input_grad(const Node& node, const Variable& g) {
  const Variable x = ops::input(node, 0);
  const Variable full = g.broadcastable() == x.broadcastable() ? g : g + tensor::zeros_like(x);
  return tensor::cast(full, x.dtype());
}

std::vector<Variable> sum_grad(const Node& node, const Variable&, const Variable& g) {
  if (!is_float(node.inputs[0]->type.dtype)) return {Variable()};
  return {as_input_grad(node, unreduce(node, g))};
}

// d prod / d x_i is the product of the other elements of x_i's group. out / x_i
// is that only when x_i != 0, so, as Theano does without its no_zeros_in_input
// shortcut, count the zeros per group: none -> out / x; exactly one -> the
// product of the non-zeros at the zero, 0 elsewhere; more -> 0 everywhere.
std::vector<Variable> prod_grad(const Node& node, const Variable& out, const Variable& g) {
  if (!is_float(node.inputs[0]->type.dtype)) return {Variable()};
  namespace T = tensor;
  const Variable x = ops::input(node, 0);
  ir::Attrs group = node.attrs;
  group.keepdims = true;
  const Variable is_zero = T::eq(x, constant(0, x.dtype()));
  const Variable zeros = ops::apply(OpCode::Sum, {is_zero}, group, node.where);
  const Variable nonzero_prod = ops::apply(OpCode::Prod, {T::switch_(is_zero, 1, x)}, group, node.where);
  const Variable others = T::switch_(T::eq(zeros, constant(0, int64)), unreduce(node, out) / x,
                                     T::switch_(T::and_(T::eq(zeros, constant(1, int64)), is_zero), nonzero_prod, 0));
  return {as_input_grad(node, unreduce(node, g) * others)};
}

// Theano's rule (MaxAndArgmax.grad: eq(x, max) * g): every element equal to the
// extremum receives the whole output gradient; ties are not split. A nan extremum equals nothing.
std::vector<Variable> extremum_grad(const Node& node, const Variable& out, const Variable& g) {
  if (!is_float(node.inputs[0]->type.dtype)) return {Variable()};
  const Variable x = ops::input(node, 0);
  return {as_input_grad(node, unreduce(node, g) * tensor::eq(x, unreduce(node, out)))};
}

// The compiled argmax/argmin: the reduced dims moved last and made
// contiguous, so each output element scans one contiguous run, with the
// reference's rules (the first NaN wins, ties keep the first occurrence).
Tensor arg_extremum_native(const Node& node, const std::vector<Tensor>& inputs, OutputMemory& memory) {
  const Tensor& x = inputs[0];
  const std::vector<bool> reduced = reduced_dims(node);
  const std::int64_t group = reduced_count(x, reduced);
  if (group == 0) return extremum_reference(node, inputs);  // which names the error
  std::vector<int> perm;
  for (int d = 0; d < x.ndim(); ++d)
    if (!reduced[d]) perm.push_back(d);
  for (int d = 0; d < x.ndim(); ++d)
    if (reduced[d]) perm.push_back(d);
  const Tensor grouped = x.permute(perm).contiguous();
  Tensor out = memory.get(infer_shape(node, inputs), int64);
  std::int64_t* result = out.data<std::int64_t>();
  const bool want_max = node.op == OpCode::Argmax;
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* p = grouped.data<T>();
    for (std::int64_t o = 0, n = out.size(); o < n; ++o, p += group) {
      std::int64_t best = 0;
      T b = p[0];
      for (std::int64_t j = 1; j < group; ++j) {
        if constexpr (std::is_floating_point_v<T>)
          if (std::isnan(b)) break;
        const T v = p[j];
        bool take = want_max ? b < v : v < b;
        if constexpr (std::is_floating_point_v<T>) take = take || std::isnan(v);
        if (take) {
          b = v;
          best = j;
        }
      }
      result[o] = best;
    }
  });
  return out;
}

}  // namespace

void register_reduce_ops() {
  for (OpCode op : {OpCode::Sum, OpCode::Prod, OpCode::Max, OpCode::Min, OpCode::Argmax, OpCode::Argmin}) {
    OpInfo& info = define_op(op);
    info.infer_type = infer_type;
    info.infer_shape = infer_shape;
    info.reference = (op == OpCode::Sum || op == OpCode::Prod) ? sum_or_prod_reference : extremum_reference;
  }
  define_op(OpCode::Sum).fused_reduction = ReduceOp::Sum;
  define_op(OpCode::Prod).fused_reduction = ReduceOp::Prod;
  define_op(OpCode::Max).fused_reduction = ReduceOp::Max;
  define_op(OpCode::Min).fused_reduction = ReduceOp::Min;
  define_op(OpCode::Argmax).native = arg_extremum_native;
  define_op(OpCode::Argmin).native = arg_extremum_native;
  define_op(OpCode::Sum).grad = sum_grad;
  define_op(OpCode::Prod).grad = prod_grad;
  define_op(OpCode::Max).grad = extremum_grad;
  define_op(OpCode::Min).grad = extremum_grad;
  // Argmax and argmin are integer-valued: no gradient.
}

}  // namespace graphjit::ir

namespace graphjit::tensor {

using ir::OpCode;

namespace {

// Axes as the node stores them: normalised, sorted, and empty for "all".
// Axes that are out of range or repeated are passed through unchanged, so
// the op's type check reports them with the node's description.
std::vector<int> canonical_axes(const std::vector<int>& axes, int ndim) {
  std::vector<int> out;
  for (int a : axes) {
    const int d = a < 0 ? a + ndim : a;
    if (d < 0 || d >= ndim || std::find(out.begin(), out.end(), d) != out.end()) return axes;
    out.push_back(d);
  }
  std::sort(out.begin(), out.end());
  if (static_cast<int>(out.size()) == ndim) out.clear();
  return out;
}

Variable reduce(OpCode op, const Variable& x, const Axes& axis, bool keepdims, SL where) {
  ir::Attrs attrs;
  attrs.keepdims = keepdims;
  if (axis && x.defined()) {  // an undefined x is reported by apply()
    // numpy: an explicit empty list of axes reduces nothing (only the dtype rule applies).
    if (axis->empty())
      return (op == OpCode::Sum || op == OpCode::Prod) && !is_float(x.dtype()) ? cast(x, int64, where) : x;
    attrs.axes = canonical_axes(*axis, x.ndim());
  }
  return ops::apply(op, {x}, std::move(attrs), where);
}

Variable arg_reduce(OpCode op, const Variable& x, std::optional<int> axis, bool keepdims, SL where) {
  return reduce(op, x, axis ? Axes(std::vector<int>{*axis}) : std::nullopt, keepdims, where);
}

}  // namespace

Variable sum(const Variable& x, Axes axis, bool keepdims, SL where) {
  return reduce(OpCode::Sum, x, axis, keepdims, where);
}
Variable prod(const Variable& x, Axes axis, bool keepdims, SL where) {
  return reduce(OpCode::Prod, x, axis, keepdims, where);
}
Variable max(const Variable& x, Axes axis, bool keepdims, SL where) {
  return reduce(OpCode::Max, x, axis, keepdims, where);
}
Variable min(const Variable& x, Axes axis, bool keepdims, SL where) {
  return reduce(OpCode::Min, x, axis, keepdims, where);
}
Variable argmax(const Variable& x, std::optional<int> axis, bool keepdims, SL where) {
  return arg_reduce(OpCode::Argmax, x, axis, keepdims, where);
}
Variable argmin(const Variable& x, std::optional<int> axis, bool keepdims, SL where) {
  return arg_reduce(OpCode::Argmin, x, axis, keepdims, where);
}

// The sum divided by the number of elements reduced, read from the input's
// shape when the function runs (so one graph serves every batch size).
// Integer inputs give float64 (numpy's mean); float32 stays float32.
Variable mean(const Variable& x, Axes axis, bool keepdims, SL where) {
  const Variable total = sum(x, axis, keepdims, where);  // checks x and the axes
  if (axis && axis->empty()) return is_float(x.dtype()) ? x : cast(x, float64, where);  // nothing reduced
  Variable count;
  const std::vector<int>& axes = total.node()->attrs.axes;
  for (int d = 0; d < x.ndim(); ++d) {
    const bool reduced = axes.empty() || std::find(axes.begin(), axes.end(), d) != axes.end();
    if (!reduced || x.broadcastable()[d]) continue;  // a broadcastable dim has length 1
    count = count.defined() ? mul(count, x.shape(d), where) : x.shape(d);
  }
  if (!count.defined()) return is_float(total.dtype()) ? total : cast(total, float64, where);  // one element each
  // An int64 count would promote a float32 sum to float64.
  if (is_float(total.dtype())) count = cast(count, total.dtype(), where);
  return true_div(total, count, where);
}

}  // namespace graphjit::tensor
