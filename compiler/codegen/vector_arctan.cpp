// arctan as vector IR, in double (float arguments are widened, so float
// results are the double result rounded once).
//
// With a = |x|: atan(a) = atan(t) + offset, where t = a, (a-1)/(a+1) or -1/a
// and offset = 0, pi/4 or pi/2 as a <= tan(pi/8), <= tan(3pi/8) or above, so
// |t| <= tan(pi/8) always; atan(t) = t + t z Q(z), z = t^2. The offsets are
// added in two parts, the small one before the rounding of the large sum.
// arctan2(y, x) reduces |y|/|x| the same way without forming the quotient
// first, and moves to the quadrant of (x, y) by pi - offset and the signs.
#include "compiler/codegen/vector_math.hpp"
#include "compiler/codegen/vector_math_emitter.hpp"

#include <limits>

namespace graphjit::codegen::math {

namespace {

using detail::Emitter;

// (atan(t)/t - 1)/t^2 in t^2, lowest degree first (scripts/gen_vector_math_constants.py).
const std::vector<double> arctan_q = {
    -0x1.5555555555555p-2, 0x1.999999999934cp-3,  -0x1.2492492436201p-3, 0x1.c71c71853d7fap-4,
    -0x1.745d0b28a7e37p-4, 0x1.3b1263064f6b9p-4,  -0x1.10fa77b1a6d57p-4, 0x1.dfe6497e96323p-5,
    -0x1.a0999c632b6edp-5, 0x1.4162c02b1dda3p-5,  -0x1.3a31b1c0fd3b7p-6};
constexpr double quarter_pi_hi = 0x1.921fb544p-1, quarter_pi_lo = 0x1.0b4611a626331p-35;
constexpr double half_pi_hi = 0x1.921fb544p+0, half_pi_lo = 0x1.0b4611a626331p-34;
constexpr double tan_eighth_pi = 0x1.a827999fcef32p-2;       // tan(pi/8)
constexpr double tan_three_eighths_pi = 0x1.3504f333f9de6p+1;  // tan(3pi/8)

constexpr double pi_hi = 0x1.921fb544p+1, pi_lo = 0x1.0b4611a626331p-33;

// atan(num/den) = offset + atan(t + t_error) for num, den >= 0 (nan: a nan
// t); t_error is null where t is all there is.
struct Reduced {
  llvm::Value *t, *t_error, *offset_hi, *offset_lo;
};

// a + b = sum + error exactly (Knuth's two-sum), as {sum, error}.
std::pair<llvm::Value*, llvm::Value*> two_sum(Emitter& e, llvm::Value* a, llvm::Value* b) {
  llvm::Value* sum = e.add(a, b);
  llvm::Value* b_part = e.sub(sum, a);
  return {sum, e.add(e.sub(a, e.sub(sum, b_part)), e.sub(b, b_part))};
}

// (numerator + numerator_error) / (denominator + denominator_error) - t for
// t = numerator / denominator rounded: t's product with the denominator is
// recovered exactly from 26-bit halves (Dekker), so no FMA is needed.
llvm::Value* quotient_error(Emitter& e, llvm::Value* t, llvm::Value* numerator, llvm::Value* numerator_error,
                            llvm::Value* denominator, llvm::Value* denominator_error) {
  llvm::Value* product = e.mul(t, denominator);
  llvm::Value* t_hi = e.high_bits(t, 27);
  llvm::Value* t_lo = e.sub(t, t_hi);
  llvm::Value* d_hi = e.high_bits(denominator, 27);
  llvm::Value* d_lo = e.sub(denominator, d_hi);
  llvm::Value* product_error = e.add(e.add(e.sub(e.mul(t_hi, d_hi), product), e.mul(t_hi, d_lo)),
                                     e.add(e.mul(t_lo, d_hi), e.mul(t_lo, d_lo)));
  // numerator - product is exact (they are within a factor 2).
  llvm::Value* residual = e.sub(e.add(e.sub(numerator, product), numerator_error), product_error);
  llvm::Value* error = e.div(e.sub(residual, e.mul(t, denominator_error)), denominator);
  return e.select(e.is_nan(error), e.f(0.0), error);  // inf / inf and the like: t is then exact or nan
}

// With den = 1 (arctan), t is a, (a - 1)/(a + 1) or -1/a. Otherwise (arctan2)
// the operands are first scaled together by a power of 2 away from overflow
// and the subnormals, and in the middle piece the rounding errors of
// num - den, num + den and the quotient are carried in t_error: near the
// boundary tan(pi/8), t is as large as the result, and its roundings alone
// would cost up to 2 ulps.
Reduced reduce(Emitter& e, llvm::Value* num, llvm::Value* den, bool den_is_one) {
  llvm::IRBuilder<>& b = e.builder();
  llvm::Value* middle = b.CreateFCmpOGT(num, e.mul(den, e.f(tan_eighth_pi)));
  // num > den tan(3pi/8), also where den tan(3pi/8) overflows (num = inf,
  // den finite): then num tan(pi/8) > den, as tan(pi/8) = 1/tan(3pi/8).
  llvm::Value* far = b.CreateOr(b.CreateFCmpOGT(num, e.mul(den, e.f(tan_three_eighths_pi))),
                                b.CreateFCmpOGT(e.mul(num, e.f(tan_eighth_pi)), den));
  llvm::Value* n = num;
  llvm::Value* d = den;
  if (!den_is_one) {
    llvm::Value* larger = e.select(b.CreateFCmpOGT(num, den), num, den);
    llvm::Value* scale = e.select(b.CreateFCmpOGT(larger, e.f(0x1p1020)), e.f(0.25),
                                  e.select(b.CreateFCmpOLT(larger, e.f(0x1p-900)), e.f(0x1p600), e.f(1.0)));
    n = e.mul(num, scale);
    d = e.mul(den, scale);
  }
  auto [difference, difference_error] = two_sum(e, n, b.CreateFNeg(d));  // exact for arctan
  auto [sum, sum_error] = two_sum(e, n, d);
  // One division: t = numerator / denominator, chosen per lane.
  llvm::Value* numerator = e.select(far, b.CreateFNeg(d), e.select(middle, difference, n));
  llvm::Value* denominator = e.select(far, n, e.select(middle, sum, d));
  llvm::Value* t = e.div(numerator, denominator);
  llvm::Value* t_error = nullptr;  // t is all there is for arctan
  // Not where the numerator is so small that the products of quotient_error
  // would lose their exactness below the normal range (t is then a correctly
  // rounded quotient: at most 0.5 ulp more).
  if (!den_is_one) {
    llvm::Value* in_middle = b.CreateAnd(middle, b.CreateNot(far));
    llvm::Value* error = quotient_error(e, t, numerator, e.select(in_middle, difference_error, e.f(0.0)), denominator,
                                        e.select(in_middle, sum_error, e.f(0.0)));
    t_error = e.select(b.CreateFCmpOGT(e.abs(numerator), e.f(0x1p-900)), error, e.f(0.0));
  }
  llvm::Value* offset_hi = e.select(far, e.f(half_pi_hi), e.select(middle, e.f(quarter_pi_hi), e.f(0.0)));
  llvm::Value* offset_lo = e.select(far, e.f(half_pi_lo), e.select(middle, e.f(quarter_pi_lo), e.f(0.0)));
  return {t, t_error, offset_hi, offset_lo};
}

// offset + atan(t + t_error), the small parts added before the rounding of the large sum.
llvm::Value* evaluate(Emitter& e, const Reduced& r) {
  llvm::Value* z = e.mul(r.t, r.t);
  llvm::Value* addend = r.offset_lo;
  // atan'(t) = 1 / (1 + t^2) scales t_error.
  if (r.t_error) addend = e.add(addend, e.div(r.t_error, e.add(e.f(1.0), z)));
  llvm::Value* small = e.mul_add(e.mul(r.t, z), e.polynomial(z, arctan_q), addend);
  return e.add(r.offset_hi, e.add(r.t, small));
}

llvm::Value* arctan_in_double(llvm::IRBuilder<>& b, llvm::Value* x) {
  Emitter e(b, x);
  llvm::Value* magnitude = evaluate(e, reduce(e, e.abs(x), e.f(1.0), true));
  return b.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, magnitude, x);
}

// atan2(y, x) = ±atan(|y|/|x|), or ±(pi - atan(|y|/|x|)) where x's sign bit is
// set; pi - offset - atan(t) is offset' + atan(-t) with offset' = pi - offset,
// whose high part is exact. The C99 cases 0/0 and inf/inf are set apart.
llvm::Value* arctan2_in_double(llvm::IRBuilder<>& b, llvm::Value* y, llvm::Value* x) {
  Emitter e(b, x);
  llvm::Value* num = e.abs(y);
  llvm::Value* den = e.abs(x);
  Reduced r = reduce(e, num, den, false);
  const double inf = std::numeric_limits<double>::infinity();
  llvm::Value* both_zero = b.CreateAnd(b.CreateFCmpOEQ(num, e.f(0.0)), b.CreateFCmpOEQ(den, e.f(0.0)));
  llvm::Value* both_inf = b.CreateAnd(b.CreateFCmpOEQ(num, e.f(inf)), b.CreateFCmpOEQ(den, e.f(inf)));
  r.t = e.select(b.CreateOr(both_zero, both_inf), e.f(0.0), r.t);
  r.t_error = e.select(b.CreateOr(both_zero, both_inf), e.f(0.0), r.t_error);
  r.offset_hi = e.select(both_inf, e.f(quarter_pi_hi), r.offset_hi);
  r.offset_lo = e.select(both_inf, e.f(quarter_pi_lo), r.offset_lo);
  llvm::Value* x_negative = b.CreateICmpSLT(b.CreateBitCast(x, e.int_type()), e.i(0));
  r.t = e.select(x_negative, b.CreateFNeg(r.t), r.t);
  r.t_error = e.select(x_negative, b.CreateFNeg(r.t_error), r.t_error);
  r.offset_hi = e.select(x_negative, e.sub(e.f(pi_hi), r.offset_hi), r.offset_hi);
  r.offset_lo = e.select(x_negative, e.sub(e.f(pi_lo), r.offset_lo), r.offset_lo);
  return b.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, evaluate(e, r), y);
}

// in_double for two arguments.
llvm::Value* arctan2_widened(llvm::IRBuilder<>& b, llvm::Value* y, llvm::Value* x) {
  if (x->getType()->getScalarType()->isDoubleTy()) return arctan2_in_double(b, y, x);
  llvm::Type* wide = b.getDoubleTy();
  if (auto* vector = llvm::dyn_cast<llvm::FixedVectorType>(x->getType()))
    wide = llvm::FixedVectorType::get(wide, vector->getNumElements());
  return b.CreateFPTrunc(arctan2_in_double(b, b.CreateFPExt(y, wide), b.CreateFPExt(x, wide)), x->getType());
}

}  // namespace

llvm::Value* arctan(llvm::IRBuilder<>& b, llvm::Value* x) { return in_double(b, x, arctan_in_double); }
llvm::Value* arctan2(llvm::IRBuilder<>& b, llvm::Value* y, llvm::Value* x) { return arctan2_widened(b, y, x); }

}  // namespace graphjit::codegen::math
