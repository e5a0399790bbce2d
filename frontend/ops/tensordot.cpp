// Tensordot (issue 8, linear algebra): numpy.tensordot, optionally batched
// over a leading axis both operands share (Theano's batched_tensordot). It is
// what T::dot of n-d operands, T::tensordot, T::batched_dot and
// T::batched_tensordot build. attrs.ints = {batched, k, a's k summed axes,
// b's k summed axes}; a's i-th summed axis pairs with b's i-th. The output's
// dims are the batch axis (when batched), a's free axes, then b's free axes.
//
// Compiled, each operand is permuted to (batch, free, summed) or (batch,
// summed, free), made contiguous only when it is not already, and every batch
// is one BLAS gemm writing straight into the output's memory. The reference
// sums the same products in double (int64 that wraps, for integers).
#include "frontend/ops/op_support.hpp"

#include <graphjit/linalg.hpp>
#include <graphjit/runtime/blas.hpp>
#include <graphjit/tensor.hpp>

#include <algorithm>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <numeric>

namespace graphjit::ir {

namespace {

// The node: attrs.ints = {batched, k, a's axes, b's axes}.
Variable make_tensordot(const Variable& a, const Variable& b, bool batched, const std::vector<std::int64_t>& a_axes,
                        const std::vector<std::int64_t>& b_axes, std::source_location where) {
  ops::require_defined(a, "tensordot", where);
  ops::require_defined(b, "tensordot", where);
  if (a_axes.size() != b_axes.size())
    throw TypeError(fmt::format("tensordot at {}: {} axes of a ({}) but {} of b ({}); give one axis of b per axis of a",
                                ops::where_str(where), a_axes.size(), fmt::join(a_axes, ", "), b_axes.size(),
                                fmt::join(b_axes, ", ")));
  Attrs attrs;
  attrs.ints = {batched ? 1 : 0, static_cast<std::int64_t>(a_axes.size())};
  attrs.ints.insert(attrs.ints.end(), a_axes.begin(), a_axes.end());
  attrs.ints.insert(attrs.ints.end(), b_axes.begin(), b_axes.end());
  return ops::apply(OpCode::Tensordot, {a, b}, std::move(attrs), where);
}

// The decoded attrs: which axes are summed, and the free ones that remain.
struct Contraction {
  bool batched = false;
  std::vector<int> a_summed, b_summed, a_free, b_free;

