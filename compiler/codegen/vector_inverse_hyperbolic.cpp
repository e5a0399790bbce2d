// arcsinh, arccosh and arctanh as vector IR, in double (float arguments are
// widened, so float results are the double result rounded once), from the
// vector log in forms without cancellation:
//   arcsinh(a) = log1p(a + a^2 / (1 + sqrt(1 + a^2)))     a < 2
//              = log(2a + 1 / (a + sqrt(a^2 + 1)))        2 <= a <= 2^28
//              = log(a) + ln2                             beyond (a^2 would overflow; 1/(2a) is below the last digit)
//   arccosh(x) = log1p(t + sqrt(2t + t^2)), t = x - 1     1 <= x < 2 (x - 1 exact)
//              = log(2x - 1 / (x + sqrt(x^2 - 1)))        2 <= x <= 2^28
//              = log(x) + ln2                             beyond
//   arctanh(a) = log1p(2a + 2a^2 / (1 - a)) / 2           a < 1/2
//              = log1p(2a / (1 - a)) / 2                  1/2 <= a (1 - a exact)
// with a = |x| and the sign of x put back for the odd functions. Each lane
// picks its form's argument first, so that one log is evaluated, not three:
// log1p(s) as log(1 + s) plus the rounding error of 1 + s (and of s, where
// it is known), and the ln2 of the last form exactly, in log's exponent.
#include "compiler/codegen/vector_math.hpp"
#include "compiler/codegen/vector_math_emitter.hpp"

#include <limits>

namespace graphjit::codegen::math {

namespace {

using detail::Emitter;

constexpr double log_form_from = 2.0;
constexpr double ln2_form_from = 0x1p28;

// 1 + s + s_error as log_core's argument: log(1 + s + s_error) = log(u) + extra.
struct LogArgument {
  llvm::Value *u, *extra;
};
LogArgument one_plus(Emitter& e, llvm::Value* s, llvm::Value* s_error) {
  llvm::Value* u = e.add(e.f(1.0), s);
  // (1 + s) - u is exact: s - (u - 1) (as in log1p).
  return {u, e.div(e.add(e.sub(s, e.sub(u, e.f(1.0))), s_error), u)};
}

// log1p(s + s_error) where `near`, log(w) where not, and log(a) + ln2 where
// a > 2^28 (w and s are then not used): one vector log for the three forms.
llvm::Value* log_of_form(Emitter& e, llvm::Value* near, llvm::Value* s, llvm::Value* s_error, llvm::Value* w,
                         llvm::Value* a) {
  llvm::Value* beyond = e.builder().CreateFCmpOGT(a, e.f(ln2_form_from));
  LogArgument p = one_plus(e, s, s_error);
  llvm::Value* u = e.select(near, p.u, e.select(beyond, a, w));
  return e.log_core(u, e.select(near, p.extra, e.f(0.0)), e.select(beyond, e.i(1), e.i(0)));
}

// log_core does not know inf and nan: the results there.
llvm::Value* with_inf_and_nan(Emitter& e, llvm::Value* x, llvm::Value* a, llvm::Value* result) {
  const double inf = std::numeric_limits<double>::infinity();
  result = e.select(e.builder().CreateFCmpOEQ(a, e.f(inf)), e.f(inf), result);
  return e.select(e.is_nan(x), x, result);
}

llvm::Value* arcsinh_in_double(llvm::IRBuilder<>& b, llvm::Value* x) {
  Emitter e(b, x);
  llvm::Value* a = e.abs(x);
  llvm::Value* square = e.mul(a, a);
  llvm::Value* root = b.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, e.add(square, e.f(1.0)));
  llvm::Value* term = e.div(square, e.add(e.f(1.0), root));
  llvm::Value* s = e.add(a, term);
  llvm::Value* s_error = e.sub(term, e.sub(s, a));  // Fast2Sum: a >= term
  llvm::Value* w = e.add(e.mul(a, e.f(2.0)), e.div(e.f(1.0), e.add(a, root)));
  llvm::Value* near = b.CreateFCmpOLT(a, e.f(log_form_from));
  llvm::Value* magnitude = with_inf_and_nan(e, x, a, log_of_form(e, near, s, s_error, w, a));
  return b.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, magnitude, x);
}

