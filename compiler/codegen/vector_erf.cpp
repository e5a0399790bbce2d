// erf and erfc as vector IR, in double (float arguments are widened, so
// float results are the double result rounded once).
//
// |x| < 0.75: erf(x) = x P(x^2), erfc = 1 - erf. Beyond, erfc(|x|) =
// exp(-x^2) g(|x|), g smooth: a polynomial in |x| - mid on [0.75, 2) and
// [2, 4), and h(1/x^2) / |x| from 4 on, where h is the asymptotic shape;
// exp(-x^2) is taken of x^2 split exactly into s + err, since the rounding of
// x^2 alone would cost up to 700 ulps near erfc's underflow (x = 27). Then
// erf = ±(1 - erfc(|x|)) and erfc(-|x|) = 2 - erfc(|x|).
#include "compiler/codegen/vector_math.hpp"
#include "compiler/codegen/vector_math_emitter.hpp"

namespace graphjit::codegen::math {

namespace {

using detail::Emitter;

// Coefficients, lowest degree first, from scripts/gen_vector_math_constants.py
// (near-minimax fits, each within 1e-17 relative of the function).
// erf(x)/x - 1 in x^2 (so that erf = x + x * this, rounded once near x).
const std::vector<double> erf_over_x_minus_1 = {
    0x1.06eba8214db69p-3,   -0x1.812746b0379e0p-2, 0x1.ce2f21a0424c3p-4,  -0x1.b82ce31257412p-6,
    0x1.565bcd03657c0p-8,   -0x1.c02db1220cfe6p-11, 0x1.f9a2afa3a8f86p-14, -0x1.f4c5debf1228ap-17,
    0x1.b90ecd4aeec12p-20,  -0x1.564f71bbc0d35p-23, 0x1.8a312cb07e6ccp-27};
constexpr double small_limit = 0.75;  // erf's own polynomial below, erfc's pieces above

constexpr double near_mid = 1.375, middle_mid = 3.0, near_end = 2.0, middle_end = 4.0;
// erfc(x) exp(x^2) in x - 1.375, x in [0.75, 2].
const std::vector<double> near_piece = {
    0x1.5f88f52f3c76bp-2,  -0x1.797a639d8129dp-3,  0x1.701342cbcea7bp-4,  -0x1.4bcdb9d90832dp-5,
    0x1.17eba60d31f80p-6,  -0x1.bdf24bccb9775p-8,  0x1.51ab9ffcedd8ep-9,  -0x1.e8ae68abc22d2p-11,
    0x1.535f57f9c7c6bp-12, -0x1.c5fa6dede9325p-14, 0x1.254ed35de5c62p-15, -0x1.6f0590bd8c05ep-17,
    0x1.bdb6a02726e33p-19, -0x1.0738ba8068c29p-20, 0x1.2eb363e628ac2p-22, -0x1.50cd09d06344fp-24,
    0x1.7135fb6a3b54dp-26, -0x1.c39ae41f68877p-28, 0x1.d73296532d54ep-30};
// erfc(x) exp(x^2) in x - 3, x in [2, 4].
const std::vector<double> middle_piece = {
    0x1.6e9827d229d2dp-3,  -0x1.bd6ae4d14b16fp-5,  0x1.043fe1a98c0d4p-6,  -0x1.259061ba85698p-8,
    0x1.409cc2ed3f027p-10, -0x1.53dec9d0889cap-12, 0x1.5e73930542870p-14, -0x1.6025103cace20p-16,
    0x1.595f1b10ffe11p-18, -0x1.4b14624a945b9p-20, 0x1.3699168d7bd7ep-22, -0x1.1d7922347c7aap-24,
    0x1.014e0a0208be0p-26, -0x1.c74e1c5371149p-29, 0x1.8c2f441a8c0efp-31, -0x1.527f395f218fap-33,
    0x1.1666810f3d63bp-35, -0x1.cd539a8193ddep-38, 0x1.d497f9598b60ap-40, -0x1.765214aed4921p-42};
// x erfc(x) exp(x^2) in 1/x^2, x >= 4.
const std::vector<double> far_piece = {
    0x1.20dd750429b6dp-1,  -0x1.20dd750429ac9p-2, 0x1.b14c2f860e580p-2,  -0x1.0ecf9d9d5b31ep+0,
    0x1.d9eb48dab95a2p+1,  -0x1.0a9389b1cccf1p+4, 0x1.6e76dd89dd840p+6,  -0x1.29171224cc6cfp+9,
    0x1.128e0ecfc948ap+12, -0x1.12a64406bdc59p+15, 0x1.113f7dbc79e8dp+18, -0x1.e30ccc83df21cp+20,
    0x1.4d37909941343p+23, -0x1.308ba69103309p+25, 0x1.0ceef58a1451ep+26};
// erfc(30) is far below the smallest double; larger arguments are clamped to it.
constexpr double erfc_zero_beyond = 30.0;

// exp(-a^2) g, with a^2 = s + err exactly (Dekker): a's top 26 bits square exactly.
llvm::Value* exp_minus_square_times(Emitter& e, llvm::Value* a, llvm::Value* g) {
  llvm::IRBuilder<>& b = e.builder();
  llvm::Value* s = e.mul(a, a);
  llvm::Value* high_bits = b.CreateAnd(b.CreateBitCast(a, e.int_type()), e.i(~std::int64_t{(1 << 27) - 1}));
  llvm::Value* hi = b.CreateBitCast(high_bits, e.float_type());
  llvm::Value* lo = e.sub(a, hi);
  llvm::Value* err = e.add(e.add(e.sub(e.mul(hi, hi), s), e.mul(e.f(2.0), e.mul(hi, lo))), e.mul(lo, lo));
  // exp(-s - err) = exp(-s) (1 - err): |err| <= 2^-53 s, so err^2 is negligible.
  return e.mul(e.exp(b.CreateFNeg(s)), e.mul_add(b.CreateFNeg(g), err, g));
}

// erfc(a) for 0.75 <= a <= 30.
llvm::Value* erfc_tail(Emitter& e, llvm::Value* a) {
  llvm::IRBuilder<>& b = e.builder();
  llvm::Value* near = b.CreateFCmpOLT(a, e.f(near_end));
  llvm::Value* middle = b.CreateFCmpOLT(a, e.f(middle_end));
  llvm::Value* u = e.div(e.f(1.0), e.mul(a, a));
  llvm::Value* v = e.select(near, e.sub(a, e.f(near_mid)), e.select(middle, e.sub(a, e.f(middle_mid)), u));
  // Each lane's coefficients, chosen by its piece.
  std::vector<llvm::Value*> c;
  for (std::size_t k = 0; k < middle_piece.size(); ++k) {
    auto at = [k](const std::vector<double>& piece) { return k < piece.size() ? piece[k] : 0.0; };
    c.push_back(e.select(near, e.f(at(near_piece)), e.select(middle, e.f(at(middle_piece)), e.f(at(far_piece)))));
  }
  llvm::Value* p = e.polynomial_horner(v, c);
  llvm::Value* g = e.select(middle, p, e.div(p, a));
  return exp_minus_square_times(e, a, g);
}

enum class Which { erf, erfc };

llvm::Value* erf_in_double(llvm::IRBuilder<>& b, llvm::Value* x, Which which) {
  Emitter e(b, x);
  llvm::Value* a = e.abs(x);
  llvm::Value* small = b.CreateFCmpOLT(a, e.f(small_limit));
  llvm::Value* erf_small = e.mul_add(x, e.polynomial(e.mul(x, x), erf_over_x_minus_1), x);
  llvm::Value* tail = erfc_tail(e, e.at_least(e.at_most(a, erfc_zero_beyond), small_limit));
  llvm::Value* result;
  if (which == Which::erf) {
    llvm::Value* large = b.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, e.sub(e.f(1.0), tail), x);
    result = e.select(small, erf_small, large);
  } else {
    llvm::Value* large = e.select(b.CreateFCmpOLT(x, e.f(0.0)), e.sub(e.f(2.0), tail), tail);
    result = e.select(small, e.sub(e.f(1.0), erf_small), large);
  }
  return e.select(e.is_nan(x), x, result);
}

}  // namespace

llvm::Value* erf(llvm::IRBuilder<>& b, llvm::Value* x) {
  return in_double(b, x, [](llvm::IRBuilder<>& bd, llvm::Value* xd) { return erf_in_double(bd, xd, Which::erf); });
}
llvm::Value* erfc(llvm::IRBuilder<>& b, llvm::Value* x) {
  return in_double(b, x, [](llvm::IRBuilder<>& bd, llvm::Value* xd) { return erf_in_double(bd, xd, Which::erfc); });
}

}  // namespace graphjit::codegen::math
