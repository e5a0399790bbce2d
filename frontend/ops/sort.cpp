// Sorting along one axis (theano.tensor.sort): sort and argsort, attrs.ints
// {axis}, in numpy's order: ascending, nan after every number; argsort is
// stable (equal values keep their order), so -0.0 and 0.0, which compare
// equal, stay as they came. sort's gradient sends each output gradient back
// to the position its value came from: permute_along_axis(g, argsort(x),
// inverse), a scatter by a permutation, whose own gradient is the gather.
#include "frontend/ops/lanes.hpp"
#include "frontend/ops/op_support.hpp"

#include <graphjit/tensor.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fmt/format.h>
#include <numeric>
#include <type_traits>

namespace graphjit::ir {

namespace {

// numpy's sort order: nan is greater than everything, and equal to itself.
template <class T> bool sorts_before(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) return a < b || (std::isnan(b) && !std::isnan(a));
  else return a < b;
}

int lane_axis(const Node& node, std::size_t attrs_count) {
  if (node.attrs.ints.size() != attrs_count)
    ops::type_error(node, fmt::format("expects {} entries in attrs.ints", attrs_count));
  return ops::normalize_axis(node, node.attrs.ints[0], node.inputs[0]->type.ndim());
}

Type sort_type(const Node& node) {
  lane_axis(node, 1);
  Type out = node.inputs[0]->type;
  if (node.op == OpCode::Argsort) out.dtype = int64;
  return out;
}

Shape input_shape(const Node&, const std::vector<Tensor>& inputs) { return inputs[0].shape(); }

// The oracle, by definition: an element's place in its sorted lane is the
// number of elements that sort before it, or equal it and come before it.
Tensor sort_reference(const Node& node, const std::vector<Tensor>& inputs) {
  const Tensor& x = inputs[0];
  const int axis = lane_axis(node, 1);
  const bool indices = node.op == OpCode::Argsort;
  Tensor out = Tensor::empty(x.shape(), node.type.dtype);
  const std::int64_t n = x.shape(axis);
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    ops::for_each_lane(x.shape(), axis, [&](const std::vector<std::int64_t>& start) {
      const T* v = x.data<T>() + ops::offset_of(start, x.strides());
      const std::int64_t in_step = x.strides()[axis], out_base = ops::offset_of(start, out.strides());
      for (std::int64_t i = 0; i < n; ++i) {
        std::int64_t place = 0;
        for (std::int64_t j = 0; j < n; ++j) {
          const T a = v[j * in_step], b = v[i * in_step];
          place += sorts_before(a, b) || (j < i && !sorts_before(b, a));
        }
        const std::int64_t o = out_base + place * out.strides()[axis];
        if (indices) out.data<std::int64_t>()[o] = i;
        else out.data<T>()[o] = v[i * in_step];
      }
    });
  });
  return out;
}

// The compiled sort: each lane gathered into a buffer, sorted (nan moved to
// the end first, so the rest sorts with plain <), and written out.
Tensor sort_native(const Node& node, const std::vector<Tensor>& inputs, OutputMemory& memory) {
  const Tensor& x = inputs[0];
  const int axis = lane_axis(node, 1);
  Tensor out = memory.get(x.shape(), node.type.dtype);
  const std::int64_t n = x.shape(axis), in_step = x.strides()[axis], out_step = out.strides()[axis];
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    std::vector<T> lane(static_cast<std::size_t>(n));
    ops::for_each_lane(x.shape(), axis, [&](const std::vector<std::int64_t>& start) {
      const T* v = x.data<T>() + ops::offset_of(start, x.strides());
      for (std::int64_t i = 0; i < n; ++i) lane[i] = v[i * in_step];
      auto numbers_end = lane.end();
      if constexpr (std::is_floating_point_v<T>)
        numbers_end = std::stable_partition(lane.begin(), lane.end(), [](T a) { return !std::isnan(a); });
      std::stable_sort(lane.begin(), numbers_end);
      T* y = out.data<T>() + ops::offset_of(start, out.strides());
      for (std::int64_t i = 0; i < n; ++i) y[i * out_step] = lane[i];
    });
  });
  return out;
}

// The compiled argsort: a stable sort of each lane's positions by value.
Tensor argsort_native(const Node& node, const std::vector<Tensor>& inputs, OutputMemory& memory) {
  const Tensor& x = inputs[0];
  const int axis = lane_axis(node, 1);
  Tensor out = memory.get(x.shape(), int64);
  const std::int64_t n = x.shape(axis), in_step = x.strides()[axis], out_step = out.strides()[axis];
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    std::vector<std::int64_t> order(static_cast<std::size_t>(n));
    ops::for_each_lane(x.shape(), axis, [&](const std::vector<std::int64_t>& start) {
      const T* v = x.data<T>() + ops::offset_of(start, x.strides());
      std::iota(order.begin(), order.end(), std::int64_t{0});
      std::stable_sort(order.begin(), order.end(),
                       [&](std::int64_t a, std::int64_t b) { return sorts_before(v[a * in_step], v[b * in_step]); });
      std::int64_t* y = out.data<std::int64_t>() + ops::offset_of(start, out.strides());
      for (std::int64_t i = 0; i < n; ++i) y[i * out_step] = order[i];
    });
  });
  return out;
}

// --- permute_along_axis: sort's gradient -----------------------------------

bool is_inverse(const Node& node) { return node.attrs.ints.at(1) != 0; }

Type permute_type(const Node& node) {
  lane_axis(node, 2);
  const Type& perm = node.inputs[1]->type;
  if (!is_integer(perm.dtype) || perm.ndim() != node.inputs[0]->type.ndim())
    ops::type_error(node, "the permutation must be an integer tensor of the input's rank");
  return node.inputs[0]->type;
}

