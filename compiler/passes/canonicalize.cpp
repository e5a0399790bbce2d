// Canonicalize: algebraic identities that remove work, and one normal form per
// expression so that merge and the later passes see equal things as equal.
//
// Normal forms chosen: a - b (not a + (-b)), sqr(x) (not x * x or pow(x, 2)),
// one dimshuffle (not a chain), no identity dimshuffle, cast or reshape.
//
// Exactness: every rule gives bit-identical results except
//  - x + 0 -> x, 0 - x -> -x and sum over a length-1 dim -> the element: the
//    sign of a zero result may differ (-0.0 + 0 is +0.0), which compares equal;
//  - pow(x, 2) -> sqr(x): x * x is correctly rounded, libm's pow may be off by
//    one unit in the last place.
// Rules that involve negation only apply to floats: integer negation
// saturates at the dtype's range (and bool/unsigned ones do not negate).
// Not done: x * 0 -> 0 (for floats inf * 0 and nan * 0 are nan; for integers
// it would need the broadcast shape, and saves nothing a fused kernel pays
// for), x - x -> 0 (same reason).
#include "compiler/passes/passes.hpp"

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

// sum(dimshuffle(x, p), axes) where some summed axes are dims the dimshuffle
// inserted ('x'): summing one element is that element, so those axes are not
// summed (and, without keepdims, not inserted).
NodeRef sum_over_inserted_dims(const NodeRef& n) {
  if (!is(n, OpCode::Sum) || !is(n->inputs[0], OpCode::DimShuffle)) return nullptr;
  const NodeRef& shuffled = n->inputs[0];
  const std::vector<std::int64_t>& pattern = shuffled->attrs.ints;
  std::vector<bool> summed(pattern.size(), n->attrs.axes.empty());
  for (int a : n->attrs.axes) summed[static_cast<std::size_t>(a)] = true;
  bool any_inserted = false;
  for (std::size_t i = 0; i < pattern.size(); ++i) any_inserted = any_inserted || (summed[i] && pattern[i] == -1);
  if (!any_inserted) return nullptr;

  const bool keepdims = n->attrs.keepdims;
  std::vector<std::int64_t> kept_pattern;  // without keepdims, the summed inserted dims go
  std::vector<int> axes;                   // the dims still to sum, numbered in kept_pattern
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const bool inserted_and_summed = summed[i] && pattern[i] == -1;
    if (inserted_and_summed && !keepdims) continue;
    if (summed[i] && !inserted_and_summed) axes.push_back(static_cast<int>(kept_pattern.size()));
    kept_pattern.push_back(pattern[i]);
  }
  const NodeRef x = kept_pattern == pattern ? shuffled : dimshuffle(shuffled->inputs[0], kept_pattern, *n);
  if (axes.empty()) return conform(x, *n);
  ir::Attrs attrs = n->attrs;
  attrs.axes = static_cast<int>(axes.size()) == x->type.ndim() ? std::vector<int>{} : axes;  // empty = all
  return make_like(*n, OpCode::Sum, {x}, attrs);
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
    {"sum_over_inserted_dims", sum_over_inserted_dims},
};

}  // namespace

Graph canonicalize(const Graph& roots) { return apply_rules(roots, kRules); }

}  // namespace graphjit::compiler::passes
