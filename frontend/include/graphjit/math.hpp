// Elementwise math (issue 8): the functions of theano.tensor beyond
// arithmetic, the activations of theano.tensor.nnet, and C++ numbers wherever
// Theano takes a Python number (`T::maximum(x, 0)`, `T::pow(x, 2)`,
// `T::eq(p, 1)`), with Theano's autocasting (see Operand in variable.hpp).
// Included by tensor.hpp.
#pragma once

#include <graphjit/variable.hpp>

#include <source_location>

namespace graphjit::tensor {

using SL = std::source_location;

// Binary ops with a number on either side. Two variables pick the overloads
// in tensor.hpp; two numbers make constants (int64 or float64) first. The
// list is given once, as an X-macro: frontend/ops/number_operands.cpp
// defines the same builders from it.
#define GRAPHJIT_NUMBER_BINARY_BUILDERS(X) \
  X(add) X(sub) X(mul) X(true_div) X(int_div) X(mod) X(pow) X(maximum) X(minimum) \
  X(eq) X(neq) X(lt) X(le) X(gt) X(ge) X(and_) X(or_) X(xor_)
#define GRAPHJIT_NUMBER_BINARY(fn) Variable fn(const Operand& a, const Operand& b, SL where = SL::current());
GRAPHJIT_NUMBER_BINARY_BUILDERS(GRAPHJIT_NUMBER_BINARY)
#undef GRAPHJIT_NUMBER_BINARY

// Trigonometric and hyperbolic functions (numpy's names, as Theano's).
Variable tan(const Variable& x, SL where = SL::current());
Variable arcsin(const Variable& x, SL where = SL::current());
Variable arccos(const Variable& x, SL where = SL::current());
Variable arctan(const Variable& x, SL where = SL::current());
Variable arctan2(const Operand& y, const Operand& x, SL where = SL::current());
Variable sinh(const Variable& x, SL where = SL::current());
Variable cosh(const Variable& x, SL where = SL::current());
Variable arcsinh(const Variable& x, SL where = SL::current());
Variable arccosh(const Variable& x, SL where = SL::current());
Variable arctanh(const Variable& x, SL where = SL::current());

// Exponentials and logarithms in base 2 and 10.
Variable exp2(const Variable& x, SL where = SL::current());
Variable log2(const Variable& x, SL where = SL::current());
Variable log10(const Variable& x, SL where = SL::current());

// Rounding; the results are floats (numpy's). round is numpy's: half to even.
Variable floor(const Variable& x, SL where = SL::current());
Variable ceil(const Variable& x, SL where = SL::current());
Variable round_half_to_even(const Variable& x, SL where = SL::current());
Variable round(const Variable& x, SL where = SL::current());
Variable trunc(const Variable& x, SL where = SL::current());

// Special functions. psi's gradient is tri_gamma (polygamma(1, x)), which, as in
// Theano, has none.
Variable reciprocal(const Variable& x, SL where = SL::current());
Variable erf(const Variable& x, SL where = SL::current());
Variable erfc(const Variable& x, SL where = SL::current());
Variable erfinv(const Variable& x, SL where = SL::current());
Variable gammaln(const Variable& x, SL where = SL::current());
Variable psi(const Variable& x, SL where = SL::current());
Variable tri_gamma(const Variable& x, SL where = SL::current());

// Predicates; results are bool (integers are never nan or inf).
Variable isnan(const Variable& x, SL where = SL::current());
Variable isinf(const Variable& x, SL where = SL::current());

// Activations, written as Theano writes them: relu(x, alpha) =
// 0.5 (1 + alpha) x + 0.5 (1 - alpha) |x|; elu = x > 0 ? x : alpha expm1(x);
// hard_sigmoid = clip(0.2 x + 0.5, 0, 1); softsign = x / (1 + |x|).
Variable relu(const Variable& x, const Operand& alpha, SL where = SL::current());
Variable elu(const Variable& x, const Operand& alpha = 1.0, SL where = SL::current());
Variable hard_sigmoid(const Variable& x, SL where = SL::current());
Variable softsign(const Variable& x, SL where = SL::current());

// numpy.where(cond, a, b): Theano's switch.
Variable where(const Variable& cond, const Operand& a, const Operand& b, SL where = SL::current());

namespace nnet {
Variable relu(const Variable& x, const Operand& alpha, SL where = SL::current());
Variable elu(const Variable& x, const Operand& alpha = 1.0, SL where = SL::current());
Variable hard_sigmoid(const Variable& x, SL where = SL::current());
Variable softsign(const Variable& x, SL where = SL::current());
}  // namespace nnet

}  // namespace graphjit::tensor
