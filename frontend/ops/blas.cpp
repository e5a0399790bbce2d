// Linear algebra: Dot (numpy.dot for 1-d and 2-d operands) and Gemm
// (alpha * op(a) @ op(b) + beta * c), which the optimizer makes from dots and
// additions after differentiation. Float products go through the system BLAS
// (runtime/blas.hpp), cut over the kernel thread pool (pooled_gemm.hpp);
// integer products are plain loops.
#include "frontend/ops/op_support.hpp"
#include "frontend/ops/pooled_gemm.hpp"

#include <graphjit/runtime/blas.hpp>
#include <graphjit/tensor.hpp>

#include <fmt/format.h>

namespace graphjit::ir {

namespace {

// --- Dot ----------------------------------------------------------------------

Type infer_dot_type(const Node& node) {
  const Type& a = node.inputs[0]->type;
  const Type& b = node.inputs[1]->type;
  for (const Type* t : {&a, &b})
    if (t->ndim() < 1 || t->ndim() > 2)
      ops::type_error(node, fmt::format("dot takes vectors and matrices, got a {}-d operand ({}); a 0-d operand is a "
                                        "multiplication (T::dot makes one), and higher ranks must be reshaped to 2-d",
                                        t->ndim(), t->str()));
  // numpy: a's dims but the last, then b's dims but its first (the summed one).
  Type out{promote(a.dtype, b.dtype), {}};
  out.broadcastable.assign(a.broadcastable.begin(), a.broadcastable.end() - 1);
  out.broadcastable.insert(out.broadcastable.end(), b.broadcastable.begin() + 1, b.broadcastable.end());
  return out;
}

Shape infer_dot_shape(const Node& node, const std::vector<Tensor>& inputs) {
  const Tensor& a = inputs[0];
  const Tensor& b = inputs[1];
  if (a.shape(-1) != b.shape(0))
    ops::shape_error(node, inputs,
                     fmt::format("the summed dims do not match: {}'s last dim has length {} but {}'s first dim has "
                                 "length {}",
                                 node.inputs[0]->label(), a.shape(-1), node.inputs[1]->label(), b.shape(0)));
  Shape out(a.shape().begin(), a.shape().end() - 1);
  out.insert(out.end(), b.shape().begin() + 1, b.shape().end());
  return out;
}

// (m, k) @ (k, n) in int64 arithmetic that wraps like numpy's (through
// uint64: signed overflow is undefined in C++), converted to `dtype`.
Tensor integer_matmul(const Tensor& a, const Tensor& b, DType dtype) {
  const Tensor ai = a.astype(int64), bi = b.astype(int64);  // contiguous copies
  const std::int64_t m = a.shape(0), k = a.shape(1), n = b.shape(1);
  const std::int64_t* pa = ai.data<std::int64_t>();
  const std::int64_t* pb = bi.data<std::int64_t>();
  Tensor acc = Tensor::empty({m, n}, int64);
  std::int64_t* pc = acc.data<std::int64_t>();
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      std::uint64_t s = 0;
      for (std::int64_t l = 0; l < k; ++l)
        s += static_cast<std::uint64_t>(pa[i * k + l]) * static_cast<std::uint64_t>(pb[l * n + j]);
      pc[i * n + j] = static_cast<std::int64_t>(s);
    }
  return acc.astype(dtype);  // bool: any product non-zero, as numpy's bool dot
}

Tensor dot_reference(const Node& node, const std::vector<Tensor>& inputs) {
  const Shape shape = infer_dot_shape(node, inputs);
  const DType dtype = node.type.dtype;
  // Vectors as a 1-row and a 1-column matrix; the result is reshaped back.
  Tensor a = inputs[0].ndim() == 1 ? inputs[0].reshape({1, inputs[0].shape(0)}) : inputs[0];
  Tensor b = inputs[1].ndim() == 1 ? inputs[1].reshape({inputs[1].shape(0), 1}) : inputs[1];
  if (!is_float(dtype)) return integer_matmul(a, b, dtype).reshape(shape);
  if (a.dtype() != dtype) a = a.astype(dtype);
  if (b.dtype() != dtype) b = b.astype(dtype);
  Tensor c = Tensor::empty({a.shape(0), b.shape(1)}, dtype);
  gemm(false, false, 1.0, a, b, 0.0, c);
  return c.reshape(shape);
}

// The gradient of each operand, for each combination of ranks, in the
// operand's own type (sum_to_input casts and re-broadcasts).
std::vector<Variable> dot_grad(const Node& node, const Variable&, const Variable& g) {
  const Variable a = ops::input(node, 0), b = ops::input(node, 1);
  Variable ga, gb;
  if (a.ndim() == 1 && b.ndim() == 1) {  // scalar g
    ga = g * b;
    gb = g * a;
  } else if (a.ndim() == 2 && b.ndim() == 1) {  // g is (m)
    ga = tensor::outer(g, b);
    gb = tensor::dot(a.T(), g);
  } else if (a.ndim() == 1 && b.ndim() == 2) {  // g is (n)
    ga = tensor::dot(b, g);
    gb = tensor::outer(a, g);
  } else {
    ga = tensor::dot(g, b.T());
    gb = tensor::dot(a.T(), g);
  }
  auto to_input = [](const Variable& grad, const Variable& in) {
    return is_float(in.dtype()) ? ops::sum_to_input(grad, *in.node()) : Variable();
  };
  return {to_input(ga, a), to_input(gb, b)};
}

// --- Gemm ---------------------------------------------------------------------

Type infer_gemm_type(const Node& node) {
  const Type& c = node.inputs[2]->type;
  for (const auto& in : node.inputs) {
    if (in->type.ndim() != 2) ops::type_error(node, "gemm takes three matrices");
    if (!is_float(in->type.dtype) || in->type.dtype != c.dtype)
      ops::type_error(node, "gemm's operands must all be float32 or all float64");
  }
  return c;
}

Shape infer_gemm_shape(const Node& node, const std::vector<Tensor>& inputs) {
  const Tensor &a = inputs[0], &b = inputs[1], &c = inputs[2];
  const bool ta = node.attrs.trans_a, tb = node.attrs.trans_b;
  const std::int64_t m = a.shape(ta ? 1 : 0), k = a.shape(ta ? 0 : 1);
  const std::int64_t kb = b.shape(tb ? 1 : 0), n = b.shape(tb ? 0 : 1);
  if (k != kb || c.shape(0) != m || c.shape(1) != n)
    ops::shape_error(node, inputs,
                     fmt::format("op(a) is ({}, {}) and op(b) is ({}, {}) (trans_a={}, trans_b={}), so c must be "
                                 "({}, {}) and the summed lengths equal",
                                 m, k, kb, n, ta, tb, m, n));
  return c.shape();
}

Tensor gemm_reference(const Node& node, const std::vector<Tensor>& inputs) {
  infer_gemm_shape(node, inputs);
  Tensor out = inputs[2].copy();  // the JIT may update c in place; the reference never does
  gemm(node.attrs.trans_a, node.attrs.trans_b, node.attrs.alpha, inputs[0], inputs[1], node.attrs.beta, out);
  return out;
}

// Whether two tensors are the same view of the same memory.
bool same_view(const Tensor& a, const Tensor& b) {
  return a.shares_storage_with(b) && a.raw_data() == b.raw_data() && a.shape() == b.shape() &&
         a.strides() == b.strides();
}

// Compiled dot: float products of one dtype are a BLAS gemm into the planned
// memory (vectors as 1-row or 1-column views); the rest (integers, mixed
// dtypes) are not worth a kernel of their own and run the plain loop.
Tensor dot_native(const Node& node, const std::vector<Tensor>& inputs, OutputMemory& memory) {
  const DType dtype = node.type.dtype;
  if (!is_float(dtype) || inputs[0].dtype() != dtype || inputs[1].dtype() != dtype) return dot_reference(node, inputs);
  const Shape shape = infer_dot_shape(node, inputs);
  const Tensor a = inputs[0].ndim() == 1 ? inputs[0].reshape({1, inputs[0].shape(0)}) : inputs[0];
  const Tensor b = inputs[1].ndim() == 1 ? inputs[1].reshape({inputs[1].shape(0), 1}) : inputs[1];
  Tensor out = memory.get(shape, dtype);
  Tensor c = out.reshape({a.shape(0), b.shape(1)});
  pooled_gemm(false, false, 1.0, a, b, 0.0, c);
  return out;
}

// Compiled gemm: accumulates onto c in place when the planner hands c's own
// memory as the output (gemm declares that it destroys c), else onto a copy.
Tensor gemm_native(const Node& node, const std::vector<Tensor>& inputs, OutputMemory& memory) {
  const Shape shape = infer_gemm_shape(node, inputs);
  Tensor out = memory.get(shape, node.type.dtype);
  if (!same_view(out, inputs[2]) && node.attrs.beta != 0) out.assign(inputs[2]);
  pooled_gemm(node.attrs.trans_a, node.attrs.trans_b, node.attrs.alpha, inputs[0], inputs[1], node.attrs.beta, out);
  return out;
}

}  // namespace

