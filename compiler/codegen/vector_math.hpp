// Elementary functions emitted as straight-line LLVM IR, so that they vectorize.
//
// LLVM lowers llvm.exp, tanh etc. to scalar libm calls, which would stop a
// fused kernel from using SIMD at all. These work on float or double, scalar
// or vector, with no branches and no calls. Accuracy (measured against a
// higher-precision reference over all magnitudes, tests/test_codegen_math.cpp)
// is a few ulps; ±0, ±inf, nan and subnormal arguments and results follow C's
// <math.h>.
//
// Methods: exp reduces x = n*ln2 + r with a two-part ln2 (Cody and Waite) and
// evaluates the Taylor series of e^r on |r| <= ln2/2, scaling by 2^n in two
// steps so that results near overflow and in the subnormal range are right;
// log splits x = 2^k * m with m in [sqrt(1/2), sqrt(2)) and uses
// log(m) = 2 atanh(s), s = (m-1)/(m+1); log1p applies a correction term for
// the rounding of 1+x; expm1 = 2^n expm1(r) + (2^n - 1) on the same
// reduction as exp, exp(x) - 1 above the range where the -1 matters; tanh(|x|) = -t/(2+t) with t = expm1(-2|x|), which
// keeps full relative accuracy near 0; sigmoid and softplus only ever take
// exp of -|x|, so they cannot overflow.
#pragma once

#include <llvm/IR/IRBuilder.h>

#include <functional>

namespace graphjit::codegen::math {

llvm::Value* exp(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* log(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* log1p(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* expm1(llvm::IRBuilder<>& b, llvm::Value* x);     // exp(x) - 1
llvm::Value* tanh(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* sigmoid(llvm::IRBuilder<>& b, llvm::Value* x);   // 1 / (1 + exp(-x))
llvm::Value* softplus(llvm::IRBuilder<>& b, llvm::Value* x);  // log(1 + exp(x))
llvm::Value* erf(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* sinh(llvm::IRBuilder<>& b, llvm::Value* x);  // vector_exp_based.cpp
llvm::Value* cosh(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* exp2(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* arctan(llvm::IRBuilder<>& b, llvm::Value* x);  // vector_arctan.cpp
llvm::Value* erfc(llvm::IRBuilder<>& b, llvm::Value* x);

// Issue 8, inverse functions (vmath-inverse): vector_log_bases.cpp,
// vector_inverse_hyperbolic.cpp, vector_arcsin.cpp, vector_arctan.cpp.
llvm::Value* log2(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* log10(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* arcsinh(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* arccosh(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* arctanh(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* arcsin(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* arccos(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* arctan2(llvm::IRBuilder<>& b, llvm::Value* y, llvm::Value* x);  // atan(y/x) in the quadrant of (x, y)
// Special functions of issue 8 (vector_special.cpp): erfinv (±inf at ±1, nan
// beyond), gammaln = log|Gamma(x)| (+inf at 0 and the negative integers) and
// psi = digamma (-inf at +0, +inf at -0, nan at the negative integers and
// -inf) and its derivative tri_gamma (+inf at 0, the negative integers and -inf).
llvm::Value* erfinv(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* gammaln(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* psi(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* tri_gamma(llvm::IRBuilder<>& b, llvm::Value* x);

// The scalar function (libm's) for one lane: the trigonometric functions
// reduce |x| <= 1e6 exactly and hand larger arguments and ±inf to it, lane by
// lane, rather than give a wrong digit.
using LaneFallback = std::function<llvm::Value*(llvm::Value* lane)>;
llvm::Value* sin(llvm::IRBuilder<>& b, llvm::Value* x, const LaneFallback& beyond_range);
llvm::Value* cos(llvm::IRBuilder<>& b, llvm::Value* x, const LaneFallback& beyond_range);
llvm::Value* tan(llvm::IRBuilder<>& b, llvm::Value* x, const LaneFallback& beyond_range);

}  // namespace graphjit::codegen::math