Shape permute_shape(const Node& node, const std::vector<Tensor>& inputs) {
  if (inputs[0].shape() != inputs[1].shape())
    ops::shape_error(node, inputs, "the permutation must have the input's shape");
  return inputs[0].shape();
}

// Moves one lane: out[i] = x[perm[i]] (gather), or out[perm[i]] = x[i]
// (inverse), after checking that perm holds each of 0..n-1 once.
template <class T>
void permute_lane(const Node& node, const std::vector<Tensor>& inputs, const T* x, std::int64_t x_step,
                  const std::int64_t* perm, std::int64_t perm_step, T* y, std::int64_t y_step, std::int64_t n,
                  std::vector<char>& seen) {
  std::fill(seen.begin(), seen.end(), 0);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t j = perm[i * perm_step];
    if (j < 0 || j >= n || seen[j])
      ops::shape_error(node, inputs,
                       fmt::format("index {} is out of range or repeated: each lane of the permutation must hold "
                                   "each of 0..{} once",
                                   j, n - 1));
    seen[j] = 1;
    if (is_inverse(node)) y[j * y_step] = x[i * x_step];
    else y[i * y_step] = x[j * x_step];
  }
}

Tensor permute_into(const Node& node, const std::vector<Tensor>& inputs, Tensor out) {
  const Tensor& x = inputs[0];
  const Tensor perm = inputs[1].astype(int64);
  const int axis = lane_axis(node, 2);
  permute_shape(node, inputs);
  const std::int64_t n = x.shape(axis);
  std::vector<char> seen(static_cast<std::size_t>(n));
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    ops::for_each_lane(x.shape(), axis, [&](const std::vector<std::int64_t>& start) {
      permute_lane(node, inputs, x.data<T>() + ops::offset_of(start, x.strides()), x.strides()[axis],
                   perm.data<std::int64_t>() + ops::offset_of(start, perm.strides()), perm.strides()[axis],
                   out.data<T>() + ops::offset_of(start, out.strides()), out.strides()[axis], n, seen);
    });
  });
  return out;
}

// A gather or scatter is its own definition: the reference and the native
// kernel share permute_into, which reads through strides; they differ only
// in where the output lives.
Tensor permute_reference(const Node& node, const std::vector<Tensor>& inputs) {
  return permute_into(node, inputs, Tensor::empty(inputs[0].shape(), node.type.dtype));
}

Tensor permute_native(const Node& node, const std::vector<Tensor>& inputs, OutputMemory& memory) {
  return permute_into(node, inputs, memory.get(inputs[0].shape(), node.type.dtype));
}

// The node permuting x along `axis` by `perm`; `inverse` scatters instead of gathering.
Variable permute_along_axis(const Variable& x, const Variable& perm, int axis, bool inverse,
                            std::source_location where) {
  Attrs attrs;
  attrs.ints = {axis, inverse ? 1 : 0};
  return ops::apply(OpCode::PermuteAlongAxis, {x, perm}, std::move(attrs), where);
}

std::vector<Variable> sort_grad(const Node& node, const Variable&, const Variable& g) {
  if (!is_float(node.inputs[0]->type.dtype)) return {Variable()};
  const int axis = lane_axis(node, 1);
  return {permute_along_axis(g, tensor::argsort(ops::input(node, 0), axis, node.where), axis, true, node.where)};
}

std::vector<Variable> permute_grad(const Node& node, const Variable&, const Variable& g) {
  if (!is_float(node.inputs[0]->type.dtype)) return {Variable(), Variable()};
  return {permute_along_axis(g, ops::input(node, 1), lane_axis(node, 2), !is_inverse(node), node.where), Variable()};
}

// Forward mode: the tangent moves with the values (sort), or by the same permutation.
Variable sort_rop(const Node& node, const Variable&, const std::vector<Variable>& t) {
  const Variable x = ops::input(node, 0), tangent = t[0].defined() ? t[0] : tensor::zeros_like(x);
  const int axis = lane_axis(node, 1);
  return permute_along_axis(tangent, tensor::argsort(x, axis, node.where), axis, false, node.where);
}

Variable permute_rop(const Node& node, const Variable&, const std::vector<Variable>& t) {
  const Variable tangent = t[0].defined() ? t[0] : tensor::zeros_like(ops::input(node, 0));
  return permute_along_axis(tangent, ops::input(node, 1), lane_axis(node, 2), is_inverse(node), node.where);
}

}  // namespace

void register_sort_ops() {
  define_op(OpCode::Sort, {sort_type, input_shape, sort_reference, sort_grad, sort_native});
  define_op(OpCode::Argsort, {sort_type, input_shape, sort_reference, nullptr, argsort_native});
  define_op(OpCode::PermuteAlongAxis, {permute_type, permute_shape, permute_reference, permute_grad, permute_native});
  define_op(OpCode::Sort).rop = sort_rop;
  define_op(OpCode::PermuteAlongAxis).rop = permute_rop;
}

}  // namespace graphjit::ir

namespace graphjit::tensor {

namespace {
Variable sort_along(ir::OpCode op, const Variable& x, std::optional<int> axis, SL where) {
  const ops::LaneInput in = ops::lane_input(op, x, axis, where);
  ir::Attrs attrs;
  attrs.ints = {in.axis};
  return ops::apply(op, {in.x}, std::move(attrs), where);
}
}  // namespace

Variable sort(const Variable& x, std::optional<int> axis, SL where) {
  return sort_along(ir::OpCode::Sort, x, axis, where);
}
Variable argsort(const Variable& x, std::optional<int> axis, SL where) {
  return sort_along(ir::OpCode::Argsort, x, axis, where);
}

}  // namespace graphjit::tensor
