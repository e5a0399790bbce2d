// LAPACK ops (issue 8): theano.tensor.nlinalg's matrix_inverse, det and
// eigh, slinalg's solve and cholesky. Compiled, each is one LAPACK call
// through runtime/lapack.hpp in the input's precision; the reference is the
// textbook algorithm in double (linalg_reference.hpp), the oracle the LAPACK
// results are tested against. A singular or non-positive-definite input is
// an error naming the node, its shapes and the user's line, in both.
// Gradients are Theano's (PyTensor's nlinalg/slinalg), written with these
// ops, dot and elementwise masks.
#include "frontend/ops/linalg_support.hpp"

#include <graphjit/linalg.hpp>
#include <graphjit/runtime/lapack.hpp>
#include <graphjit/tensor.hpp>

#include <cmath>
#include <fmt/format.h>
#include <stdexcept>

namespace graphjit::ir {

namespace linalg {

namespace ref = ops::linalg_reference;

// --- types and shapes ---------------------------------------------------------------

void require_float_matrix(const Node& node, const Type& t, const char* what) {
  if (t.ndim() != 2 || !is_float(t.dtype))
    ops::type_error(node, fmt::format("{} must be a float32 or float64 matrix, not {}", what, t.str()));
}

Type solve_type(const Node& node) {
  const Type& a = node.inputs[0]->type;
  const Type& b = node.inputs[1]->type;
  require_float_matrix(node, a, "a");
  if ((b.ndim() != 1 && b.ndim() != 2) || !is_float(b.dtype))
    ops::type_error(node, fmt::format("b must be a float vector or matrix (one column per right-hand side), not {}",
                                      b.str()));
  return Type{promote(a.dtype, b.dtype), b.broadcastable};
}

std::int64_t order_of(const Node& node, const std::vector<Tensor>& inputs) {
  const Tensor& a = inputs[0];
  if (a.shape(0) != a.shape(1))
    ops::shape_error(node, inputs, fmt::format("{} needs a square matrix, got shape {}", op_info(node.op).name,
                                               shape_str(a.shape())));
  return a.shape(0);
}

Shape solve_shape(const Node& node, const std::vector<Tensor>& inputs) {
  const std::int64_t n = order_of(node, inputs);
  if (inputs[1].shape(0) != n)
    ops::shape_error(node, inputs, fmt::format("a is {} x {} but b has {} rows; b needs one row per row of a", n, n,
                                               inputs[1].shape(0)));
  return inputs[1].shape();
}

[[noreturn]] void singular(const Node& node, const std::vector<Tensor>& inputs) {
  linalg_error(node, inputs, fmt::format("the matrix is singular (a zero pivot in its LU factorization, or a zero "
                                         "on a triangular matrix's diagonal), so {} has no result; check the input, "
                                         "or regularize it (add a multiple of the identity)", op_info(node.op).name));
}

void check_info(const Node& node, const std::vector<Tensor>& inputs, int info, void (*input_fault)(const Node&,
                const std::vector<Tensor>&)) {
  if (info > 0) input_fault(node, inputs);
  if (info < 0)
    throw std::logic_error(fmt::format("graphjit internal error: LAPACK rejected argument {} for {}", -info,
                                       ops::describe(node)));
}

ref::Matrix matrix_of(const Tensor& t) { return t.to_vector<double>(); }

Tensor tensor_of(const ref::Matrix& m, const Shape& shape, DType dtype) {
  return Tensor::from_vector(m, shape).astype(dtype);
}

Tensor as_dtype(const Tensor& t, DType dtype) { return t.dtype() == dtype ? t : t.astype(dtype); }

Variable lower_weights(const Variable& n, double diagonal, DType dtype) {
  const Variable i = tensor::arange(n).dimshuffle({0, -1}), j = tensor::arange(n).dimshuffle({-1, 0});
  return tensor::cast(tensor::switch_(tensor::gt(i, j), 1, tensor::switch_(tensor::eq(i, j), diagonal, 0)), dtype);
}

}  // namespace linalg

namespace {

using namespace linalg;

Type square_type(const Node& node) {
  require_float_matrix(node, node.inputs[0]->type, "the input");
  return node.inputs[0]->type;
}

Type det_type(const Node& node) {
  require_float_matrix(node, node.inputs[0]->type, "the input");
  return Type{node.inputs[0]->type.dtype, {}};
}

// Eigh's output attrs.ints[0]: 0 the eigenvalues, 1 the eigenvectors.
int eigh_output(const Node& node) {
  if (node.attrs.ints.size() != 1 || (node.attrs.ints[0] != 0 && node.attrs.ints[0] != 1))
    ops::type_error(node, "eigh's attrs.ints must be {0} (eigenvalues) or {1} (eigenvectors)");
  return static_cast<int>(node.attrs.ints[0]);
}

Type eigh_type(const Node& node) {
  const Type a = square_type(node);
  return eigh_output(node) == 0 ? Type{a.dtype, {a.broadcastable[0]}} : a;
}

Shape square_shape(const Node& node, const std::vector<Tensor>& inputs) {
  order_of(node, inputs);
  return inputs[0].shape();
}

Shape det_shape(const Node& node, const std::vector<Tensor>& inputs) {
  order_of(node, inputs);
  return {};
}

Shape eigh_shape(const Node& node, const std::vector<Tensor>& inputs) {
  const std::int64_t n = order_of(node, inputs);
  return eigh_output(node) == 0 ? Shape{n} : Shape{n, n};
}

[[noreturn]] void not_positive_definite(const Node& node, const std::vector<Tensor>& inputs) {
  linalg_error(node, inputs, "the matrix is not positive definite (a leading minor of its lower triangle is not "
                             "positive); cholesky needs a symmetric positive-definite matrix");
}

void eigh_failed(const Node& node, const std::vector<Tensor>& inputs) {
  linalg_error(node, inputs, "LAPACK's syevd did not converge (nan or inf in the matrix?)");
}

// --- reference kernels -----------------------------------------------------------

Tensor inverse_reference(const Node& node, const std::vector<Tensor>& inputs) {
  const std::int64_t n = order_of(node, inputs);
  const auto inverse = ref::inverse(matrix_of(inputs[0]), n);
  if (!inverse) singular(node, inputs);
  return tensor_of(*inverse, {n, n}, node.type.dtype);
}

Tensor det_reference(const Node& node, const std::vector<Tensor>& inputs) {
  const std::int64_t n = order_of(node, inputs);
  return Tensor::full({}, ref::det(matrix_of(inputs[0]), n), node.type.dtype);
}

Tensor solve_reference(const Node& node, const std::vector<Tensor>& inputs) {
  const Shape shape = solve_shape(node, inputs);
  const std::int64_t n = shape[0], k = shape.size() == 2 ? shape[1] : 1;
  const auto x = ref::solve(matrix_of(inputs[0]), matrix_of(inputs[1]), n, k);
  if (!x) singular(node, inputs);
  return tensor_of(*x, shape, node.type.dtype);
}

Tensor cholesky_reference(const Node& node, const std::vector<Tensor>& inputs) {
  const std::int64_t n = order_of(node, inputs);
  const auto l = ref::cholesky_lower(matrix_of(inputs[0]), n);
  if (!l) not_positive_definite(node, inputs);
  return tensor_of(*l, {n, n}, node.type.dtype);
}

// Fixes each eigenvector's sign (the columns of the float matrix v): its
// first component within a relative 1e-6 of the largest magnitude is made
// positive, so LAPACK and the reference agree and results are reproducible.
void fix_signs(Tensor& v) {
  const std::int64_t n = v.shape(0);
  for (std::int64_t j = 0; j < n; ++j) {
    double largest = 0;
    for (std::int64_t i = 0; i < n; ++i) largest = std::max(largest, std::abs(v.get({i, j})));
    std::int64_t lead = 0;
    while (lead < n - 1 && std::abs(v.get({lead, j})) < largest * (1 - 1e-6)) ++lead;
    if (v.get({lead, j}) < 0)
      for (std::int64_t i = 0; i < n; ++i) v.set({i, j}, -v.get({i, j}));
  }
}

std::vector<Tensor> eigh_reference_outputs(const Node& node, const std::vector<Tensor>& inputs) {
  const std::int64_t n = order_of(node, inputs);
  const ref::Eigen e = ref::eigh_lower(matrix_of(inputs[0]), n);
  Tensor v = Tensor::from_vector(e.v, {n, n});
  fix_signs(v);
  return {Tensor::from_vector(e.w, {n}).astype(node.type.dtype), v.astype(node.type.dtype)};
}

Tensor eigh_reference(const Node& node, const std::vector<Tensor>& inputs) {
  return eigh_reference_outputs(node, inputs)[static_cast<std::size_t>(eigh_output(node))];
}

// --- native kernels: LAPACK ---------------------------------------------------------

Tensor inverse_native(const Node& node, const std::vector<Tensor>& inputs, OutputMemory&) {
  order_of(node, inputs);
  lapack::Result r = lapack::inverse(inputs[0]);
  check_info(node, inputs, r.info, singular);
  return r.value;
}

Tensor det_native(const Node& node, const std::vector<Tensor>& inputs, OutputMemory&) {
  order_of(node, inputs);
  return lapack::det(inputs[0]);
}

Tensor solve_native(const Node& node, const std::vector<Tensor>& inputs, OutputMemory&) {
  solve_shape(node, inputs);
  const DType dtype = node.type.dtype;
  lapack::Result r = lapack::solve(as_dtype(inputs[0], dtype), as_dtype(inputs[1], dtype));
  check_info(node, inputs, r.info, singular);
  return r.value;
}

Tensor cholesky_native(const Node& node, const std::vector<Tensor>& inputs, OutputMemory&) {
  order_of(node, inputs);
  lapack::Result r = lapack::cholesky_lower(inputs[0]);
  check_info(node, inputs, r.info, not_positive_definite);
  return r.value;
}

std::vector<Tensor> eigh_outputs(const Node& node, const std::vector<Tensor>& inputs, const std::vector<int>& wanted) {
  order_of(node, inputs);
  lapack::Eigh e = lapack::eigh_lower(inputs[0]);
  check_info(node, inputs, e.info, eigh_failed);
  fix_signs(e.v);
  std::vector<Tensor> out;
  for (int w : wanted) out.push_back(w == 0 ? e.w : e.v);
  return out;
}

Tensor eigh_native(const Node& node, const std::vector<Tensor>& inputs, OutputMemory&) {
  return eigh_outputs(node, inputs, {eigh_output(node)}).front();
}

// --- gradients ------------------------------------------------------------------------

// d inv(a) = -inv(a) da inv(a), so ga = -X^T g X^T with X = inv(a).
std::vector<Variable> inverse_grad(const Node& node, const Variable& x, const Variable& g) {
  return {ops::sum_to_input(-tensor::dot(tensor::dot(x.T(), g), x.T()), *node.inputs[0])};
}

// d det(a) = det(a) tr(inv(a) da): ga = g det(a) inv(a)^T.
std::vector<Variable> det_grad(const Node& node, const Variable& d, const Variable& g) {
  const Variable a = ops::input(node, 0);
  return {ops::sum_to_input(g * d * tensor::nlinalg::matrix_inverse(a, node.where).T(), *node.inputs[0])};
}

// x = a^-1 b: gb = a^-T g, ga = -gb x^T.
std::vector<Variable> solve_grad(const Node& node, const Variable& x, const Variable& g) {
  const Variable a = ops::input(node, 0), b = ops::input(node, 1);
  const Variable gb = tensor::slinalg::solve(a.T(), g, node.where);
  const Variable ga = b.ndim() == 1 ? -tensor::outer(gb, x) : -tensor::dot(gb, x.T());
  return {ops::sum_to_input(ga, *node.inputs[0]), ops::sum_to_input(gb, *node.inputs[1])};
}

// Murray (2016), for the lower factor read from a's lower triangle: with
// Phi the lower triangle with the diagonal halved, S = L^-T Phi(L^T gL) L^-1
// and ga = Phi(S + S^T) (zero above the diagonal, which cholesky never reads).
std::vector<Variable> cholesky_grad(const Node& node, const Variable& l, const Variable& g) {
  const Variable phi = lower_weights(l.shape(0), 0.5, l.dtype());
  const Variable inner = tensor::dot(l.T(), g) * phi;
  const Variable left = tensor::slinalg::solve(l.T(), inner, node.where);               // L^-T P
  const Variable s = tensor::slinalg::solve(l.T(), left.T(), node.where).T();           // (L^-T (L^-T P)^T)^T
  return {ops::sum_to_input((s + s.T()) * phi, *node.inputs[0])};
}

// First-order perturbation (PyTensor's EighGrad): dv[:, n] = sum over m != n
// of v[:, m] (v[:, m]^T da v[:, n]) / (w[n] - w[m]), so with g = V (diag(gw)
// + F o (V^T gV)) V^T, F[m][n] = 1 / (w[n] - w[m]) off the diagonal; eigh
// reads the lower triangle, so ga = tril(g) + triu(g, 1)^T.
std::vector<Variable> eigh_grad(const Node& node, const std::vector<std::pair<int, Variable>>& output_grads) {
  const Variable a = ops::input(node, 0);
  const auto [w, v] = tensor::nlinalg::eigh(a, node.where);
  const Variable n = a.shape(0);
  const Variable i = tensor::arange(n).dimshuffle({0, -1}), j = tensor::arange(n).dimshuffle({-1, 0});
  const Variable on_diagonal = tensor::eq(i, j);
  Variable inner;
  for (const auto& [output, g] : output_grads) {
    // The diagonal's gaps are 1, not 0, so no step computes an inf the switch then drops (Mode::debug checks).
    const Variable gaps = w.dimshuffle({-1, 0}) - w.dimshuffle({0, -1}) + tensor::cast(on_diagonal, a.dtype());
    const Variable term = output == 0 ? tensor::switch_(on_diagonal, g.dimshuffle({0, -1}), 0)
                                      : tensor::switch_(on_diagonal, 0, tensor::dot(v.T(), g) / gaps);
    inner = inner.defined() ? inner + term : term;
  }
  const Variable full = tensor::dot(tensor::dot(v, tensor::cast(inner, a.dtype())), v.T());
  const Variable ga = full * lower_weights(n, 1, a.dtype()) + full.T() * lower_weights(n, 0, a.dtype());
  return {ops::sum_to_input(ga, *node.inputs[0])};
}

// --- R-operators (forward mode): the derivative of the output along the
// tangent da (db), each checked against finite differences of J v in tests ---

// The symmetric matrix an op reading a's lower triangle sees: tril(m) + tril(m, -1)^T.
Variable symmetric_from_lower(const Variable& m) {
  const Variable n = m.shape(0);
  return m * lower_weights(n, 1, m.dtype()) + (m * lower_weights(n, 0, m.dtype())).T();
}

Variable tangent_or_zeros(const Node& node, const std::vector<Variable>& t, std::size_t i) {
  return t[i].defined() ? t[i] : tensor::zeros_like(ops::input(node, i));
}

// d inv(a) = -X da X.
Variable inverse_rop(const Node& node, const Variable& x, const std::vector<Variable>& t) {
  return -tensor::dot(tensor::dot(x, tangent_or_zeros(node, t, 0)), x);
}

// d det(a) = det(a) tr(inv(a) da) = det(a) sum(inv(a)^T * da).
Variable det_rop(const Node& node, const Variable& d, const std::vector<Variable>& t) {
  const Variable inverse = tensor::nlinalg::matrix_inverse(ops::input(node, 0), node.where);
  return d * tensor::sum(inverse.T() * tangent_or_zeros(node, t, 0));
}

// x = a^-1 b: dx = a^-1 (db - da x).
Variable solve_rop(const Node& node, const Variable& x, const std::vector<Variable>& t) {
  const Variable a = ops::input(node, 0);
  Variable rhs = t[1].defined() ? t[1] : tensor::zeros_like(x);
  if (t[0].defined()) rhs = rhs - tensor::dot(t[0], x);
  return tensor::slinalg::solve(a, rhs, node.where);
}

// L = chol(S), S read from a's lower triangle: dL = L Phi(L^-1 dS L^-T), Phi
// the lower triangle with the diagonal halved.
Variable cholesky_rop(const Node& node, const Variable& l, const std::vector<Variable>& t) {
  const Variable ds = symmetric_from_lower(tangent_or_zeros(node, t, 0));
  const Variable left = tensor::slinalg::solve_triangular(l, ds, 0, true, false, node.where);                // L^-1 dS
  const Variable inner = tensor::slinalg::solve_triangular(l, left.T(), 0, true, false, node.where).T();    // (L^-1 (L^-1 dS)^T)^T
  return tensor::dot(l, inner * lower_weights(l.shape(0), 0.5, l.dtype()));
}

// First-order perturbation of a symmetric eigenproblem, with P = V^T dS V:
// dw = diag(P); dV = V (F o P), F[m][n] = 1 / (w[n] - w[m]) off the diagonal,
// 0 on it (infinite for repeated eigenvalues, as the gradient).
Variable eigh_rop(const Node& node, const Variable&, const std::vector<Variable>& t) {
  const Variable a = ops::input(node, 0);
  const auto [w, v] = tensor::nlinalg::eigh(a, node.where);
  const Variable p = tensor::dot(tensor::dot(v.T(), symmetric_from_lower(tangent_or_zeros(node, t, 0))), v);
  const Variable n = a.shape(0);
  const Variable on_diagonal = tensor::eq(tensor::arange(n).dimshuffle({0, -1}), tensor::arange(n).dimshuffle({-1, 0}));
  if (eigh_output(node) == 0) return tensor::sum(tensor::switch_(on_diagonal, p, 0), std::vector<int>{0});
  // The diagonal's gaps are 1, not 0, so no step computes an inf the switch then drops.
  const Variable gaps = w.dimshuffle({-1, 0}) - w.dimshuffle({0, -1}) + tensor::cast(on_diagonal, a.dtype());
  return tensor::dot(v, tensor::switch_(on_diagonal, 0, p / gaps));
}

}  // namespace

void register_linalg_ops() {
  define_op(OpCode::MatrixInverse, {square_type, square_shape, inverse_reference, inverse_grad,
                                    NativeKernel(inverse_native, true)});
  define_op(OpCode::Det, {det_type, det_shape, det_reference, det_grad, NativeKernel(det_native, true)});
  define_op(OpCode::Solve, {solve_type, solve_shape, solve_reference, solve_grad, NativeKernel(solve_native, true)});
  define_op(OpCode::Cholesky, {square_type, square_shape, cholesky_reference, cholesky_grad,
                               NativeKernel(cholesky_native, true)});
  define_op(OpCode::Eigh, {eigh_type, eigh_shape, eigh_reference, nullptr, NativeKernel(eigh_native, true)});
  OpInfo& eigh = define_op(OpCode::Eigh);
  eigh.native_outputs = eigh_outputs;
  eigh.grad_outputs = eigh_grad;
  define_op(OpCode::MatrixInverse).rop = inverse_rop;
  define_op(OpCode::Det).rop = det_rop;
  define_op(OpCode::Solve).rop = solve_rop;
  define_op(OpCode::Cholesky).rop = cholesky_rop;
  eigh.rop = eigh_rop;
}

}  // namespace graphjit::ir

