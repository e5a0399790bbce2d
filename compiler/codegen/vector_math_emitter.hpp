// The building blocks of the JIT's elementary functions (vector_math.cpp,
// vector_trig.cpp, vector_erf.cpp): one floating-point format's constants and
// an emitter of branch-free IR on scalars or vectors of float or double.
// Internal to compiler/codegen.
#pragma once

#include "compiler/codegen/vector_math.hpp"

#include <llvm/IR/Constants.h>
#include <llvm/IR/DerivedTypes.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

namespace graphjit::codegen::math::detail {

// The constants and bit layout of one floating-point format.
struct Format {
  bool is_double;
  int mantissa_bits;  // explicit mantissa bits: 52 or 23
  int exponent_bias;  // 1023 or 127
  // ln2 split so that k * ln2_hi is exact for every k the functions produce.
  double ln2_hi, ln2_lo;
  double sqrt_half;        // sqrt(1/2) rounded to the format
  double exp_overflow_x;   // exp(x) is inf for x >= this
  double exp_underflow_x;  // exp(x) rounds to 0 for x <= this
  int exp_degree;          // Taylor degree for e^r, |r| <= ln2/2
  int expm1_degree;
  int atanh_terms;           // terms of 2 atanh(s) after 2s, |s| <= 0.1716
  double tanh_saturation;    // tanh(x) rounds to 1 for |x| >= this / 2
  int subnormal_scale_log2;  // log: subnormals are scaled by 2^this first
  int log1p_linear_log2;     // log1p(x) rounds to x for |x| < 2^this
};

// ln2 = 0x1.62e42fefa39ef358p-1. The high parts keep 32 (double) and 16
// (float) significant bits, leaving room for the exponent k of the reduction.
inline const Format double_format{
    true, 52, 1023, 0x1.62e42feep-1, 0x1.a39ef35793c76p-33, 0x1.6a09e667f3bcdp-1, 710.0, -746.0, 13, 13, 9,
    40.0, 54, -54};
inline const Format float_format{false, 23,   127, 0x1.62e4p-1, 0x1.7f7d1cp-20, 0x1.6a09e6p-1, 89.0, -104.0, 7, 7,
                          4,     20.0, 25,  -25};

class Emitter {
 public:
  Emitter(llvm::IRBuilder<>& b, llvm::Value* like)
      : b_(b),
        float_type_(like->getType()),
        fmt_(float_type_->getScalarType()->isDoubleTy() ? double_format : float_format) {
    llvm::Type* int_scalar = fmt_.is_double ? b.getInt64Ty() : b.getInt32Ty();
    auto* vector = llvm::dyn_cast<llvm::FixedVectorType>(float_type_);
    int_type_ = vector ? llvm::FixedVectorType::get(int_scalar, vector->getNumElements()) : int_scalar;
  }

  llvm::Value* f(double v) { return llvm::ConstantFP::get(float_type_, v); }
  llvm::Value* i(std::int64_t v) { return llvm::ConstantInt::get(int_type_, static_cast<std::uint64_t>(v), true); }
  llvm::Value* bits_of(double v) { return b_.CreateBitCast(f(v), int_type_); }

  llvm::Value* add(llvm::Value* x, llvm::Value* y) { return b_.CreateFAdd(x, y); }
  llvm::Value* sub(llvm::Value* x, llvm::Value* y) { return b_.CreateFSub(x, y); }
  llvm::Value* mul(llvm::Value* x, llvm::Value* y) { return b_.CreateFMul(x, y); }
  llvm::Value* div(llvm::Value* x, llvm::Value* y) { return b_.CreateFDiv(x, y); }
  // x*y + z, fused where the machine has FMA.
  llvm::Value* mul_add(llvm::Value* x, llvm::Value* y, llvm::Value* z) {
    return b_.CreateIntrinsic(llvm::Intrinsic::fmuladd, {float_type_}, {x, y, z});
  }
  llvm::Value* abs(llvm::Value* x) { return b_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x); }
  llvm::Value* select(llvm::Value* c, llvm::Value* x, llvm::Value* y) { return b_.CreateSelect(c, x, y); }
  llvm::Value* is_nan(llvm::Value* x) { return b_.CreateFCmpUNO(x, x); }
  // Clamps without turning nan into a number (the comparisons are false for nan).
  llvm::Value* at_least(llvm::Value* x, double lo) { return select(b_.CreateFCmpOLT(x, f(lo)), f(lo), x); }
  llvm::Value* at_most(llvm::Value* x, double hi) { return select(b_.CreateFCmpOGT(x, f(hi)), f(hi), x); }

