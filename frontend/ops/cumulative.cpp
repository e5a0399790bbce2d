// Cumulative sums and products along one axis (Theano's extra_ops.CumOp):
// cumsum and cumprod, attrs.ints {axis, reverse}. `reverse` accumulates from
// the end of each lane; the builders never set it, the gradients do (the
// gradient of a running sum is the running sum of the gradient, backwards).
//
// dtypes follow numpy's cumsum (and graphjit's sum): floats keep their
// dtype and accumulate in it, in order (so float32 results equal numpy's
// bit for bit); bool and integers accumulate in int64, wrapping around on
// overflow as numpy does.
#include "frontend/ops/lanes.hpp"
#include "frontend/ops/op_support.hpp"

#include <graphjit/tensor.hpp>

#include <cstdint>
#include <fmt/format.h>
#include <type_traits>

namespace graphjit::ir {

namespace {

bool is_product(const Node& node) { return node.op == OpCode::CumProd; }
bool is_reversed(const Node& node) { return node.attrs.ints.at(1) != 0; }

// The axis, checked against the input's rank (the error names the op and the user's line).
int cumulative_axis(const Node& node) {
  if (node.attrs.ints.size() != 2) ops::type_error(node, "expects attrs.ints = {axis, reverse}");
  return ops::normalize_axis(node, node.attrs.ints[0], node.inputs[0]->type.ndim());
}

Type cumulative_type(const Node& node) {
  cumulative_axis(node);
  Type out = node.inputs[0]->type;
  if (!is_float(out.dtype)) out.dtype = int64;
  return out;
}

Shape cumulative_shape(const Node&, const std::vector<Tensor>& inputs) { return inputs[0].shape(); }

// Calls f(In{}, Out{}): the input's C++ type and the accumulator's (the output's).
template <class F> void with_types(DType in, F&& f) {
  visit_dtype(in, [&](auto tag) {
    using In = decltype(tag);
    if constexpr (std::is_floating_point_v<In>) f(In{}, In{});
    else f(In{}, std::int64_t{});
  });
}

// acc (op) v in the output type; integers through uint64, which wraps as numpy's int64 does.
template <class Out> Out combine(Out acc, Out v, bool product) {
  if constexpr (std::is_floating_point_v<Out>) return product ? acc * v : acc + v;
  else {
    const auto a = static_cast<std::uint64_t>(acc), b = static_cast<std::uint64_t>(v);
    return static_cast<Out>(product ? a * b : a + b);
  }
}

// The oracle, from the definition: walking a contiguous copy in row-major
// order (backwards when reversed), each element combines with its
// neighbour one step back along the axis, which was visited just before.
Tensor cumulative_reference(const Node& node, const std::vector<Tensor>& inputs) {
  const Tensor x = inputs[0].contiguous();
  const int axis = cumulative_axis(node);
  Tensor out = Tensor::empty(x.shape(), node.type.dtype);
  const std::int64_t n = x.size(), length = x.shape(axis);
  std::int64_t stride = 1;  // row-major, computed: a contiguous tensor's size-1 dims may have any stride
  for (int d = axis + 1; d < x.ndim(); ++d) stride *= x.shape(d);
  const bool reverse = is_reversed(node), product = is_product(node);
  with_types(x.dtype(), [&](auto in_tag, auto out_tag) {
    using In = decltype(in_tag);
    using Out = decltype(out_tag);
    const In* p = x.data<In>();
    Out* y = out.data<Out>();
    for (std::int64_t step = 0; step < n; ++step) {
      const std::int64_t k = reverse ? n - 1 - step : step;
      const std::int64_t along = (k / stride) % length;
      const bool first = reverse ? along == length - 1 : along == 0;
      const Out v = static_cast<Out>(p[k]);
      y[k] = first ? v : combine(y[reverse ? k + stride : k - stride], v, product);
    }
  });
  return out;
}

// The compiled kernel: one pass per lane, reading the input through its
// strides (a transposed or sliced view is not copied) into the planner's memory.
Tensor cumulative_native(const Node& node, const std::vector<Tensor>& inputs, OutputMemory& memory) {
  const Tensor& x = inputs[0];
  const int axis = cumulative_axis(node);
  Tensor out = memory.get(x.shape(), node.type.dtype);
  const std::int64_t length = x.shape(axis);
  const bool reverse = is_reversed(node), product = is_product(node);
  with_types(x.dtype(), [&](auto in_tag, auto out_tag) {
    using In = decltype(in_tag);
    using Out = decltype(out_tag);
    const In* base_in = x.data<In>();
    Out* base_out = out.data<Out>();
    std::int64_t in_step = x.strides()[axis], out_step = out.strides()[axis];
    ops::for_each_lane(x.shape(), axis, [&](const std::vector<std::int64_t>& start) {
      const In* p = base_in + ops::offset_of(start, x.strides());
      Out* y = base_out + ops::offset_of(start, out.strides());
      std::int64_t pi = 0, yi = 0, dp = in_step, dy = out_step;
      if (reverse) {
        pi = (length - 1) * in_step, yi = (length - 1) * out_step;
        dp = -in_step, dy = -out_step;
      }
      Out acc = static_cast<Out>(p[pi]);
      y[yi] = acc;
      for (std::int64_t i = 1; i < length; ++i) {
        pi += dp, yi += dy;
        acc = combine(acc, static_cast<Out>(p[pi]), product);
        y[yi] = acc;
      }
    });
  });
  return out;
}

// The node of `op` along `axis` (passed on unchecked: the type rule reports a bad one).
Variable cumulative(OpCode op, const Variable& x, int axis, bool reverse, std::source_location where) {
  Attrs attrs;
  attrs.ints = {axis, reverse ? 1 : 0};
  return ops::apply(op, {x}, std::move(attrs), where);
}

std::vector<Variable> cumsum_grad(const Node& node, const Variable&, const Variable& g) {
  if (!is_float(node.inputs[0]->type.dtype)) return {Variable()};
  return {cumulative(OpCode::CumSum, g, cumulative_axis(node), !is_reversed(node), node.where)};
}

// d out_j / d x_i is the product of x_0..x_j without x_i, for i <= j (in the
// order of accumulation). Theano divides out_j by x_i, which is nan at a
// zero; here each lane is split at its first zero z instead:
//   i < z: sum_j>=i g_j out_j / x_i (out_j is 0 from z on, and x_i != 0);
//   i = z: sum_j>=z g_j out'_j, out' being the running product with x_z taken as 1;
//   i > z: 0 (every product holds x_z).
std::vector<Variable> cumprod_grad(const Node& node, const Variable& out, const Variable& g) {
  if (!is_float(node.inputs[0]->type.dtype)) return {Variable()};
  namespace T = tensor;
  const Variable x = ops::input(node, 0);
  const int axis = cumulative_axis(node);
  const bool reverse = is_reversed(node);
  const std::source_location where = node.where;
  auto sum_back = [&](const Variable& v) { return cumulative(OpCode::CumSum, v, axis, !reverse, where); };
  const Variable is_zero = T::eq(x, 0, where);
  const Variable zeros_so_far = cumulative(OpCode::CumSum, is_zero, axis, reverse, where);
  const Variable before = T::eq(zeros_so_far, 0, where);
  const Variable first_zero = T::and_(is_zero, T::eq(zeros_so_far, 1, where), where);
  const Variable before_zero = sum_back(g * out) / T::switch_(before, x, 1, where);
  const Variable at_zero = sum_back(g * cumulative(OpCode::CumProd, T::switch_(first_zero, 1, x, where), axis, reverse, where));
  return {T::switch_(before, before_zero, T::switch_(first_zero, at_zero, 0, where), where)};
}

// Forward mode: cumsum is linear, so its R-operator is the running sum of the tangent.
Variable cumsum_rop(const Node& node, const Variable&, const std::vector<Variable>& t) {
  const Variable tangent = t[0].defined() ? t[0] : tensor::zeros_like(ops::input(node, 0));
  return cumulative(OpCode::CumSum, tangent, cumulative_axis(node), is_reversed(node), node.where);
}

}  // namespace

void register_cumulative_ops() {
  define_op(OpCode::CumSum, {cumulative_type, cumulative_shape, cumulative_reference, cumsum_grad, cumulative_native});
  define_op(OpCode::CumProd, {cumulative_type, cumulative_shape, cumulative_reference, cumprod_grad, cumulative_native});
  define_op(OpCode::CumSum).rop = cumsum_rop;  // cumprod has none (Rop says so)
}

}  // namespace graphjit::ir

namespace graphjit::tensor {

Variable cumsum(const Variable& x, std::optional<int> axis, SL where) {
  const ops::LaneInput in = ops::lane_input(ir::OpCode::CumSum, x, axis, where);
  return ir::cumulative(ir::OpCode::CumSum, in.x, in.axis, /*reverse=*/false, where);
}
Variable cumprod(const Variable& x, std::optional<int> axis, SL where) {
  const ops::LaneInput in = ops::lane_input(ir::OpCode::CumProd, x, axis, where);
  return ir::cumulative(ir::OpCode::CumProd, in.x, in.axis, /*reverse=*/false, where);
}

}  // namespace graphjit::tensor
