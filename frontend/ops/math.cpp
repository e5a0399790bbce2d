// Elementwise math beyond arithmetic (issue 8): trigonometric and hyperbolic
// functions, exp2/log2/log10, rounding, the special functions, the nan/inf
// predicates, and the activations built from them. Each op is its scalar
// function and its gradient; the code generator emits vector IR for most
// (compiler/codegen/vector_*.cpp) and calls the scalar function lane by lane
// for the others.
#include "frontend/ops/elemwise_support.hpp"
#include "frontend/ops/special_functions.hpp"

#include <graphjit/tensor.hpp>

#include <cmath>
#include <numbers>

namespace graphjit::ir {

void register_math_ops() {
  using namespace graphjit::ops;
  namespace T_ = graphjit::tensor;

  SCALAR(Tan, PromoteFloat, return static_cast<T>(std::tan(a[0])););
  SCALAR(Arcsin, PromoteFloat, return static_cast<T>(std::asin(a[0])););
  SCALAR(Arccos, PromoteFloat, return static_cast<T>(std::acos(a[0])););
  SCALAR(Arctan, PromoteFloat, return static_cast<T>(std::atan(a[0])););
  SCALAR(Arctan2, PromoteFloat, return static_cast<T>(std::atan2(a[0], a[1])););
  SCALAR(Sinh, PromoteFloat, return static_cast<T>(std::sinh(a[0])););
  SCALAR(Cosh, PromoteFloat, return static_cast<T>(std::cosh(a[0])););
  SCALAR(Arcsinh, PromoteFloat, return static_cast<T>(std::asinh(a[0])););
  SCALAR(Arccosh, PromoteFloat, return static_cast<T>(std::acosh(a[0])););
  SCALAR(Arctanh, PromoteFloat, return static_cast<T>(std::atanh(a[0])););
  SCALAR(Exp2, PromoteFloat, return static_cast<T>(std::exp2(a[0])););
  SCALAR(Log2, PromoteFloat, return static_cast<T>(std::log2(a[0])););
  SCALAR(Log10, PromoteFloat, return static_cast<T>(std::log10(a[0])););
  SCALAR(Floor, PromoteFloat, return static_cast<T>(std::floor(a[0])););
  SCALAR(Ceil, PromoteFloat, return static_cast<T>(std::ceil(a[0])););
  SCALAR(RoundHalfToEven, PromoteFloat, return static_cast<T>(round_half_to_even(static_cast<double>(a[0]))););
  SCALAR(Trunc, PromoteFloat, return static_cast<T>(std::trunc(a[0])););
  SCALAR(Reciprocal, PromoteFloat, return static_cast<T>(T(1) / a[0]););
  SCALAR(Erf, PromoteFloat, return static_cast<T>(std::erf(a[0])););
  SCALAR(Erfc, PromoteFloat, return static_cast<T>(std::erfc(a[0])););
  SCALAR(Erfinv, PromoteFloat, return static_cast<T>(erfinv(static_cast<double>(a[0]))););
  SCALAR(Gammaln, PromoteFloat, return static_cast<T>(std::lgamma(a[0])););
  SCALAR(Psi, PromoteFloat, return static_cast<T>(digamma(static_cast<double>(a[0]))););
  SCALAR(TriGamma, PromoteFloat, return static_cast<T>(trigamma(static_cast<double>(a[0]))););
  // Integers are never nan or inf.
  SCALAR(IsNan, Bool, if constexpr (std::is_floating_point_v<T>) return std::isnan(a[0]); else return false;);
  SCALAR(IsInf, Bool, if constexpr (std::is_floating_point_v<T>) return std::isinf(a[0]); else return false;);

  GRAD(Tan) { return to_inputs(node, {g * (1 + T_::sqr(out))}); };
  GRAD(Arcsin) { return to_inputs(node, {g / T_::sqrt(1 - T_::sqr(x0(node)))}); };
  GRAD(Arccos) { return to_inputs(node, {-g / T_::sqrt(1 - T_::sqr(x0(node)))}); };
  GRAD(Arctan) { return to_inputs(node, {g / (1 + T_::sqr(x0(node)))}); };
  GRAD(Arctan2) {
    Variable y = x0(node), x = x1(node), r2 = T_::sqr(x) + T_::sqr(y);
    return to_inputs(node, {g * x / r2, -g * y / r2});
  };
  GRAD(Sinh) { return to_inputs(node, {g * T_::cosh(x0(node))}); };
  GRAD(Cosh) { return to_inputs(node, {g * T_::sinh(x0(node))}); };
  GRAD(Arcsinh) { return to_inputs(node, {g / T_::sqrt(T_::sqr(x0(node)) + 1)}); };
  GRAD(Arccosh) { return to_inputs(node, {g / T_::sqrt(T_::sqr(x0(node)) - 1)}); };
  GRAD(Arctanh) { return to_inputs(node, {g / (1 - T_::sqr(x0(node)))}); };
  GRAD(Exp2) { return to_inputs(node, {g * out * std::numbers::ln2}); };
  GRAD(Log2) { return to_inputs(node, {g / (x0(node) * std::numbers::ln2)}); };
  GRAD(Log10) { return to_inputs(node, {g / (x0(node) * std::numbers::ln10)}); };
  // Piecewise constant: zero wherever differentiable, as in Theano.
  GRAD(Floor) { return to_inputs(node, {g * 0}); };
  GRAD(Ceil) { return to_inputs(node, {g * 0}); };
  GRAD(RoundHalfToEven) { return to_inputs(node, {g * 0}); };
  GRAD(Trunc) { return to_inputs(node, {g * 0}); };
  GRAD(Reciprocal) { return to_inputs(node, {-g * T_::sqr(out)}); };
  // The lambdas cannot capture, so the constants are spelled where they are used.
  GRAD(Erf) { return to_inputs(node, {g * (2.0 / std::sqrt(std::numbers::pi)) * T_::exp(-T_::sqr(x0(node)))}); };
  GRAD(Erfc) { return to_inputs(node, {g * (-2.0 / std::sqrt(std::numbers::pi)) * T_::exp(-T_::sqr(x0(node)))}); };
  GRAD(Erfinv) { return to_inputs(node, {g * (std::sqrt(std::numbers::pi) / 2.0) * T_::exp(T_::sqr(out))}); };
  GRAD(Gammaln) { return to_inputs(node, {g * T_::psi(x0(node))}); };
  GRAD(Psi) { return to_inputs(node, {g * T_::tri_gamma(x0(node))}); };
  // TriGamma has no gradient: Theano's raises NotImplementedError.
}

}  // namespace graphjit::ir

