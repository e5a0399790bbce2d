// Canonicalize: algebraic identities that remove work, and one normal form per
// expression so that merge and the later passes see equal things as equal.
//
// Normal forms chosen: a - b (not a + (-b)), sqr(x) (not x * x or pow(x, 2)),
// one dimshuffle (not a chain), no identity dimshuffle, cast or reshape, no
// reduction over length-1 dims, lengths read from the graph's inputs.
//
// Exactness: every rule gives bit-identical results except
//  - x + 0 -> x, 0 - x -> -x and a sum over a length-1 dim -> the element: the
//    sign of a zero result may differ (-0.0 + 0 is +0.0), which compares equal;
//  - pow(x, 2) -> sqr(x): x * x is correctly rounded, libm's pow may be off by
//    one unit in the last place.
// Shape checks: a rule that reads a length from an input, or skips a reshape,
// no longer checks what the skipped node would have (a length mismatch in
// an elementwise op, a reshape to too many elements). The node itself still
// checks wherever its value is used; Theano makes the same trade.
// Rules that involve negation only apply to floats: integer negation
// saturates at the dtype's range (and bool/unsigned ones do not negate).
// Not done: x * 0 -> 0 (for floats inf * 0 and nan * 0 are nan; for integers
// it would need the broadcast shape, and saves nothing a fused kernel pays
// for), x - x -> 0 (same reason).
#include "compiler/passes/passes.hpp"

#include "compiler/ir/op_info.hpp"
#include "compiler/passes/pattern.hpp"

#include <algorithm>

