// sin, cos and tan as vector IR: Cody-Waite reduction by pi/2 and Taylor
// polynomials on |r| <= pi/4, in double (float arguments are widened, so
// float results are the double result rounded once).
#include "compiler/codegen/vector_math.hpp"
#include "compiler/codegen/vector_math_emitter.hpp"

namespace graphjit::codegen::math {

namespace {

using detail::Emitter;

// pi/2 = half_pi_1 + half_pi_2 + half_pi_3 to 2^-120
// (scripts/gen_vector_math_constants.py). The first two parts have 33
// significant bits, so k * part is exact for |k| < 2^20; x - k * half_pi_1 is
// then exact too (Sterbenz), and the small remainder r keeps its full relative
// precision even when x is close to a multiple of pi/2.
constexpr double half_pi_1 = 0x1.921fb544p+0;
constexpr double half_pi_2 = 0x1.0b4611a6p-34;
constexpr double half_pi_3 = 0x1.3198a2e037073p-69;
// |x| up to which k = round(x * 2/pi) stays below 2^20 (1e6 * 2/pi = 636620).
// Beyond it, and at ±inf, the lane takes the scalar libm function.
constexpr double reduction_limit = 1e6;

// x = k * pi/2 + r, |r| <= pi/4 (and a rounding more), with r = hi + lo
// kept to about twice double's precision: the rounding of hi alone would cost
// up to an ulp of the result.
struct Quadrant {
  llvm::Value *hi, *lo;
  llvm::Value* k;  // as an integer vector
};

Quadrant reduce_half_pi(Emitter& e, llvm::Value* x) {
  llvm::IRBuilder<>& b = e.builder();
  // As in reduce_ln2: adding 1.5 * 2^52 rounds to an integer that sits in the
  // low mantissa bits, so k comes out as float and as int with no conversion.
  const double shifter = 0x1.8p52;
  llvm::Value* t = e.add(e.mul(x, e.f(2 / M_PI)), e.f(shifter));
  llvm::Value* k = e.sub(t, e.f(shifter));
  llvm::Value* k_int = b.CreateSub(b.CreateBitCast(t, e.int_type()), e.bits_of(shifter));
  llvm::Value* r1 = e.sub(x, e.mul(k, e.f(half_pi_1)));  // exact
  llvm::Value* w = e.mul(k, e.f(half_pi_2));              // exact
  // r1 - w = y + y_error exactly (Knuth's two-sum).
  llvm::Value* y = e.sub(r1, w);
  llvm::Value* r1_part = e.sub(y, b.CreateFNeg(w));
  llvm::Value* y_error = e.add(e.sub(r1, r1_part), e.sub(b.CreateFNeg(w), e.sub(y, r1_part)));
  llvm::Value* tail = e.sub(y_error, e.mul(k, e.f(half_pi_3)));
  llvm::Value* hi = e.add(y, tail);
  return {hi, e.sub(tail, e.sub(hi, y)), k_int};
}

// sin(hi + lo) = sin(hi) + lo cos(hi), with sin(hi) = hi + hi z S(z), z = hi^2,
// S the Taylor series of (sin(r)/r - 1)/z through r^17 (the first term left
// out, r^19/19!, is below 2^-60 for |r| <= pi/4), and cos(hi) ~ 1 - z/2 where
// it multiplies lo.
llvm::Value* sin_near_zero(Emitter& e, const Quadrant& q, llvm::Value* z) {
  std::vector<double> c;
  double factorial = 6;  // 3!
  for (int k = 3; k <= 17; k += 2, factorial *= k * (k - 1)) c.push_back((k % 4 == 3 ? -1 : 1) / factorial);
  llvm::Value* lo_term = e.mul(q.lo, e.sub(e.f(1.0), e.mul(z, e.f(0.5))));
  return e.add(q.hi, e.mul_add(e.mul(q.hi, z), e.polynomial(z, c), lo_term));
}

// cos(hi + lo) = cos(hi) - lo sin(hi), cos(hi) = 1 - z/2 + z^2 C(z), C
// through r^18. 1 - z/2 loses up to a bit near pi/4, so its rounding error is
// carried into the small part.
llvm::Value* cos_near_zero(Emitter& e, const Quadrant& q, llvm::Value* z) {
  std::vector<double> c;
  double factorial = 24;  // 4!
  for (int k = 4; k <= 18; k += 2, factorial *= k * (k - 1)) c.push_back((k % 4 == 0 ? 1 : -1) / factorial);
  llvm::Value* half_z = e.mul(z, e.f(0.5));
  llvm::Value* w = e.sub(e.f(1.0), half_z);
  llvm::Value* w_error = e.sub(e.sub(e.sub(e.f(1.0), w), half_z), e.mul(q.hi, q.lo));  // (1 - w) is exact
  return e.add(w, e.mul_add(e.mul(z, z), e.polynomial(z, c), w_error));
}

enum class Trig { sin, cos, tan };

// The function of a double x with |x| <= reduction_limit (or nan).
llvm::Value* trig_in_range(llvm::IRBuilder<>& b, llvm::Value* x, Trig which) {
  Emitter e(b, x);
  Quadrant q = reduce_half_pi(e, x);
  llvm::Value* z = e.mul(q.hi, q.hi);
  llvm::Value* s = sin_near_zero(e, q, z);
  llvm::Value* c = cos_near_zero(e, q, z);
  // cos(x) = sin(x + pi/2): one quadrant on.
  llvm::Value* k = which == Trig::cos ? b.CreateAdd(q.k, e.i(1)) : q.k;
  llvm::Value* odd = b.CreateICmpNE(b.CreateAnd(k, e.i(1)), e.i(0));
  if (which == Trig::tan) return e.select(odd, b.CreateFNeg(e.div(c, s)), e.div(s, c));
  llvm::Value* v = e.select(odd, c, s);
  llvm::Value* negative = b.CreateICmpNE(b.CreateAnd(k, e.i(2)), e.i(0));
  return e.select(negative, b.CreateFNeg(v), v);
}

llvm::Value* trig(llvm::IRBuilder<>& b, llvm::Value* x, Trig which, const LaneFallback& beyond_range) {
  llvm::Value* result = in_double(b, x, [which](llvm::IRBuilder<>& bd, llvm::Value* xd) {
    llvm::Value* v = trig_in_range(bd, xd, which);
    // sin and tan keep the sign of zero (the polynomial would turn -0 into +0).
    if (which == Trig::cos) return v;
    return bd.CreateSelect(bd.CreateFCmpOEQ(xd, llvm::ConstantFP::get(xd->getType(), 0.0)), xd, v);
  });
  Emitter e(b, x);
  llvm::Value* beyond = b.CreateFCmpOGT(e.abs(x), e.f(reduction_limit));  // also ±inf; nan stays
  return per_lane_where(b, beyond, x, result, beyond_range);
}

}  // namespace

llvm::Value* sin(llvm::IRBuilder<>& b, llvm::Value* x, const LaneFallback& f) { return trig(b, x, Trig::sin, f); }
llvm::Value* cos(llvm::IRBuilder<>& b, llvm::Value* x, const LaneFallback& f) { return trig(b, x, Trig::cos, f); }
llvm::Value* tan(llvm::IRBuilder<>& b, llvm::Value* x, const LaneFallback& f) { return trig(b, x, Trig::tan, f); }

}  // namespace graphjit::codegen::math
