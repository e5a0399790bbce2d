// arctan as vector IR, in double (float arguments are widened, so float
// results are the double result rounded once).
//
// With a = |x|: atan(a) = atan(t) + offset, where t = a, (a-1)/(a+1) or -1/a
// and offset = 0, pi/4 or pi/2 as a <= tan(pi/8), <= tan(3pi/8) or above, so
// |t| <= tan(pi/8) always; atan(t) = t + t z Q(z), z = t^2. The offsets are
// added in two parts, the small one before the rounding of the large sum.
#include "compiler/codegen/vector_math.hpp"
#include "compiler/codegen/vector_math_emitter.hpp"

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

llvm::Value* arctan_in_double(llvm::IRBuilder<>& b, llvm::Value* x) {
  Emitter e(b, x);
  llvm::Value* a = e.abs(x);
  llvm::Value* middle = b.CreateFCmpOGT(a, e.f(tan_eighth_pi));
  llvm::Value* far = b.CreateFCmpOGT(a, e.f(tan_three_eighths_pi));
  llvm::Value* t_middle = e.div(e.sub(a, e.f(1.0)), e.add(a, e.f(1.0)));  // a - 1 is exact here
  llvm::Value* t = e.select(far, e.div(e.f(-1.0), a), e.select(middle, t_middle, a));
  llvm::Value* offset_hi = e.select(far, e.f(half_pi_hi), e.select(middle, e.f(quarter_pi_hi), e.f(0.0)));
  llvm::Value* offset_lo = e.select(far, e.f(half_pi_lo), e.select(middle, e.f(quarter_pi_lo), e.f(0.0)));
  llvm::Value* z = e.mul(t, t);
  llvm::Value* small = e.mul_add(e.mul(t, z), e.polynomial(z, arctan_q), offset_lo);
  llvm::Value* magnitude = e.add(offset_hi, e.add(t, small));
  return b.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, magnitude, x);
}

}  // namespace

llvm::Value* arctan(llvm::IRBuilder<>& b, llvm::Value* x) { return in_double(b, x, arctan_in_double); }

}  // namespace graphjit::codegen::math
