// Gemm insertion: matrix products whose result is only scaled, added to or
// subtracted from a matrix become one Gemm (alpha * op(a) @ op(b) + beta * c),
// which BLAS computes in one pass over c, and transposed operands become
// Gemm's trans flags instead of transposed copies.
//
//   dot(a, b) + c, c + dot(a, b)  -> gemm(a, b, c, alpha=1, beta=1)
//   dot(a, b) - c                 -> gemm(a, b, c, alpha=1, beta=-1)
//   c - dot(a, b)                 -> gemm(a, b, c, alpha=-1, beta=1)
//   k * dot(a, b), -dot(a, b)     -> gemm(a, b, zeros, alpha=k or -1, beta=0)   (k a constant)
//   dot(a.T, b), dot(a, b.T)      -> gemm(a, b, zeros, trans_a/trans_b, beta=0)
// so the SGD step W - lr * dot(x.T, g) becomes gemm(x, g, W, alpha=-lr,
// beta=1, trans_a). A "zeros" c (alloc of 0, ignored by BLAS for beta=0)
// only stands in until an addition absorbs the product.
//
// Gemm's c must be a full matrix of the result's shape. A term that
// broadcasts (the bias row of dot(x, W) + b) is not absorbed: the product
// stays a dot and the addition stays elementwise, so fusion puts it in the
// kernel that reads the product next (tanh(dot(x, W) + b) is one pass over the
// product while it is in cache, as Theano's Dot22 then Composite{tanh(i0 +
// i1)}). Absorbing it would cost a pass of its own, writing the broadcast bias
// into c before BLAS accumulates onto it (issue 7, item 6).
//
// Only float matrices of one dtype qualify (BLAS), and a product that other
// nodes also read is not absorbed (it would be computed twice).
// Floating point: alpha * (a @ b) + beta * c is evaluated in BLAS's order,
// with k folded into alpha: results differ from the separate ops by rounding.
#include "compiler/passes/passes.hpp"

#include "compiler/passes/pattern.hpp"

#include <optional>
#include <tuple>

