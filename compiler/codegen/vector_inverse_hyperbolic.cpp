// arcsinh, arccosh and arctanh as vector IR, in double (float arguments are
// widened, so float results are the double result rounded once), from the
// vector log and log1p in forms without cancellation:
//   arcsinh(a) = log1p(a + a^2 / (1 + sqrt(1 + a^2)))     a < 2
//              = log(2a + 1 / (a + sqrt(a^2 + 1)))        2 <= a <= 2^28
//              = log(a) + ln2                             beyond (a^2 would overflow; 1/(2a) is below the last digit)
//   arccosh(x) = log1p(t + sqrt(2t + t^2)), t = x - 1     1 <= x < 2 (x - 1 exact)
//              = log(2x - 1 / (x + sqrt(x^2 - 1)))        2 <= x <= 2^28
//              = log(x) + ln2                             beyond
//   arctanh(a) = log1p(2a + 2a^2 / (1 - a)) / 2           a < 1/2
//              = log1p(2a / (1 - a)) / 2                  1/2 <= a (1 - a exact)
// with a = |x| and the sign of x put back for the odd functions.
#include "compiler/codegen/vector_math.hpp"
#include "compiler/codegen/vector_math_emitter.hpp"

#include <limits>

namespace graphjit::codegen::math {

namespace {

using detail::Emitter;

constexpr double log_form_from = 2.0;
constexpr double ln2_form_from = 0x1p28;
constexpr double ln2 = 0x1.62e42fefa39efp-1;

// log(w) where a <= ln2_form_from, log(a) + ln2 above, for the large-argument forms.
llvm::Value* log_or_log_twice(Emitter& e, llvm::Value* a, llvm::Value* w) {
  llvm::Value* beyond = e.builder().CreateFCmpOGT(a, e.f(ln2_form_from));
  return e.add(e.log(e.select(beyond, a, w)), e.select(beyond, e.f(ln2), e.f(0.0)));
}

llvm::Value* arcsinh_in_double(llvm::IRBuilder<>& b, llvm::Value* x) {
  Emitter e(b, x);
  llvm::Value* a = e.abs(x);
  llvm::Value* square = e.mul(a, a);
  llvm::Value* root = b.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, e.add(square, e.f(1.0)));
  llvm::Value* near = e.log1p(e.add(a, e.div(square, e.add(e.f(1.0), root))));
  llvm::Value* far = log_or_log_twice(e, a, e.add(e.mul(a, e.f(2.0)), e.div(e.f(1.0), e.add(a, root))));
  llvm::Value* magnitude = e.select(b.CreateFCmpOLT(a, e.f(log_form_from)), near, far);
  return b.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, magnitude, x);
}

llvm::Value* arccosh_in_double(llvm::IRBuilder<>& b, llvm::Value* x) {
  Emitter e(b, x);
  llvm::Value* t = e.sub(x, e.f(1.0));
  llvm::Value* near = e.log1p(e.add(t, b.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, e.mul_add(t, t, e.mul(t, e.f(2.0))))));
  llvm::Value* root = b.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, e.sub(e.mul(x, x), e.f(1.0)));
  llvm::Value* far = log_or_log_twice(e, x, e.sub(e.mul(x, e.f(2.0)), e.div(e.f(1.0), e.add(x, root))));
  llvm::Value* result = e.select(b.CreateFCmpOLT(x, e.f(log_form_from)), near, far);
  // Below 1 (and -inf): nan; 2t + t^2 is positive again for x <= -1.
  return e.select(b.CreateFCmpOLT(x, e.f(1.0)), e.f(std::numeric_limits<double>::quiet_NaN()), result);
}

llvm::Value* arctanh_in_double(llvm::IRBuilder<>& b, llvm::Value* x) {
  Emitter e(b, x);
  llvm::Value* a = e.abs(x);
  llvm::Value* twice = e.mul(a, e.f(2.0));
  llvm::Value* one_minus = e.sub(e.f(1.0), a);
  llvm::Value* near = e.add(twice, e.div(e.mul(twice, a), one_minus));
  // For a > 1, 2a / (1 - a) < -2 and log1p gives nan; at a = 1 it is inf.
  llvm::Value* u = e.select(b.CreateFCmpOLT(a, e.f(0.5)), near, e.div(twice, one_minus));
  llvm::Value* magnitude = e.mul(e.log1p(u), e.f(0.5));
  return b.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, magnitude, x);
}

}  // namespace

llvm::Value* arcsinh(llvm::IRBuilder<>& b, llvm::Value* x) { return in_double(b, x, arcsinh_in_double); }
llvm::Value* arccosh(llvm::IRBuilder<>& b, llvm::Value* x) { return in_double(b, x, arccosh_in_double); }
llvm::Value* arctanh(llvm::IRBuilder<>& b, llvm::Value* x) { return in_double(b, x, arctanh_in_double); }

}  // namespace graphjit::codegen::math