  // c[0] + c[1]*x + c[2]*x^2 + ... by Estrin's scheme: pairs of terms first
  // (c0 + c1*x, c2 + c3*x, ...), then pairs of pairs with x^2, x^4, ... The
  // dependency chain is logarithmic in the degree instead of linear
  // (Horner's), which matters when few loop iterations overlap, as in
  // short rows; the accuracy is the same here, where x is small.
  llvm::Value* polynomial(llvm::Value* x, const std::vector<double>& c) {
    std::vector<llvm::Value*> terms;
    for (double coefficient : c) terms.push_back(f(coefficient));
    return polynomial(x, std::move(terms));
  }
  // The same with coefficients that may differ per lane.
  llvm::Value* polynomial(llvm::Value* x, std::vector<llvm::Value*> terms) {
    for (llvm::Value* power = x; terms.size() > 1; power = mul(power, power)) {
      std::vector<llvm::Value*> paired;
      for (std::size_t k = 0; k + 1 < terms.size(); k += 2) paired.push_back(mul_add(terms[k + 1], power, terms[k]));
      if (terms.size() % 2) paired.push_back(terms.back());
      terms = std::move(paired);
    }
    return terms[0];
  }

  // The same by Horner's scheme: a longer dependency chain, but more accurate
  // when the coefficients are large and alternate (erfc's asymptotic piece).
  llvm::Value* polynomial_horner(llvm::Value* x, const std::vector<llvm::Value*>& c) {
    llvm::Value* sum = c.back();
    for (std::size_t k = c.size() - 1; k-- > 0;) sum = mul_add(sum, x, c[k]);
    return sum;
  }

  // x with its lowest `dropped` mantissa bits cleared: the high part of a
  // Dekker split (x - high is exact, and products of short high parts are).
  llvm::Value* high_bits(llvm::Value* x, int dropped) {
    llvm::Value* mask = i(~((std::int64_t{1} << dropped) - 1));
    return b_.CreateBitCast(b_.CreateAnd(b_.CreateBitCast(x, int_type_), mask), float_type_);
  }

  // 2^n for an integer vector n within the normal exponent range.
  llvm::Value* pow2(llvm::Value* n) {
    llvm::Value* biased = b_.CreateAdd(n, i(fmt_.exponent_bias));
    return b_.CreateBitCast(b_.CreateShl(biased, i(fmt_.mantissa_bits)), float_type_);
  }

  // x = n*ln2 + r with n an integer (returned as float and int) and |r| <= ln2/2 (about).
  struct Reduced {
    llvm::Value *r, *n_int;
  };
  Reduced reduce_ln2(llvm::Value* x) {
    // Adding 1.5 * 2^mantissa_bits rounds to an integer, which then sits in
    // the low mantissa bits: n as float and as int without a conversion that
    // could be poison for nan.
    const double shifter = 1.5 * std::ldexp(1.0, fmt_.mantissa_bits);
    llvm::Value* t = add(mul(x, f(1 / std::log(2.0))), f(shifter));
    llvm::Value* n = sub(t, f(shifter));
    llvm::Value* n_int = b_.CreateSub(b_.CreateBitCast(t, int_type_), bits_of(shifter));
    llvm::Value* r = sub(sub(x, mul(n, f(fmt_.ln2_hi))), mul(n, f(fmt_.ln2_lo)));
    return {r, n_int};
  }

  // An integer of magnitude below 2^(mantissa_bits-1) as a float: placed in
  // the low mantissa bits of 1.5 * 2^mantissa_bits, which is then subtracted
  // (the inverse of reduce_ln2's rounding). Vector int64-to-double conversion
  // needs AVX-512DQ; this works everywhere.
  llvm::Value* small_int_to_float(llvm::Value* n) {
    const double shifter = 1.5 * std::ldexp(1.0, fmt_.mantissa_bits);
    return sub(b_.CreateBitCast(b_.CreateAdd(n, bits_of(shifter)), float_type_), f(shifter));
  }

  // Coefficients 1/k! for k = first .. last.
  static std::vector<double> inverse_factorials(int first, int last) {
    std::vector<double> c;
    double factorial = 1;
    for (int k = 1; k <= last; ++k) {
      factorial *= k;
      if (k >= first) c.push_back(1 / factorial);
    }
    return c;
  }

