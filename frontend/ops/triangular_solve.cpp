// Triangular solve (issue 8): scipy.linalg.solve_triangular as Theano's and
// PyTensor's slinalg have it. Compiled, one LAPACK trtrs in the operands'
// precision; the reference is substitution in double (linalg_reference).
// Only the triangle `lower` names is read (and not the diagonal, when it is
// a unit diagonal), so the gradient with respect to a is zero elsewhere.
#include "frontend/ops/linalg_support.hpp"

#include <graphjit/linalg.hpp>
#include <graphjit/runtime/lapack.hpp>
#include <graphjit/tensor.hpp>

#include <fmt/format.h>

namespace graphjit::ir {

namespace {

using namespace linalg;

// attrs.ints {lower, trans, unit_diagonal}, each 0 or 1.
struct Triangle {
  bool lower, trans, unit_diagonal;
};

Triangle triangle_of(const Node& node) {
  const auto& f = node.attrs.ints;
  if (f.size() != 3 || f[0] < 0 || f[0] > 1 || f[1] < 0 || f[1] > 1 || f[2] < 0 || f[2] > 1)
    ops::type_error(node, "solve_triangular's attrs.ints must be {lower, trans, unit_diagonal}, each 0 or 1");
  return {f[0] == 1, f[1] == 1, f[2] == 1};
}

Type triangular_type(const Node& node) {
  triangle_of(node);
  return solve_type(node);
}

Tensor triangular_reference(const Node& node, const std::vector<Tensor>& inputs) {
  const Triangle t = triangle_of(node);
  const Shape shape = solve_shape(node, inputs);
  const std::int64_t n = shape[0], k = shape.size() == 2 ? shape[1] : 1;
  const auto x = ops::linalg_reference::solve_triangular(matrix_of(inputs[0]), matrix_of(inputs[1]), n, k, t.lower,
                                                         t.trans, t.unit_diagonal);
  if (!x) singular(node, inputs);
  return tensor_of(*x, shape, node.type.dtype);
}

Tensor triangular_native(const Node& node, const std::vector<Tensor>& inputs, OutputMemory&) {
  const Triangle t = triangle_of(node);
  solve_shape(node, inputs);
  const DType dtype = node.type.dtype;
  lapack::Result r = lapack::solve_triangular(as_dtype(inputs[0], dtype), as_dtype(inputs[1], dtype), t.lower, t.trans,
                                              t.unit_diagonal);
  check_info(node, inputs, r.info, singular);
  return r.value;
}

// The part of an n x n matrix the op reads of a: its triangle, without the
// diagonal for a unit diagonal.
Variable read_part(const Variable& m, const Triangle& t) {
  const Variable weights = lower_weights(m.shape(0), t.unit_diagonal ? 0 : 1, m.dtype());
  return m * (t.lower ? weights : weights.T());
}

// The same solve with a, or with a transposed (the adjoint system).
Variable solve_with(const Node& node, const Variable& rhs, bool trans) {
  const Triangle t = triangle_of(node);
  return tensor::slinalg::solve_triangular(ops::input(node, 0), rhs, trans ? 1 : 0, t.lower, t.unit_diagonal,
                                           node.where);
}

// x = op(A)^-1 b: gb = op(A)^-T g; ga = -gb x^T read through op (its
// transpose when trans), kept on the triangle a is read from.
std::vector<Variable> triangular_grad(const Node& node, const Variable& x, const Variable& g) {
  const Triangle t = triangle_of(node);
  const Variable gb = solve_with(node, g, !t.trans);
  const Variable x2 = x.ndim() == 1 ? x.dimshuffle({0, -1}) : x, gb2 = gb.ndim() == 1 ? gb.dimshuffle({0, -1}) : gb;
  const Variable outer = t.trans ? -tensor::dot(x2, gb2.T()) : -tensor::dot(gb2, x2.T());
  return {ops::sum_to_input(read_part(outer, t), *node.inputs[0]), ops::sum_to_input(gb, *node.inputs[1])};
}

// d x = op(A)^-1 (db - op(dA) x), dA restricted to the part that is read.
Variable triangular_rop(const Node& node, const Variable& x, const std::vector<Variable>& tangents) {
  const Triangle t = triangle_of(node);
  Variable rhs = tangents[1].defined() ? tangents[1] : tensor::zeros_like(x);
  if (tangents[0].defined()) {
    const Variable da = read_part(tangents[0], t);
    rhs = rhs - tensor::dot(t.trans ? da.T() : da, x);
  }
  return solve_with(node, rhs, t.trans);
}

}  // namespace

void register_triangular_solve_op() {
  define_op(OpCode::SolveTriangular, {triangular_type, solve_shape, triangular_reference, triangular_grad,
                                      NativeKernel(triangular_native, true)});
  define_op(OpCode::SolveTriangular).rop = triangular_rop;
}

}  // namespace graphjit::ir

namespace graphjit::tensor::slinalg {

Variable solve_triangular(const Variable& a, const Variable& b, int trans, bool lower, bool unit_diagonal, SL where) {
  if (trans < 0 || trans > 2)
    throw TypeError(fmt::format("solve_triangular at {}: trans is {}; it is 0 (a x = b), 1 (a^T x = b) or 2 (a^H x = "
                                "b, the same as 1 for real a), as scipy's", ops::where_str(where), trans));
  ir::Attrs attrs;
  attrs.ints = {lower ? 1 : 0, trans == 0 ? 0 : 1, unit_diagonal ? 1 : 0};
  return ops::apply(ir::OpCode::SolveTriangular,
                    {linalg::as_float(a, "solve_triangular", where), linalg::as_float(b, "solve_triangular", where)},
                    std::move(attrs), where);
}

Variable solve_lower_triangular(const Variable& a, const Variable& b, SL where) {
  return solve_triangular(a, b, 0, true, false, where);
}

Variable solve_upper_triangular(const Variable& a, const Variable& b, SL where) {
  return solve_triangular(a, b, 0, false, false, where);
}

Variable solve(const Variable& a, const Variable& b, Structure assume_a, SL where) {
  switch (assume_a) {
    case Structure::general:
    case Structure::symmetric: return solve(a, b, where);
    case Structure::lower_triangular: return solve_triangular(a, b, 0, true, false, where);
    case Structure::upper_triangular: return solve_triangular(a, b, 0, false, false, where);
    case Structure::positive_definite: {
      const Variable l = cholesky(a, where);
      return solve_triangular(l, solve_triangular(l, b, 0, true, false, where), 1, true, false, where);
    }
  }
  throw TypeError(fmt::format("solve at {}: unknown Structure {}", ops::where_str(where), static_cast<int>(assume_a)));
}

}  // namespace graphjit::tensor::slinalg