// t + sqrt(2t + t^2) for 0 <= t < 1, as s + error: near 1, arccosh's
// argument of log1p is mostly the square root, whose roundings (of 2t + t^2,
// and of the root itself) would reach the result; each is recovered exactly
// by Dekker's splits (the high parts have 26 bits, so their products are exact).
std::pair<llvm::Value*, llvm::Value*> arccosh_near_argument(Emitter& e, llvm::Value* t) {
  llvm::IRBuilder<>& b = e.builder();
  llvm::Value* twice = e.mul(t, e.f(2.0));
  llvm::Value* q = e.mul_add(t, t, twice);
  llvm::Value* t_hi = e.high_bits(t, 27);
  llvm::Value* t_lo = e.sub(t, t_hi);
  // 2t + t^2 - q: 2t - q is exact (Sterbenz), and t^2 = t_hi^2 + 2 t_hi t_lo + t_lo^2.
  llvm::Value* q_error = e.add(e.add(e.sub(twice, q), e.mul(t_hi, t_hi)),
                               e.add(e.mul(e.mul(t_hi, t_lo), e.f(2.0)), e.mul(t_lo, t_lo)));
  llvm::Value* r = b.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, q);
  llvm::Value* r_hi = e.high_bits(r, 27);
  llvm::Value* r_lo = e.sub(r, r_hi);
  // q - r^2, with q - r_hi^2 exact (Sterbenz again).
  llvm::Value* q_minus_square = e.sub(e.sub(e.sub(q, e.mul(r_hi, r_hi)), e.mul(e.mul(r_hi, r_lo), e.f(2.0))),
                                      e.mul(r_lo, r_lo));
  // sqrt(q + q_error) = r + (q - r^2 + q_error) / (2r) to second order; r = 0 only at t = 0.
  llvm::Value* r_error = e.div(e.add(q_minus_square, q_error), e.mul(r, e.f(2.0)));
  r_error = e.select(b.CreateFCmpOEQ(r, e.f(0.0)), e.f(0.0), r_error);
  llvm::Value* s = e.add(t, r);
  llvm::Value* s_error = e.add(e.sub(t, e.sub(s, r)), r_error);  // Fast2Sum: r >= t
  return {s, s_error};
}

llvm::Value* arccosh_in_double(llvm::IRBuilder<>& b, llvm::Value* x) {
  Emitter e(b, x);
  auto [s, s_error] = arccosh_near_argument(e, e.sub(x, e.f(1.0)));
  llvm::Value* root = b.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, e.sub(e.mul(x, x), e.f(1.0)));
  llvm::Value* w = e.sub(e.mul(x, e.f(2.0)), e.div(e.f(1.0), e.add(x, root)));
  llvm::Value* near = b.CreateFCmpOLT(x, e.f(log_form_from));
  llvm::Value* result = with_inf_and_nan(e, x, x, log_of_form(e, near, s, s_error, w, x));
  // Below 1 (and -inf): nan.
  return e.select(b.CreateFCmpOLT(x, e.f(1.0)), e.f(std::numeric_limits<double>::quiet_NaN()), result);
}

llvm::Value* arctanh_in_double(llvm::IRBuilder<>& b, llvm::Value* x) {
  Emitter e(b, x);
  llvm::Value* a = e.abs(x);
  llvm::Value* twice = e.mul(a, e.f(2.0));
  llvm::Value* one_minus = e.sub(e.f(1.0), a);
  llvm::Value* term = e.div(e.mul(twice, a), one_minus);
  llvm::Value* near = b.CreateFCmpOLT(a, e.f(0.5));
  llvm::Value* u = e.select(near, e.add(twice, term), e.div(twice, one_minus));
  llvm::Value* u_error = e.select(near, e.sub(term, e.sub(u, twice)), e.f(0.0));  // Fast2Sum: 2a >= term
  LogArgument p = one_plus(e, u, u_error);
  llvm::Value* magnitude = e.mul(e.log_core(p.u, p.extra, e.i(0)), e.f(0.5));
  const double inf = std::numeric_limits<double>::infinity();
  magnitude = e.select(b.CreateFCmpOEQ(a, e.f(1.0)), e.f(inf), magnitude);
  magnitude = e.select(b.CreateFCmpOGT(a, e.f(1.0)), e.f(std::numeric_limits<double>::quiet_NaN()), magnitude);
  magnitude = e.select(e.is_nan(x), x, magnitude);
  return b.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, magnitude, x);
}

}  // namespace

llvm::Value* arcsinh(llvm::IRBuilder<>& b, llvm::Value* x) { return in_double(b, x, arcsinh_in_double); }
llvm::Value* arccosh(llvm::IRBuilder<>& b, llvm::Value* x) { return in_double(b, x, arccosh_in_double); }
llvm::Value* arctanh(llvm::IRBuilder<>& b, llvm::Value* x) { return in_double(b, x, arctanh_in_double); }

}  // namespace graphjit::codegen::math
