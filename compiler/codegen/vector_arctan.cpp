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

// atan(num/den) = offset + atan(t) for num, den >= 0 (nan: a nan t).
struct Reduced {
  llvm::Value *t, *offset_hi, *offset_lo;
};

Reduced reduce(Emitter& e, llvm::Value* num, llvm::Value* den, bool den_is_one) {
  llvm::IRBuilder<>& b = e.builder();
  llvm::Value* middle = b.CreateFCmpOGT(num, e.mul(den, e.f(tan_eighth_pi)));
  // num > den tan(3pi/8), also where den tan(3pi/8) overflows (num = inf,
  // den finite): then num tan(pi/8) > den, as tan(pi/8) = 1/tan(3pi/8).
  llvm::Value* far = b.CreateOr(b.CreateFCmpOGT(num, e.mul(den, e.f(tan_three_eighths_pi))),
                                b.CreateFCmpOGT(e.mul(num, e.f(tan_eighth_pi)), den));
  // In the middle num and den are within a factor 2.5: scaled down together
  // near overflow, so that num + den stays finite (exactly, by a power of 2).
  llvm::Value* n = num;
  llvm::Value* d = den;
  if (!den_is_one) {
    llvm::Value* scale = e.select(b.CreateFCmpOGT(num, e.f(0x1p1020)), e.f(0.25), e.f(1.0));
    n = e.mul(num, scale);
    d = e.mul(den, scale);
  }
  llvm::Value* t_middle = e.div(e.sub(n, d), e.add(n, d));  // num - 1 is exact for arctan
  llvm::Value* t = e.select(far, b.CreateFNeg(e.div(den, num)), e.select(middle, t_middle, e.div(num, den)));
  llvm::Value* offset_hi = e.select(far, e.f(half_pi_hi), e.select(middle, e.f(quarter_pi_hi), e.f(0.0)));
  llvm::Value* offset_lo = e.select(far, e.f(half_pi_lo), e.select(middle, e.f(quarter_pi_lo), e.f(0.0)));
  return {t, offset_hi, offset_lo};
}

// offset + atan(t), the small part of the offset added before the rounding of the large sum.
llvm::Value* evaluate(Emitter& e, const Reduced& r) {
  llvm::Value* z = e.mul(r.t, r.t);
  llvm::Value* small = e.mul_add(e.mul(r.t, z), e.polynomial(z, arctan_q), r.offset_lo);
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
  r.offset_hi = e.select(both_inf, e.f(quarter_pi_hi), r.offset_hi);
  r.offset_lo = e.select(both_inf, e.f(quarter_pi_lo), r.offset_lo);
  llvm::Value* x_negative = b.CreateICmpSLT(b.CreateBitCast(x, e.int_type()), e.i(0));
  r.t = e.select(x_negative, b.CreateFNeg(r.t), r.t);
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