  // log(u) = k ln2 + g - s (g - R), with g = m - 1 exact, s = g / (g + 2) and
  // R = s^2 P(s^2): the pieces log_core, log2 and log10 combine.
  struct LogParts {
    llvm::Value *k, *g, *correction;  // k as a float; correction = s (g - R), |correction| < |g| / 4
  };
  // For a finite positive u (subnormals only if pre-scaled: k_adjust is added
  // to u's exponent).
  LogParts log_parts(llvm::Value* u, llvm::Value* k_adjust) {
    // Subtracting sqrt(1/2)'s bits moves the exponent boundary to sqrt(1/2),
    // so that the mantissa m lands in [sqrt(1/2), sqrt(2)).
    llvm::Value* shifted = b_.CreateSub(b_.CreateBitCast(u, int_type_), bits_of(fmt_.sqrt_half));
    llvm::Value* k = b_.CreateAdd(b_.CreateAShr(shifted, i(fmt_.mantissa_bits)), k_adjust);
    const std::int64_t mantissa_mask = (std::int64_t{1} << fmt_.mantissa_bits) - 1;
    llvm::Value* m =
        b_.CreateBitCast(b_.CreateAdd(b_.CreateAnd(shifted, i(mantissa_mask)), bits_of(fmt_.sqrt_half)), float_type_);
    llvm::Value* g = sub(m, f(1.0));  // exact
    // log(1+g) = 2 atanh(s) = 2s + s*R(s^2), and 2s = g - s*g, so log(1+g) = g - s*(g - R).
    llvm::Value* s = div(g, add(g, f(2.0)));
    llvm::Value* z = mul(s, s);
    std::vector<double> atanh_coefficients;
    for (int term = 1; term <= fmt_.atanh_terms; ++term) atanh_coefficients.push_back(2.0 / (2 * term + 1));
    llvm::Value* R = mul(z, polynomial(z, atanh_coefficients));
    return {small_int_to_float(k), g, mul(s, sub(g, R))};
  }

  // log_parts of any positive finite x, subnormals included.
  LogParts log_parts(llvm::Value* x) {
    const double smallest_normal = std::ldexp(1.0, 1 - fmt_.exponent_bias);
    llvm::Value* subnormal = b_.CreateFCmpOLT(x, f(smallest_normal));
    llvm::Value* u = select(subnormal, mul(x, f(std::ldexp(1.0, fmt_.subnormal_scale_log2))), x);
    return log_parts(u, select(subnormal, i(-fmt_.subnormal_scale_log2), i(0)));
  }

  // log(u) + extra for a finite positive u (k_adjust as in log_parts), extra a small correction.
  llvm::Value* log_core(llvm::Value* u, llvm::Value* extra, llvm::Value* k_adjust) {
    return combine_log(log_parts(u, k_adjust), extra);
  }
  llvm::Value* combine_log(const LogParts& p, llvm::Value* extra) {
    llvm::Value* small = sub(mul_add(p.k, f(fmt_.ln2_lo), extra), p.correction);
    return mul_add(p.k, f(fmt_.ln2_hi), add(p.g, small));
  }

  // expm1(y) for y in [-tanh_saturation, 0].
  llvm::Value* expm1_nonpositive(llvm::Value* y) {
    Reduced red = reduce_ln2(y);
    llvm::Value* r = red.r;
    llvm::Value* p = mul_add(mul(r, r), polynomial(r, inverse_factorials(2, fmt_.expm1_degree)), r);
    llvm::Value* scale = pow2(red.n_int);
    // expm1(y) = 2^n * expm1(r) + (2^n - 1); 2^n - 1 is exact for the n here.
    return mul_add(scale, p, sub(scale, f(1.0)));
  }

  // expm1 everywhere: the reduced form where |x| <= tanh_saturation (past it
  // the result is -1 below, or exp(x) - 1 above, to the format's precision).
  llvm::Value* expm1(llvm::Value* x) {
    const double saturation = fmt_.tanh_saturation;
    Reduced red = reduce_ln2(at_least(at_most(x, saturation), -saturation));
    llvm::Value* r = red.r;
    llvm::Value* p = mul_add(mul(r, r), polynomial(r, inverse_factorials(2, fmt_.expm1_degree)), r);
    llvm::Value* scale = pow2(red.n_int);
    // 2^n - 1 is exact for n <= 0; above, its rounding is below the result's last digit.
    llvm::Value* result = mul_add(scale, p, sub(scale, f(1.0)));
    result = select(b_.CreateFCmpOGT(x, f(saturation)), sub(exp(x), f(1.0)), result);
    result = select(b_.CreateFCmpOLT(x, f(-saturation)), f(-1.0), result);
    // Keeps -0 (and nan) as C's expm1 does.
    return select(b_.CreateFCmpUEQ(x, f(0.0)), x, result);
  }