namespace graphjit::tensor {

using ir::OpCode;
using ops::elemwise;

#define UNARY(fn, Op) \
  Variable fn(const Variable& x, SL where) { return elemwise(OpCode::Op, {x}, where); }
UNARY(tan, Tan)
UNARY(arcsin, Arcsin)
UNARY(arccos, Arccos)
UNARY(arctan, Arctan)
UNARY(sinh, Sinh)
UNARY(cosh, Cosh)
UNARY(arcsinh, Arcsinh)
UNARY(arccosh, Arccosh)
UNARY(arctanh, Arctanh)
UNARY(exp2, Exp2)
UNARY(log2, Log2)
UNARY(log10, Log10)
UNARY(floor, Floor)
UNARY(ceil, Ceil)
UNARY(round_half_to_even, RoundHalfToEven)
UNARY(trunc, Trunc)
UNARY(reciprocal, Reciprocal)
UNARY(erf, Erf)
UNARY(erfc, Erfc)
UNARY(erfinv, Erfinv)
UNARY(gammaln, Gammaln)
UNARY(psi, Psi)
UNARY(tri_gamma, TriGamma)
UNARY(isnan, IsNan)
UNARY(isinf, IsInf)
#undef UNARY

Variable round(const Variable& x, SL where) { return round_half_to_even(x, where); }

Variable arctan2(const Operand& y, const Operand& x, SL where) {
  auto [a, b] = operand_pair(y, x);
  return elemwise(OpCode::Arctan2, {a, b}, where);
}

// Activations written with existing ops, as Theano writes them, so their
// gradients and compiled kernels come from those ops.
Variable relu(const Variable& x, const Operand& alpha, SL where) {
  if (!alpha.var.defined() && alpha.number == 0) return relu(x, where);
  const Variable a = operand_pair(x, alpha).second;
  return mul(0.5 * (1 + a), x, where) + mul(0.5 * (1 - a), abs(x, where), where);
}

Variable elu(const Variable& x, const Operand& alpha, SL where) {
  const Variable a = operand_pair(x, alpha).second;
  return switch_(gt(x, 0, where), x, mul(a, expm1(x, where), where), where);
}

Variable hard_sigmoid(const Variable& x, SL where) { return clip(add(mul(x, 0.2, where), 0.5, where), 0, 1, where); }

Variable softsign(const Variable& x, SL where) { return true_div(x, add(abs(x, where), 1, where), where); }

Variable where(const Variable& cond, const Operand& a, const Operand& b, SL where) { return switch_(cond, a, b, where); }

namespace nnet {
Variable relu(const Variable& x, const Operand& alpha, SL where) { return tensor::relu(x, alpha, where); }
Variable elu(const Variable& x, const Operand& alpha, SL where) { return tensor::elu(x, alpha, where); }
Variable hard_sigmoid(const Variable& x, SL where) { return tensor::hard_sigmoid(x, where); }
Variable softsign(const Variable& x, SL where) { return tensor::softsign(x, where); }
}  // namespace nnet

}  // namespace graphjit::tensor