void register_blas_ops() {
  define_op(OpCode::Dot, {infer_dot_type, infer_dot_shape, dot_reference, dot_grad, dot_native});

  // Gemm has no gradient: the optimizer makes it after differentiation.
  define_op(OpCode::Gemm, {infer_gemm_type, infer_gemm_shape, gemm_reference, nullptr, gemm_native, /*view_of=*/-1, /*destroys=*/2});
}

}  // namespace graphjit::ir

namespace graphjit::tensor {

Variable dot(const Variable& a, const Variable& b, SL where) {
  // numpy.dot with a 0-d operand is a product (undefined operands are reported by the builders).
  if (a.defined() && b.defined() && (a.ndim() == 0 || b.ndim() == 0)) return mul(a, b, where);
  if (a.defined() && b.defined() && (a.ndim() > 2 || b.ndim() > 2)) return dot_nd(a, b, where);  // tensordot
  return ops::apply(ir::OpCode::Dot, {a, b}, {}, where);
}

// numpy.outer: operands of other ranks are flattened first.
Variable outer(const Variable& a, const Variable& b, SL where) {
  ops::require_defined(a, "outer", where);
  ops::require_defined(b, "outer", where);
  auto as_vector = [&](const Variable& v) { return v.ndim() == 1 ? v : flatten(v, 1, where); };
  return mul(dimshuffle(as_vector(a), {0, -1}, where), dimshuffle(as_vector(b), {-1, 0}, where), where);
}

}  // namespace graphjit::tensor
