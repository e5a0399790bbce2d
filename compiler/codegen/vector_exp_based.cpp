// sinh, cosh and exp2 as vector IR, built on the exp and expm1 of
// vector_math_emitter.hpp, in double (float arguments are widened, so float
// results are the double result rounded once).
#include "compiler/codegen/vector_math.hpp"
#include "compiler/codegen/vector_math_emitter.hpp"

namespace graphjit::codegen::math {

namespace {

using detail::Emitter;

// Above this |x|, e^-|x| is below 2^-60 of e^|x|, so sinh and cosh are
// e^|x| / 2, which overflows exactly where they do.
constexpr double one_exponential_from = 22.0;

llvm::Value* half_exp(Emitter& e, llvm::Value* a) { return e.exp(a, -1); }

llvm::Value* sinh_in_double(llvm::IRBuilder<>& b, llvm::Value* x) {
  Emitter e(b, x);
  llvm::Value* a = e.abs(x);
  // sinh(a) = (t + t/(t+1)) / 2 with t = expm1(a): no cancellation near 0.
  llvm::Value* t = e.expm1(e.at_most(a, one_exponential_from));
  llvm::Value* small = e.mul(e.f(0.5), e.add(t, e.div(t, e.add(t, e.f(1.0)))));
  llvm::Value* large = half_exp(e, a);
  llvm::Value* magnitude = e.select(b.CreateFCmpOGT(a, e.f(one_exponential_from)), large, small);
  return b.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, magnitude, x);
}

llvm::Value* cosh_in_double(llvm::IRBuilder<>& b, llvm::Value* x) {
  Emitter e(b, x);
  llvm::Value* a = e.abs(x);
  llvm::Value* t = e.exp(e.at_most(a, one_exponential_from));
  llvm::Value* small = e.add(e.mul(e.f(0.5), t), e.div(e.f(0.5), t));
  return e.select(b.CreateFCmpOGT(a, e.f(one_exponential_from)), half_exp(e, a), small);
}

// 2^x = 2^n * e^(f ln2), n = round(x), f = x - n exact and |f| <= 1/2, so the
// rounding of f * ln2 costs under 0.2 ulp. 2^n is applied in two factors, as
// in exp, so that results near overflow and in the subnormal range are right.
llvm::Value* exp2_in_double(llvm::IRBuilder<>& b, llvm::Value* x) {
  Emitter e(b, x);
  llvm::Value* clamped = e.at_least(e.at_most(x, 1030.0), -1080.0);
  const double shifter = 0x1.8p52;
  llvm::Value* t = e.add(clamped, e.f(shifter));
  llvm::Value* n = e.sub(t, e.f(shifter));
  llvm::Value* n_int = b.CreateSub(b.CreateBitCast(t, e.int_type()), e.bits_of(shifter));
  llvm::Value* p = e.exp(e.mul(e.sub(clamped, n), e.f(0x1.62e42fefa39efp-1)));
  llvm::Value* half = b.CreateAShr(n_int, e.i(1));
  return e.mul(e.mul(p, e.pow2(half)), e.pow2(b.CreateSub(n_int, half)));
}

}  // namespace

llvm::Value* sinh(llvm::IRBuilder<>& b, llvm::Value* x) { return in_double(b, x, sinh_in_double); }
llvm::Value* cosh(llvm::IRBuilder<>& b, llvm::Value* x) { return in_double(b, x, cosh_in_double); }
llvm::Value* exp2(llvm::IRBuilder<>& b, llvm::Value* x) { return in_double(b, x, exp2_in_double); }

}  // namespace graphjit::codegen::math
