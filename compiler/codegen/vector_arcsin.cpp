// arcsin and arccos as vector IR, in double (float arguments are widened, so
// float results are the double result rounded once).
//
// |x| <= 1/2: asin(x) = x + x z P(z), z = x^2, P a near-minimax fit.
// Above, with a = |x|, w = (1 - a)/2 (exact) and s = sqrt(w):
// asin(a) = pi/2 - 2 asin(s), acos(a) = 2 asin(s), acos(-a) = pi - 2 asin(s),
// and asin(s) = s + s w P(w) again. s is carried as s_hi + c, s_hi its top 21
// bits (so s_hi^2 and w - s_hi^2 are exact) and c = (w - s_hi^2)/(s + s_hi),
// so that the rounding of sqrt does not reach the result: pi/2 - 2 s_hi
// cancels (exactly) as a approaches 1/2, and acos near 1 is 2s alone.
#include "compiler/codegen/vector_math.hpp"
#include "compiler/codegen/vector_math_emitter.hpp"

namespace graphjit::codegen::math {

namespace {

using detail::Emitter;

// (asin(s)/s - 1)/s^2 in s^2 for |s| <= 1/2, lowest degree first
// (scripts/gen_vector_math_constants.py).
const std::vector<double> arcsin_p = {
    0x1.5555555555556p-3, 0x1.3333333332ecap-4, 0x1.6db6db6e31f13p-5, 0x1.f1c71c1db0623p-6, 0x1.6e8bb1c8209a2p-6,
    0x1.1c4d35cf95421p-6, 0x1.c9cf07674736ap-7, 0x1.782651caa6547p-7, 0x1.52420b04b37bep-7, 0x1.65a9c4dfcf8b2p-8,
    0x1.1d189408314eep-6, -0x1.e6aaa8a0a04ccp-7, 0x1.d72b2bc8155f8p-6};
constexpr double half_pi_hi = 0x1.921fb544p+0, half_pi_lo = 0x1.0b4611a626331p-34;
constexpr double pi_hi = 0x1.921fb544p+1, pi_lo = 0x1.0b4611a626331p-33;

// The pieces of 2 asin(sqrt((1 - a)/2)) = 2 s_hi + 2 tail, for 1/2 < a <= 1.
struct HalfAngle {
  llvm::Value *s_hi, *tail;
};

HalfAngle half_angle(Emitter& e, llvm::Value* a) {
  llvm::IRBuilder<>& b = e.builder();
  llvm::Value* w = e.mul(e.sub(e.f(1.0), a), e.f(0.5));
  llvm::Value* s = b.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, w);
  llvm::Value* s_hi = e.high_bits(s, 32);
  llvm::Value* c = e.div(e.sub(w, e.mul(s_hi, s_hi)), e.add(s, s_hi));
  c = e.select(b.CreateFCmpOEQ(s, e.f(0.0)), e.f(0.0), c);  // |x| = 1: not 0/0
  return {s_hi, e.mul_add(e.mul(s, w), e.polynomial(w, arcsin_p), c)};
}

// asin(x) for |x| <= 1/2 (and its sign: -0 stays -0, a subnormal stays itself).
llvm::Value* arcsin_small(Emitter& e, llvm::Value* x) {
  llvm::Value* z = e.mul(x, x);
  return e.mul_add(e.mul(x, z), e.polynomial(z, arcsin_p), x);
}

llvm::Value* arcsin_in_double(llvm::IRBuilder<>& b, llvm::Value* x) {
  Emitter e(b, x);
  llvm::Value* a = e.abs(x);
  HalfAngle h = half_angle(e, a);
  // pi/2 - 2 s_hi is exact where it cancels (2 s_hi >= pi/4, Sterbenz).
  llvm::Value* large = e.add(e.sub(e.f(half_pi_hi), e.mul(h.s_hi, e.f(2.0))),
                             e.mul_add(h.tail, e.f(-2.0), e.f(half_pi_lo)));
  large = b.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, large, x);
  // Beyond 1 the square root is of a negative number: nan.
  return e.select(b.CreateFCmpOGT(a, e.f(0.5)), large, arcsin_small(e, x));
}

llvm::Value* arccos_in_double(llvm::IRBuilder<>& b, llvm::Value* x) {
  Emitter e(b, x);
  llvm::Value* a = e.abs(x);
  llvm::Value* small = e.add(e.f(half_pi_hi), e.sub(e.f(half_pi_lo), arcsin_small(e, x)));
  HalfAngle h = half_angle(e, a);
  llvm::Value* twice = e.mul(e.add(h.s_hi, h.tail), e.f(2.0));  // 2 asin(s), exact doubling
  llvm::Value* negative =
      e.add(e.sub(e.f(pi_hi), e.mul(h.s_hi, e.f(2.0))), e.mul_add(h.tail, e.f(-2.0), e.f(pi_lo)));
  llvm::Value* large = e.select(b.CreateFCmpOLT(x, e.f(0.0)), negative, twice);
  return e.select(b.CreateFCmpOGT(a, e.f(0.5)), large, small);
}

}  // namespace

llvm::Value* arcsin(llvm::IRBuilder<>& b, llvm::Value* x) { return in_double(b, x, arcsin_in_double); }
llvm::Value* arccos(llvm::IRBuilder<>& b, llvm::Value* x) { return in_double(b, x, arccos_in_double); }

}  // namespace graphjit::codegen::math