  int batch_dims() const { return batched ? 1 : 0; }
};

std::vector<int> free_axes(int ndim, const std::vector<int>& summed, bool batched) {
  std::vector<int> out;
  for (int d = batched ? 1 : 0; d < ndim; ++d)
    if (std::find(summed.begin(), summed.end(), d) == summed.end()) out.push_back(d);
  return out;
}

// Checks the axes against both operands (the type rule's work) and decodes them.
Contraction contraction(const Node& node) {
  const auto& ints = node.attrs.ints;
  const int a_ndim = node.inputs[0]->type.ndim(), b_ndim = node.inputs[1]->type.ndim();
  if (ints.size() < 2 || ints[1] < 0 || ints.size() != 2 + 2 * static_cast<std::size_t>(ints[1]))
    ops::type_error(node, "tensordot's attrs must be {batched, k, k axes of a, k axes of b}");
  Contraction c;
  c.batched = ints[0] != 0;
  const auto k = static_cast<std::size_t>(ints[1]);
  auto axes_of = [&](std::size_t first, int ndim, const char* which) {
    std::vector<int> out;
    for (std::size_t i = first; i < first + k; ++i) {
      const int axis = ops::normalize_axis(node, ints[i], ndim);
      if (std::find(out.begin(), out.end(), axis) != out.end())
        ops::type_error(node, fmt::format("axis {} of {} is summed twice", axis, which));
      if (c.batched && axis == 0)
        ops::type_error(node, fmt::format("axis 0 of {} is the batch axis; it cannot also be summed", which));
      out.push_back(axis);
    }
    return out;
  };
  c.a_summed = axes_of(2, a_ndim, "a");
  c.b_summed = axes_of(2 + k, b_ndim, "b");
  if (c.batched && (a_ndim < 1 || b_ndim < 1)) ops::type_error(node, "a batched product needs a batch axis in both operands");
  c.a_free = free_axes(a_ndim, c.a_summed, c.batched);
  c.b_free = free_axes(b_ndim, c.b_summed, c.batched);
  return c;
}

Type tensordot_type(const Node& node) {
  const Contraction c = contraction(node);
  const Type& a = node.inputs[0]->type;
  const Type& b = node.inputs[1]->type;
  Type out{promote(a.dtype, b.dtype), {}};
  if (c.batched) out.broadcastable.push_back(a.broadcastable[0] && b.broadcastable[0]);
  for (int d : c.a_free) out.broadcastable.push_back(a.broadcastable[d]);
  for (int d : c.b_free) out.broadcastable.push_back(b.broadcastable[d]);
  return out;
}

Shape tensordot_shape(const Node& node, const std::vector<Tensor>& inputs) {
  const Contraction c = contraction(node);
  const Tensor &a = inputs[0], &b = inputs[1];
  Shape out;
  if (c.batched) {
    if (a.shape(0) != b.shape(0))
      ops::shape_error(node, inputs, fmt::format("the batch sizes (axis 0) differ: {} and {}; both operands need one "
                                                 "entry per batch element", a.shape(0), b.shape(0)));
    out.push_back(a.shape(0));
  }
  for (std::size_t i = 0; i < c.a_summed.size(); ++i)
    if (a.shape(c.a_summed[i]) != b.shape(c.b_summed[i]))
      ops::shape_error(node, inputs, fmt::format("the summed dims do not match: a's axis {} has length {} but b's "
                                                 "axis {} has length {}", c.a_summed[i], a.shape(c.a_summed[i]),
                                                 c.b_summed[i], b.shape(c.b_summed[i])));
  for (int d : c.a_free) out.push_back(a.shape(d));
  for (int d : c.b_free) out.push_back(b.shape(d));
  return out;
}

std::int64_t length_of(const Tensor& t, const std::vector<int>& axes) {
  std::int64_t n = 1;
  for (int d : axes) n *= t.shape(d);
  return n;
}

// An operand as a 3-d (batch, rows, cols) tensor: its axes permuted to
// batch, `rows_axes`, `cols_axes`; copied only when the permuted view cannot
// be reshaped in place.
Tensor as_batches(const Tensor& t, bool batched, const std::vector<int>& rows_axes, const std::vector<int>& cols_axes) {
  std::vector<int> perm;
  if (batched) perm.push_back(0);
  perm.insert(perm.end(), rows_axes.begin(), rows_axes.end());
  perm.insert(perm.end(), cols_axes.begin(), cols_axes.end());
  return t.permute(perm).reshape({batched ? t.shape(0) : 1, length_of(t, rows_axes), length_of(t, cols_axes)});
}

// The plain sum of products, batch by batch, in Acc (double, or uint64 that
// wraps like numpy's int64 arithmetic).
template <class Acc, class Value>
Tensor sum_products(const Tensor& a3, const Tensor& b3, DType value_dtype) {
  const Tensor a = a3.astype(value_dtype), b = b3.astype(value_dtype);  // contiguous copies
  const std::int64_t batches = a.shape(0), m = a.shape(1), k = a.shape(2), n = b.shape(2);
  const Value* pa = a.data<Value>();
  const Value* pb = b.data<Value>();
  Tensor out = Tensor::empty({batches, m, n}, value_dtype);
  Value* po = out.data<Value>();
  for (std::int64_t s = 0; s < batches; ++s)
    for (std::int64_t i = 0; i < m; ++i)
      for (std::int64_t j = 0; j < n; ++j) {
        Acc total = 0;
        for (std::int64_t l = 0; l < k; ++l)
          total += static_cast<Acc>(pa[(s * m + i) * k + l]) * static_cast<Acc>(pb[(s * k + l) * n + j]);
        po[(s * m + i) * n + j] = static_cast<Value>(total);
      }
  return out;
}

Tensor tensordot_reference(const Node& node, const std::vector<Tensor>& inputs) {
  const Shape shape = tensordot_shape(node, inputs);
  const Contraction c = contraction(node);
  const Tensor a3 = as_batches(inputs[0], c.batched, c.a_free, c.a_summed);
  const Tensor b3 = as_batches(inputs[1], c.batched, c.b_summed, c.b_free);
  const Tensor out = is_float(node.type.dtype) ? sum_products<double, double>(a3, b3, float64)
                                               : sum_products<std::uint64_t, std::int64_t>(a3, b3, int64);
  return out.astype(node.type.dtype).reshape(shape);
}

// Float operands of the output's dtype: one gemm per batch into the planned
// memory. Anything else (integers, mixed dtypes) runs the plain loop.
Tensor tensordot_native(const Node& node, const std::vector<Tensor>& inputs, OutputMemory& memory) {
  const DType dtype = node.type.dtype;
  if (!is_float(dtype) || inputs[0].dtype() != dtype || inputs[1].dtype() != dtype)
    return tensordot_reference(node, inputs);
  const Shape shape = tensordot_shape(node, inputs);
  const Contraction c = contraction(node);
  const Tensor a3 = as_batches(inputs[0], c.batched, c.a_free, c.a_summed);
  const Tensor b3 = as_batches(inputs[1], c.batched, c.b_summed, c.b_free);
  Tensor out = memory.get(shape, dtype);
  const Tensor out3 = out.reshape({a3.shape(0), a3.shape(1), b3.shape(2)});
  for (std::int64_t s = 0; s < a3.shape(0); ++s) {
    Tensor product = out3.select(0, s);
    gemm(false, false, 1.0, a3.select(0, s), b3.select(0, s), 0.0, product);
  }
  return out;
}

// --- gradient ---------------------------------------------------------------------

std::vector<std::int64_t> positions(int first, std::size_t count) {
  std::vector<std::int64_t> out(count);
  std::iota(out.begin(), out.end(), first);
  return out;
}

// The dimshuffle pattern that puts the axes of `order` (an operand's axes in
// the order a product produced them) back in the operand's own order.
std::vector<std::int64_t> restore_order(const std::vector<int>& order) {
  std::vector<std::int64_t> pattern(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) pattern[static_cast<std::size_t>(order[i])] = static_cast<std::int64_t>(i);
  return pattern;
}

// `mine` (one operand's summed axes) in the order of the other operand's summed axes once sorted.
std::vector<int> paired_in_sorted_order(const std::vector<int>& mine, const std::vector<int>& other) {
  std::vector<std::size_t> index(mine.size());
  std::iota(index.begin(), index.end(), 0);
  std::sort(index.begin(), index.end(), [&](std::size_t i, std::size_t j) { return other[i] < other[j]; });
  std::vector<int> out;
  for (std::size_t i : index) out.push_back(mine[i]);
  return out;
}

// d/da contracts g's b-free positions with b's free axes; d/db contracts a's
// free axes with g's a-free positions. Each result is permuted back to its
// operand's axis order.
std::vector<Variable> tensordot_grad(const Node& node, const Variable&, const Variable& g) {
  const Contraction c = contraction(node);
  const Variable a = ops::input(node, 0), b = ops::input(node, 1);
  const int nb = c.batch_dims();
  const auto fa = c.a_free.size(), fb = c.b_free.size();
  auto as_list = [](const std::vector<int>& v) { return std::vector<std::int64_t>(v.begin(), v.end()); };
  std::vector<int> a_order(static_cast<std::size_t>(nb), 0), b_order(static_cast<std::size_t>(nb), 0);
  a_order.insert(a_order.end(), c.a_free.begin(), c.a_free.end());
  for (int d : paired_in_sorted_order(c.a_summed, c.b_summed)) a_order.push_back(d);
  for (int d : paired_in_sorted_order(c.b_summed, c.a_summed)) b_order.push_back(d);
  b_order.insert(b_order.end(), c.b_free.begin(), c.b_free.end());
  const Variable ga = make_tensordot(g, b, c.batched, positions(nb + static_cast<int>(fa), fb), as_list(c.b_free), node.where);
  const Variable gb = make_tensordot(a, g, c.batched, as_list(c.a_free), positions(nb, fa), node.where);
  auto to_input = [](const Variable& grad, const std::vector<int>& order, const Variable& in) {
    return is_float(in.dtype()) ? ops::sum_to_input(grad.dimshuffle(restore_order(order)), *in.node()) : Variable();
  };
  return {to_input(ga, a_order, a), to_input(gb, b_order, b)};
}

// Forward mode: tensordot is bilinear, d(a . b) = da . b + a . db (the same axes).
Variable tensordot_rop(const Node& node, const Variable& out, const std::vector<Variable>& t) {
  Variable r;
  for (std::size_t i = 0; i < 2; ++i) {
    if (!t[i].defined()) continue;
    std::vector<NodeRef> inputs = node.inputs;
    inputs[i] = t[i].node();
    const Variable term(rebuild(node, inputs));
    r = r.defined() ? r + term : term;
  }
  if (!r.defined()) return tensor::zeros_like(out);
  return r.dtype() == out.dtype() ? r : tensor::cast(r, out.dtype());
}

}  // namespace

void register_tensordot_op() {
  define_op(OpCode::Tensordot, {tensordot_type, tensordot_shape, tensordot_reference, tensordot_grad, tensordot_native});
  define_op(OpCode::Tensordot).rop = tensordot_rop;
}

}  // namespace graphjit::ir