namespace graphjit::tensor {

Variable linalg::as_float(const Variable& x, const char* builder, SL where) {
  ops::require_defined(x, builder, where);
  return is_float(x.dtype()) ? x : cast(x, float64, where);
}

namespace {

using linalg::as_float;

Variable unary(ir::OpCode op, const Variable& x, const char* builder, SL where, ir::Attrs attrs = {}) {
  return ops::apply(op, {as_float(x, builder, where)}, std::move(attrs), where);
}

}  // namespace

namespace nlinalg {

Variable matrix_inverse(const Variable& x, SL where) { return unary(ir::OpCode::MatrixInverse, x, "matrix_inverse", where); }

Variable det(const Variable& x, SL where) { return unary(ir::OpCode::Det, x, "det", where); }

std::pair<Variable, Variable> eigh(const Variable& x, SL where) {
  ir::Attrs w, v;
  w.ints = {0};
  v.ints = {1};
  return {unary(ir::OpCode::Eigh, x, "eigh", where, w), unary(ir::OpCode::Eigh, x, "eigh", where, v)};
}

// The upper triangle of x is the lower one of x.T.
std::pair<Variable, Variable> eigh(const Variable& x, char uplo, SL where) {
  if (uplo != 'L' && uplo != 'U')
    throw TypeError(fmt::format("eigh at {}: UPLO is '{}'; it is 'L' (read the lower triangle) or 'U' (the upper)",
                                ops::where_str(where), uplo));
  ops::require_defined(x, "eigh", where);
  return eigh(uplo == 'L' ? x : x.T(), where);
}

}  // namespace nlinalg

namespace slinalg {

Variable cholesky(const Variable& x, SL where) { return unary(ir::OpCode::Cholesky, x, "cholesky", where); }

Variable solve(const Variable& a, const Variable& b, SL where) {
  return ops::apply(ir::OpCode::Solve, {as_float(a, "solve", where), as_float(b, "solve", where)}, {}, where);
}

}  // namespace slinalg

}  // namespace graphjit::tensor
