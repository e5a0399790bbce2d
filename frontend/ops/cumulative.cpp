// Cumulative sums and products along one axis (Theano's extra_ops.CumOp):
// cumsum and cumprod, attrs.ints {axis, reverse}. `reverse` accumulates from
// the end of each lane; the builders never set it, the gradients do (the
// gradient of a running sum is the running sum of the gradient, backwards).
//
// dtypes follow Theano's CumOp, whose output has the input's type: floats
// and integers keep their dtype and accumulate in it, in order (so float32
// results equal numpy's bit for bit; integers wrap around on overflow, as
// Theano's C kernel, numpy's cumsum with dtype=x.dtype, does). bool, which
// Theano would accumulate as a logical or, counts in int64 as numpy's cumsum.
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
  if (out.dtype == bool_) out.dtype = int64;
  return out;
}

Shape cumulative_shape(const Node&, const std::vector<Tensor>& inputs) { return inputs[0].shape(); }

// Calls f(In{}, Out{}): the input's C++ type and the accumulator's (the output's).
template <class F> void with_types(DType in, F&& f) {
  visit_dtype(in, [&](auto tag) {
    using In = decltype(tag);
    if constexpr (std::is_same_v<In, bool>) f(In{}, std::int64_t{});
    else f(In{}, In{});
  });
}

// acc (op) v in the output type; integers through uint64, which wraps (mod
// 2^bits on the conversion back) as numpy's fixed-width integers do.
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

// Where one lane, or one row of lanes, starts in the input and the output,
// and the step to its next element along the axis (negative when reversed).
struct Walk {
  std::int64_t in_first, out_first, in_step, out_step;
};

Walk walk_of(const Tensor& x, const Tensor& out, int axis, const std::vector<std::int64_t>& start, bool reverse) {
  Walk w{ops::offset_of(start, x.strides()), ops::offset_of(start, out.strides()), x.strides()[axis],
         out.strides()[axis]};
  if (reverse) {
    w.in_first += (x.shape(axis) - 1) * w.in_step, w.out_first += (x.shape(axis) - 1) * w.out_step;
    w.in_step = -w.in_step, w.out_step = -w.out_step;
  }
  return w;
}

// The compiled kernel, reading the input through its strides (a transposed or
// sliced view is not copied) into the planner's memory. Along the last axis
// it runs lane by lane; along another, a whole row of lanes (the last dim)
// steps together, so memory is read in order instead of one lane at a time
// across rows.
Tensor cumulative_native(const Node& node, const std::vector<Tensor>& inputs, OutputMemory& memory) {
  const Tensor& x = inputs[0];
  const int axis = cumulative_axis(node), last = x.ndim() - 1;
  Tensor out = memory.get(x.shape(), node.type.dtype);
  if (out.size() == 0) return out;
  const std::int64_t length = x.shape(axis), row = axis == last ? 1 : x.shape(last);
  const std::int64_t in_across = axis == last ? 0 : x.strides()[last];
  const std::int64_t out_across = axis == last ? 0 : out.strides()[last];
  const bool reverse = is_reversed(node), product = is_product(node);
  Shape starts = x.shape();
  starts[static_cast<std::size_t>(last)] = 1;  // a row of lanes starts at index 0 of the last dim
  with_types(x.dtype(), [&](auto in_tag, auto out_tag) {
    using In = decltype(in_tag);
    using Out = decltype(out_tag);
    const In* p = x.data<In>();
    Out* y = out.data<Out>();
    ops::for_each_lane(starts, axis, [&](const std::vector<std::int64_t>& start) {
      const Walk w = walk_of(x, out, axis, start, reverse);
      for (std::int64_t j = 0; j < row; ++j)
        y[w.out_first + j * out_across] = static_cast<Out>(p[w.in_first + j * in_across]);
      if (row == 1) {  // one lane: the running value stays in a register
        Out acc = y[w.out_first];
        for (std::int64_t i = 1; i < length; ++i) {
          acc = combine(acc, static_cast<Out>(p[w.in_first + i * w.in_step]), product);
          y[w.out_first + i * w.out_step] = acc;
        }
        return;
      }
      for (std::int64_t i = 1; i < length; ++i) {
        const In* in = p + w.in_first + i * w.in_step;
        Out* o = y + w.out_first + i * w.out_step;
        for (std::int64_t j = 0; j < row; ++j)
          o[j * out_across] = combine(o[j * out_across - w.out_step], static_cast<Out>(in[j * in_across]), product);
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
  const Variable zero_as_one = T::switch_(first_zero, 1, x, where);
  const Variable at_zero = sum_back(g * cumulative(OpCode::CumProd, zero_as_one, axis, reverse, where));
  return {T::switch_(before, before_zero, T::switch_(first_zero, at_zero, 0, where), where)};
}

// Forward mode: cumsum is linear, so its R-operator is the running sum of the tangent.
Variable cumsum_rop(const Node& node, const Variable&, const std::vector<Variable>& t) {
  const Variable tangent = t[0].defined() ? t[0] : tensor::zeros_like(ops::input(node, 0));
  return cumulative(OpCode::CumSum, tangent, cumulative_axis(node), is_reversed(node), node.where);
}

// Forward mode for cumprod: d out_j = sum_i<=j t_i prod_k<=j,k!=i x_k, with
// each lane split at its first zero z as in the gradient (no division by a zero):
//   j < z: out_j sum_i<=j t_i / x_i (every x_i there is nonzero);
//   j >= z: t_z times the running product with x_z taken as 1 (the other terms hold x_z).
Variable cumprod_rop(const Node& node, const Variable& out, const std::vector<Variable>& t) {
  namespace T = tensor;
  const Variable x = ops::input(node, 0);
  if (!t[0].defined()) return T::zeros_like(out);
  const int axis = cumulative_axis(node);
  const bool reverse = is_reversed(node);
  const std::source_location where = node.where;
  auto running = [&](OpCode op, const Variable& v) { return cumulative(op, v, axis, reverse, where); };
  const Variable is_zero = T::eq(x, 0, where);
  const Variable zeros_so_far = running(OpCode::CumSum, is_zero);
  const Variable before = T::eq(zeros_so_far, 0, where);
  const Variable first_zero = T::and_(is_zero, T::eq(zeros_so_far, 1, where), where);
  const Variable before_zero = out * running(OpCode::CumSum, t[0] / T::switch_(before, x, 1, where));
  const Variable t_at_zero = running(OpCode::CumSum, T::switch_(first_zero, t[0], 0, where));
  const Variable from_zero = t_at_zero * running(OpCode::CumProd, T::switch_(first_zero, 1, x, where));
  return T::switch_(before, before_zero, from_zero, where);
}

}  // namespace

void register_cumulative_ops() {
  for (OpCode op : {OpCode::CumSum, OpCode::CumProd})
    define_op(op, {cumulative_type, cumulative_shape, cumulative_reference,
                   op == OpCode::CumSum ? cumsum_grad : cumprod_grad, cumulative_native});
  define_op(OpCode::CumSum).rop = cumsum_rop;
  define_op(OpCode::CumProd).rop = cumprod_rop;
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