namespace graphjit::tensor {

Variable tensordot(const Variable& a, const Variable& b, int axes, SL where) {
  ops::require_defined(a, "tensordot", where);
  ops::require_defined(b, "tensordot", where);
  if (axes < 0 || axes > a.ndim() || axes > b.ndim())
    throw TypeError(fmt::format("tensordot at {}: axes={} but a has {} dims and b has {}; axes=n sums a's last n dims "
                                "with b's first n", ops::where_str(where), axes, a.ndim(), b.ndim()));
  std::vector<std::int64_t> a_axes, b_axes;
  for (int i = 0; i < axes; ++i) {
    a_axes.push_back(a.ndim() - axes + i);
    b_axes.push_back(i);
  }
  return ir::make_tensordot(a, b, false, a_axes, b_axes, where);
}

Variable tensordot(const Variable& a, const Variable& b, const std::vector<std::int64_t>& a_axes,
                   const std::vector<std::int64_t>& b_axes, SL where) {
  return ir::make_tensordot(a, b, false, a_axes, b_axes, where);
}

Variable batched_tensordot(const Variable& a, const Variable& b, const std::vector<std::int64_t>& a_axes,
                           const std::vector<std::int64_t>& b_axes, SL where) {
  return ir::make_tensordot(a, b, true, a_axes, b_axes, where);
}

// batched_dot(a, b)[i] == dot(a[i], b[i]). A vector operand holds one scalar
// per batch element, so the product is elementwise, as in Theano.
Variable batched_dot(const Variable& a, const Variable& b, SL where) {
  ops::require_defined(a, "batched_dot", where);
  ops::require_defined(b, "batched_dot", where);
  if (a.ndim() == 0 || b.ndim() == 0)
    throw TypeError(fmt::format("batched_dot at {}: both operands need a batch axis (axis 0), got {} and {}",
                                ops::where_str(where), a.type_str(), b.type_str()));
  auto padded = [&](const Variable& v, int ndim) {
    std::vector<std::int64_t> pattern{0};
    pattern.resize(static_cast<std::size_t>(ndim), -1);
    return v.dimshuffle(pattern, where);
  };
  if (a.ndim() == 1) return mul(padded(a, b.ndim()), b, where);
  if (b.ndim() == 1) return mul(a, padded(b, a.ndim()), where);
  return ir::make_tensordot(a, b, true, {a.ndim() - 1}, {b.ndim() == 2 ? 1 : b.ndim() - 2}, where);
}

// numpy.dot (Theano's T.dot) of operands with more than 2 dims: a's last
// axis against b's second-to-last (its only one, for a vector).
Variable dot_nd(const Variable& a, const Variable& b, SL where) {
  return ir::make_tensordot(a, b, false, {a.ndim() - 1}, {b.ndim() >= 2 ? b.ndim() - 2 : 0}, where);
}

}  // namespace graphjit::tensor