  // e^x * 2^scale_log2 (|scale_log2| <= 1), the scaling exact: sinh and cosh
  // take e^x / 2 this way, since exp(x - ln2) would round x - ln2 first.
  llvm::Value* exp(llvm::Value* x, int scale_log2 = 0) {
    llvm::Value* clamped =
        at_least(at_most(x, fmt_.exp_overflow_x - scale_log2), fmt_.exp_underflow_x - scale_log2);
    Reduced red = reduce_ln2(clamped);
    if (scale_log2 != 0) red.n_int = b_.CreateAdd(red.n_int, i(scale_log2));
    llvm::Value* r = red.r;
    llvm::Value* p = add(mul_add(mul(r, r), polynomial(r, inverse_factorials(2, fmt_.exp_degree)), r), f(1.0));
    // 2^n in two factors: n reaches beyond the exponent range at both ends
    // (results that overflow, and subnormal results that must round once).
    llvm::Value* half = b_.CreateAShr(red.n_int, i(1));
    llvm::Value* rest = b_.CreateSub(red.n_int, half);
    return mul(mul(p, pow2(half)), pow2(rest));
  }

  llvm::Value* log(llvm::Value* x) { return domain_specials(x, combine_log(log_parts(x), f(0.0)), 0.0); }

  llvm::Value* log1p(llvm::Value* x) {
    llvm::Value* u = add(x, f(1.0));
    // log(1+x) = log(u) + log(1 + (1+x-u)/u), and the rounding error 1+x-u is x - (u-1).
    llvm::Value* correction = div(sub(x, sub(u, f(1.0))), u);
    llvm::Value* result = log_core(u, correction, i(0));
    result = domain_specials(x, result, -1.0);
    llvm::Value* linear = b_.CreateFCmpOLT(abs(x), f(std::ldexp(1.0, fmt_.log1p_linear_log2)));
    return select(linear, x, result);  // also keeps the sign of -0
  }

  // log-like results at the edges of the domain, whose pole is at x = pole.
  llvm::Value* domain_specials(llvm::Value* x, llvm::Value* result, double pole) {
    const double inf = std::numeric_limits<double>::infinity();
    result = select(b_.CreateFCmpOEQ(x, f(inf)), f(inf), result);
    result = select(b_.CreateFCmpOEQ(x, f(pole)), f(-inf), result);
    result = select(b_.CreateFCmpOLT(x, f(pole)), f(std::numeric_limits<double>::quiet_NaN()), result);
    return select(is_nan(x), x, result);
  }

  llvm::Value* tanh(llvm::Value* x) {
    llvm::Value* y = at_least(mul(abs(x), f(-2.0)), -fmt_.tanh_saturation);
    llvm::Value* t = expm1_nonpositive(y);
    llvm::Value* magnitude = div(b_.CreateFNeg(t), add(t, f(2.0)));
    return b_.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, magnitude, x);
  }

  llvm::Value* sigmoid(llvm::Value* x) {
    // 1/(1+e^-x) for x >= 0, e^x/(1+e^x) below: exp only ever sees -|x|.
    llvm::Value* e = exp(b_.CreateFNeg(abs(x)));
    llvm::Value* numerator = select(b_.CreateFCmpOGE(x, f(0.0)), f(1.0), e);
    return div(numerator, add(e, f(1.0)));
  }

  llvm::Value* softplus(llvm::Value* x) {
    // log(1+e^x) = max(x, 0) + log1p(e^-|x|).
    llvm::Value* positive_part = select(b_.CreateFCmpOGT(x, f(0.0)), x, f(0.0));
    return add(positive_part, log1p(exp(b_.CreateFNeg(abs(x)))));
  }

  llvm::IRBuilder<>& builder() { return b_; }
  llvm::Type* float_type() const { return float_type_; }
  llvm::Type* int_type() const { return int_type_; }

 private:
  llvm::IRBuilder<>& b_;
  llvm::Type* float_type_;
  llvm::Type* int_type_;
  const Format& fmt_;
};


}  // namespace graphjit::codegen::math::detail

namespace graphjit::codegen::math {

// `compute` applied to x in double: a float x is widened first and the
// result rounded back once, so float functions inherit double's accuracy.
llvm::Value* in_double(llvm::IRBuilder<>& b, llvm::Value* x,
                       const std::function<llvm::Value*(llvm::IRBuilder<>&, llvm::Value*)>& compute);

// `vector_result` with the lanes where `mask` is set replaced by
// fallback(lane of x). The scalar calls sit behind a branch taken only when
// some lane needs them, in a block named "beyond_vector_range".
llvm::Value* per_lane_where(llvm::IRBuilder<>& b, llvm::Value* mask, llvm::Value* x, llvm::Value* vector_result,
                            const LaneFallback& fallback);

}  // namespace graphjit::codegen::math