namespace graphjit::compiler::passes {

namespace {

using ir::NodeRef;
using ir::OpCode;

bool float_result(const NodeRef& n) { return is_float(n->type.dtype); }

// The operand of binary `n` other than a scalar constant equal to `value`, or nullptr.
NodeRef other_than_constant(const NodeRef& n, double value, bool either_side) {
  if (is_scalar_constant(n->inputs[1], value)) return n->inputs[0];
  if (either_side && is_scalar_constant(n->inputs[0], value)) return n->inputs[1];
  return nullptr;
}

NodeRef neg(const NodeRef& x, const ir::Node& old) {
  return make_like(old, OpCode::Neg, {as_dtype(x, old.type.dtype, old)});
}

// x * 1, 1 * x -> x
NodeRef mul_by_one(const NodeRef& n) {
  if (!is(n, OpCode::Mul)) return nullptr;
  return conform(other_than_constant(n, 1, true), *n);
}

// x + 0, 0 + x -> x
NodeRef add_zero(const NodeRef& n) {
  if (!is(n, OpCode::Add)) return nullptr;
  return conform(other_than_constant(n, 0, true), *n);
}

// x - 0 -> x
NodeRef sub_zero(const NodeRef& n) {
  if (!is(n, OpCode::Sub)) return nullptr;
  return conform(other_than_constant(n, 0, false), *n);
}

// x / 1 -> x
NodeRef div_by_one(const NodeRef& n) {
  if (!is(n, OpCode::TrueDiv)) return nullptr;
  return conform(other_than_constant(n, 1, false), *n);
}

// 0 - x -> -x
NodeRef zero_minus(const NodeRef& n) {
  if (!is(n, OpCode::Sub) || !float_result(n) || !is_scalar_constant(n->inputs[0], 0)) return nullptr;
  const NodeRef& x = n->inputs[1];
  return x->type.broadcastable == n->type.broadcastable ? neg(x, *n) : nullptr;
}

// x * -1, -1 * x -> -x
NodeRef mul_by_minus_one(const NodeRef& n) {
  if (!is(n, OpCode::Mul) || !float_result(n)) return nullptr;
  const NodeRef x = other_than_constant(n, -1, true);
  return x && x->type.broadcastable == n->type.broadcastable ? neg(x, *n) : nullptr;
}

// -(-x) -> x
NodeRef neg_neg(const NodeRef& n) {
  if (!is(n, OpCode::Neg) || !float_result(n) || !is(n->inputs[0], OpCode::Neg)) return nullptr;
  return conform(n->inputs[0]->inputs[0], *n);
}

// a + (-b), (-b) + a -> a - b;  a - (-b) -> a + b
NodeRef fold_neg_into_sub(const NodeRef& n) {
  if (!(is(n, OpCode::Add) || is(n, OpCode::Sub)) || !float_result(n)) return nullptr;
  const NodeRef &a = n->inputs[0], &b = n->inputs[1];
  if (is(n, OpCode::Add) && is(b, OpCode::Neg)) return make_like(*n, OpCode::Sub, {a, b->inputs[0]});
  if (is(n, OpCode::Add) && is(a, OpCode::Neg)) return make_like(*n, OpCode::Sub, {b, a->inputs[0]});
  if (is(n, OpCode::Sub) && is(b, OpCode::Neg)) return make_like(*n, OpCode::Add, {a, b->inputs[0]});
  return nullptr;
}

// x * x -> sqr(x)
NodeRef mul_self(const NodeRef& n) {
  if (!is(n, OpCode::Mul) || n->inputs[0] != n->inputs[1]) return nullptr;
  return make_like(*n, OpCode::Sqr, {n->inputs[0]});
}

// pow(x, 1) -> x;  pow(x, 2) -> sqr(x)
NodeRef pow_small(const NodeRef& n) {
  if (!is(n, OpCode::Pow)) return nullptr;
  const NodeRef& x = n->inputs[0];
  if (is_scalar_constant(n->inputs[1], 1)) return conform(x, *n);
  if (is_scalar_constant(n->inputs[1], 2) && x->type.broadcastable == n->type.broadcastable)
    // Squared in the result's dtype, as pow computes it.
    return make_like(*n, OpCode::Sqr, {as_dtype(x, n->type.dtype, *n)});
  return nullptr;
}

// dimshuffle(dimshuffle(x, p1), p2) -> dimshuffle(x, p1 o p2), or x if that is the identity
NodeRef compose_dimshuffles(const NodeRef& n) {
  if (!is(n, OpCode::DimShuffle) || !is(n->inputs[0], OpCode::DimShuffle)) return nullptr;
  const std::vector<std::int64_t>& inner = n->inputs[0]->attrs.ints;
  std::vector<std::int64_t> composed;
  for (std::int64_t p : n->attrs.ints) composed.push_back(p == -1 ? -1 : inner[static_cast<std::size_t>(p)]);
  return dimshuffle(n->inputs[0]->inputs[0], composed, *n);
}

// dimshuffle(x, (0, 1, ..., n-1)) -> x
NodeRef identity_dimshuffle(const NodeRef& n) {
  if (!is(n, OpCode::DimShuffle)) return nullptr;
  const NodeRef& x = n->inputs[0];
  return is_identity(n->attrs.ints, x->type.ndim()) ? x : nullptr;
}

// cast(x, x.dtype) -> x
NodeRef useless_cast(const NodeRef& n) {
  if (!is(n, OpCode::Cast) || n->inputs[0]->type.dtype != n->type.dtype) return nullptr;
  return n->inputs[0];
}

// Whether every value of `from` is exactly representable in `to`.
bool lossless(DType from, DType to) {
  struct Range {
    bool floating, is_signed;
    int magnitude_bits;  // integers: value bits; floats: significand bits
  };
  auto range = [](DType t) -> Range {
    switch (t) {
      case DType::bool_: return {false, false, 1};
      case DType::uint8: return {false, false, 8};
      case DType::int8: return {false, true, 7};
      case DType::int16: return {false, true, 15};
      case DType::int32: return {false, true, 31};
      case DType::int64: return {false, true, 63};
      case DType::float32: return {true, true, 24};
      case DType::float64: return {true, true, 53};
    }
    return {false, false, 0};
  };
  if (from == to) return true;
  if (to == DType::bool_) return false;
  const Range f = range(from), t = range(to);
  if (f.floating && !t.floating) return false;
  if (!t.floating && f.is_signed && !t.is_signed) return false;
  return f.magnitude_bits <= t.magnitude_bits;
}

// cast(cast(x, t1), t2) -> cast(x, t2) when t1 holds every value of x's dtype
NodeRef cast_of_lossless_cast(const NodeRef& n) {
  if (!is(n, OpCode::Cast) || !is(n->inputs[0], OpCode::Cast)) return nullptr;
  const NodeRef& x = n->inputs[0]->inputs[0];
  if (!lossless(x->type.dtype, n->inputs[0]->type.dtype)) return nullptr;
  return as_dtype(x, n->type.dtype, *n);
}

// Whether `dim` is x's own length along axis d: x.shape(d), or the constant 1
// where x is broadcastable.
bool is_own_length(const NodeRef& dim, const NodeRef& x, int d) {
  if (is(dim, OpCode::ShapeI) && dim->inputs[0] == x) {
    std::int64_t axis = dim->attrs.ints.at(0);
    if (axis < 0) axis += x->type.ndim();
    return axis == d;
  }
  return x->type.broadcastable[static_cast<std::size_t>(d)] && is_scalar_constant(dim, 1);
}

// reshape(x, x.shape) -> x
NodeRef useless_reshape(const NodeRef& n) {
  if (!is(n, OpCode::Reshape)) return nullptr;
  const NodeRef& x = n->inputs[0];
  if (static_cast<int>(n->inputs.size()) - 1 != x->type.ndim()) return nullptr;
  for (int d = 0; d < x->type.ndim(); ++d)
    if (!is_own_length(n->inputs[static_cast<std::size_t>(d) + 1], x, d)) return nullptr;
  return conform(x, *n);
}

// reshape(reshape(x, s1), s2) -> reshape(x, s2): both read x in row-major order
NodeRef reshape_of_reshape(const NodeRef& n) {
  if (!is(n, OpCode::Reshape) || !is(n->inputs[0], OpCode::Reshape)) return nullptr;
  std::vector<NodeRef> inputs = n->inputs;
  inputs[0] = n->inputs[0]->inputs[0];
  return make_like(*n, OpCode::Reshape, std::move(inputs));
}

bool is_value_reduction(const NodeRef& n) {
  return is(n, OpCode::Sum) || is(n, OpCode::Prod) || is(n, OpCode::Max) || is(n, OpCode::Min);
}

// Which input dims reduction `n` reduces (attrs.axes empty: all).
std::vector<bool> reduced_dims(const NodeRef& n) {
  std::vector<bool> reduced(static_cast<std::size_t>(n->inputs[0]->type.ndim()), n->attrs.axes.empty());
  for (int a : n->attrs.axes) reduced[static_cast<std::size_t>(a)] = true;
  return reduced;
}

// Axes as reductions store them: empty when all of the input's dims are reduced.
std::vector<int> canonical_axes(std::vector<int> axes, int ndim) {
  return static_cast<int>(axes.size()) == ndim ? std::vector<int>{} : axes;
}

// sum/prod/max/min over dims that are broadcastable (length 1): reducing one
// element gives that element, so those dims are not reduced; without
// keepdims a dimshuffle drops them. Covers the sum of a broadcast (the dims a
// dimshuffle inserted) and sums of keepdims sums.
NodeRef reduction_over_broadcastable_dims(const NodeRef& n) {
  if (!is_value_reduction(n)) return nullptr;
  const NodeRef& x = n->inputs[0];
  const std::vector<bool> reduced = reduced_dims(n);
  std::vector<std::int64_t> kept;  // the dims of x that stay
  std::vector<int> axes;           // the dims still to reduce, numbered in `kept`
  bool any_length_one = false;
  for (int d = 0; d < x->type.ndim(); ++d) {
    const bool length_one = reduced[d] && x->type.broadcastable[d];
    any_length_one = any_length_one || length_one;
    if (length_one && !n->attrs.keepdims) continue;
    if (reduced[d] && !length_one) axes.push_back(static_cast<int>(kept.size()));
    kept.push_back(d);
  }
  if (!any_length_one) return nullptr;
  const NodeRef rest = dimshuffle(x, kept, *n);
  if (axes.empty()) return conform(rest, *n);
  ir::Attrs attrs = n->attrs;
  attrs.axes = canonical_axes(axes, rest->type.ndim());
  return make_like(*n, n->op, {rest}, attrs);
}

// dimshuffle(reduce(x, axes, keepdims=true), p) where p drops every reduced
// dim -> dimshuffle(reduce(x, axes), p'): the reduction without keepdims
// (Theano's gradients make this pair). Only when the dimshuffle is the
// reduction's one user, or the reduction would run twice.
NodeRef drop_kept_dims(const NodeRef& n) {
  if (!is(n, OpCode::DimShuffle)) return nullptr;
  const NodeRef& r = n->inputs[0];
  if (!is_value_reduction(r) || !r->attrs.keepdims || use_count(r) != 1) return nullptr;
  const std::vector<bool> reduced = reduced_dims(r);
  std::vector<std::int64_t> pattern;
  for (std::int64_t p : n->attrs.ints) {
    if (p == -1) {
      pattern.push_back(-1);
      continue;
    }
    if (reduced[static_cast<std::size_t>(p)]) return nullptr;  // a kept dim stays
    pattern.push_back(p - std::count(reduced.begin(), reduced.begin() + p, true));
  }
  ir::Attrs attrs = r->attrs;
  attrs.keepdims = false;
  return dimshuffle(make_like(*r, r->op, {r->inputs[0]}, attrs), pattern, *n);
}

NodeRef length_of(const NodeRef& x, std::int64_t axis, const ir::Node& old) {
  ir::Attrs attrs;
  attrs.ints = {axis};
  return make_like(old, OpCode::ShapeI, {x}, attrs);
}

NodeRef int64_constant(std::int64_t value, const ir::Node& old) {
  return ir::make_constant(Tensor::scalar<std::int64_t>(value), old.where);
}

// x.shape(d) read from the inputs x is computed from, so shapes are known
// without computing x (and reshapes to x's own shape are recognised):
// elementwise ops, dimshuffles, softmaxes, products, reductions, one_hot and
// alloc all say how their output's lengths follow from their inputs'. (If x
// itself would fail with a shape mismatch, the length read from an input
// does not: x is still computed wherever its value is used.)
NodeRef length_from_inputs(const NodeRef& n) {
  if (!is(n, OpCode::ShapeI)) return nullptr;
  const NodeRef& x = n->inputs[0];
  const int ndim = x->type.ndim();
  std::int64_t d = n->attrs.ints.at(0);
  if (d < 0) d += ndim;
  if (d < 0 || d >= ndim) return nullptr;
  const auto ud = static_cast<std::size_t>(d);
  if (ir::op_info(x->op).kind == ir::OpKind::Elemwise) {
    if (x->type.broadcastable[ud]) return int64_constant(1, *n);
    for (const NodeRef& in : x->inputs)
      if (!in->type.broadcastable[ud]) return length_of(in, d, *n);
    return nullptr;
  }
  switch (x->op) {
    case OpCode::DimShuffle: {
      const std::int64_t from = x->attrs.ints[ud];
      return from == -1 ? int64_constant(1, *n) : length_of(x->inputs[0], from, *n);
    }
    case OpCode::Softmax:
    case OpCode::LogSoftmax: return length_of(x->inputs[0], d, *n);
    case OpCode::SoftmaxGrad: return length_of(x->inputs[1], d, *n);
    case OpCode::Gemm: return length_of(x->inputs[2], d, *n);
    case OpCode::Dot: {
      // numpy.dot: a's dims but its last, then b's dims but its first.
      const int from_a = x->inputs[0]->type.ndim() - 1;
      return d < from_a ? length_of(x->inputs[0], d, *n) : length_of(x->inputs[1], d - from_a + 1, *n);
    }
    case OpCode::OneHot: return d == 0 ? length_of(x->inputs[0], 0, *n) : int64_constant(x->attrs.ints[0], *n);
    case OpCode::Alloc: return as_dtype(x->inputs[ud + 1], DType::int64, *n);
    default: break;
  }
  if (is_value_reduction(x)) {
    const std::vector<bool> reduced = reduced_dims(x);
    std::int64_t seen = -1;
    for (int k = 0; k < static_cast<int>(reduced.size()); ++k) {
      if (reduced[static_cast<std::size_t>(k)] && !x->attrs.keepdims) continue;
      if (++seen == d) return reduced[static_cast<std::size_t>(k)] ? int64_constant(1, *n) : length_of(x->inputs[0], k, *n);
    }
  }
  return nullptr;
}

constexpr Rule kRules[] = {
    {"mul_by_one", mul_by_one},
    {"add_zero", add_zero},
    {"sub_zero", sub_zero},
    {"div_by_one", div_by_one},
    {"zero_minus", zero_minus},
    {"mul_by_minus_one", mul_by_minus_one},
    {"neg_neg", neg_neg},
    {"fold_neg_into_sub", fold_neg_into_sub},
    {"mul_self", mul_self},
    {"pow_small", pow_small},
    {"compose_dimshuffles", compose_dimshuffles},
    {"identity_dimshuffle", identity_dimshuffle},
    {"useless_cast", useless_cast},
    {"cast_of_lossless_cast", cast_of_lossless_cast},
    {"useless_reshape", useless_reshape},
    {"reshape_of_reshape", reshape_of_reshape},
    {"reduction_over_broadcastable_dims", reduction_over_broadcastable_dims},
    {"drop_kept_dims", drop_kept_dims},
    {"length_from_inputs", length_from_inputs},
};

}  // namespace

Graph canonicalize(const Graph& roots) { return apply_rules(roots, kRules); }

}  // namespace graphjit::compiler::passes