namespace graphjit::compiler::passes {

namespace {

using ir::NodeRef;
using ir::OpCode;

bool is_float_matrix(const NodeRef& n, DType dtype) {
  return n->type.ndim() == 2 && n->type.dtype == dtype && is_float(dtype);
}

bool full_matrix_result(const NodeRef& n) {
  return n->type.ndim() == 2 && is_float(n->type.dtype) && !n->type.broadcastable[0] && !n->type.broadcastable[1];
}

// alpha * op(a) @ op(b): the part of a Gemm without c.
struct Product {
  NodeRef a, b;
  bool trans_a = false, trans_b = false;
  double alpha = 1.0;
};

// A matrix operand: itself, or the matrix it transposes.
std::pair<NodeRef, bool> untransposed(const NodeRef& m) {
  // (Only of a matrix: pattern {1, 0} on an (n, m, 1) tensor also drops its broadcastable dim.)
  if (is(m, OpCode::DimShuffle) && m->attrs.ints == std::vector<std::int64_t>{1, 0} && m->inputs[0]->type.ndim() == 2)
    return {m->inputs[0], true};
  return {m, false};
}

// The product `n` computes, if it is a dot of float matrices or a Gemm that
// ignores its c (beta = 0).
std::optional<Product> product_of(const NodeRef& n) {
  const DType dtype = n->type.dtype;
  if (is(n, OpCode::Dot) && is_float_matrix(n->inputs[0], dtype) && is_float_matrix(n->inputs[1], dtype)) {
    Product p;
    std::tie(p.a, p.trans_a) = untransposed(n->inputs[0]);
    std::tie(p.b, p.trans_b) = untransposed(n->inputs[1]);
    return p;
  }
  if (is(n, OpCode::Gemm) && n->attrs.beta == 0.0)
    return Product{n->inputs[0], n->inputs[1], n->attrs.trans_a, n->attrs.trans_b, n->attrs.alpha};
  return std::nullopt;
}

// The product `n` computes, if another node may absorb it: only its user.
std::optional<Product> absorbable_product(const NodeRef& n) {
  if (use_count(n) != 1) return std::nullopt;
  return product_of(n);
}

// The lengths of op(a) @ op(b): rows of op(a), columns of op(b).
std::vector<NodeRef> product_dims(const Product& p, const ir::Node& old) {
  auto length = [&](const NodeRef& m, int axis) {
    ir::Attrs attrs;
    attrs.ints = {axis};
    return make_like(old, OpCode::ShapeI, {m}, attrs);
  };
  return {length(p.a, p.trans_a ? 1 : 0), length(p.b, p.trans_b ? 0 : 1)};
}

NodeRef filled(double value, DType dtype, const Product& p, const ir::Node& old) {
  Tensor scalar = Tensor::empty({}, dtype);
  scalar.set({}, value);
  std::vector<NodeRef> inputs{ir::make_constant(std::move(scalar), old.where)};
  for (const NodeRef& d : product_dims(p, old)) inputs.push_back(d);
  return make_like(old, OpCode::Alloc, std::move(inputs));
}

NodeRef gemm(const Product& p, NodeRef c, double beta, const ir::Node& old) {
  ir::Attrs attrs;
  attrs.trans_a = p.trans_a;
  attrs.trans_b = p.trans_b;
  attrs.alpha = p.alpha;
  attrs.beta = beta;
  return make_like(old, OpCode::Gemm, {p.a, p.b, std::move(c)}, attrs);
}

// Whether elementwise `n` gives a full float matrix, computed in its inputs' dtype.
bool gemm_shaped(const NodeRef& n) {
  if (!full_matrix_result(n)) return false;
  for (const NodeRef& in : n->inputs)
    if (in->type.dtype != n->type.dtype) return false;
  return true;
}

// dot(a, b) + c, c + dot(a, b), dot(a, b) - c, c - dot(a, b)
NodeRef gemm_from_sum(const NodeRef& n) {
  if (!(is(n, OpCode::Add) || is(n, OpCode::Sub)) || !gemm_shaped(n)) return nullptr;
  const bool subtract = is(n, OpCode::Sub);
  for (std::size_t i = 0; i < 2; ++i) {
    std::optional<Product> p = absorbable_product(n->inputs[i]);
    // A product broadcast along a dim (a column times a row) is smaller than the sum.
    if (!p || !full_matrix_result(n->inputs[i])) continue;
    const NodeRef& c = n->inputs[1 - i];
    if (!full_matrix_result(c)) continue;  // a broadcast bias: see the top of the file
    double beta = 1.0;
    if (subtract && i == 0) beta = -1.0;      // product - c
    if (subtract && i == 1) p->alpha = -p->alpha;  // c - product
    return gemm(*p, c, beta, *n);
  }
  return nullptr;
}

// k * dot(a, b), dot(a, b) * k (k a constant), -dot(a, b)
NodeRef gemm_from_scale(const NodeRef& n) {
  if (!full_matrix_result(n)) return nullptr;
  std::optional<Product> p;
  double k = 1.0;
  if (is(n, OpCode::Neg)) {
    p = absorbable_product(n->inputs[0]);
    k = -1.0;
  } else if (is(n, OpCode::Mul) && gemm_shaped(n)) {
    for (std::size_t i = 0; i < 2 && !p; ++i) {
      const std::optional<double> scale = scalar_constant(n->inputs[1 - i]);
      if (scale && (p = absorbable_product(n->inputs[i]))) k = *scale;
    }
  }
  if (!p || p->a->type.dtype != n->type.dtype) return nullptr;
  p->alpha *= k;
  return gemm(*p, filled(0.0, n->type.dtype, *p, *n), 0.0, *n);
}

// dot(a.T, b), dot(a, b.T): the transposes become flags.
NodeRef gemm_from_transposed_dot(const NodeRef& n) {
  if (!is(n, OpCode::Dot) || !full_matrix_result(n)) return nullptr;
  std::optional<Product> p = product_of(n);
  if (!p || !(p->trans_a || p->trans_b)) return nullptr;
  return gemm(*p, filled(0.0, n->type.dtype, *p, *n), 0.0, *n);
}

constexpr Rule kRules[] = {
    {"gemm_from_sum", gemm_from_sum},
    {"gemm_from_scale", gemm_from_scale},
    {"gemm_from_transposed_dot", gemm_from_transposed_dot},
};

}  // namespace

Graph insert_gemm(const Graph& roots) { return apply_rules(roots, kRules); }

}  // namespace graphjit::compiler::passes
