// erfinv, gammaln (log|Gamma|), psi (digamma) and tri_gamma (psi's
// derivative) as vector IR, in double
// (float arguments are widened, so float results are the double result
// rounded once). Branch-free: every lane evaluates every piece and selects.
//
// erfinv(x) = x p(w), w = -log((1 - x)(1 + x)) as in Giles ("Approximating the
// erfinv function", 2011), p fitted to double precision in three pieces of w.
// gammaln and psi reduce a = |x| to a core interval by masked products, so
// that their zeros near 1, 2 and 1.4616 keep full relative precision:
// gammaln(a) = t R(t) + log(product), t = a - round(a), R(t) = lgamma(2+t)/t;
// psi(a) = (y - y0) Q(y) + sum of 1/(a - j), y = frac(a) + 1 in [1, 2), y0 its
// zero; tri_gamma(a) = tri_gamma(a + n) + sum of 1/(a + k)^2. From 8
// (gammaln), 10 (psi) and 4 (tri_gamma) on, Stirling's series. Negative x reflect
// with sin(pi r), cos(pi r) of r = x - round(x), which is exact.
#include "compiler/codegen/vector_math.hpp"
#include "compiler/codegen/vector_math_emitter.hpp"

#include <limits>
#include <numbers>

namespace graphjit::codegen::math {

namespace {

using detail::Emitter;

// Coefficients, lowest degree first, from scripts/gen_vector_special_constants.py.
// erfinv(a)/a in w - 3.125 for w <= 6.25.
const std::vector<double> erfinv_central = {
    0x1.a755e7c99ae86p+0,  0x1.ebd80d9b13dfap-3,  -0x1.8b6c33114ea2fp-8, -0x1.84576948359ddp-11,
    0x1.879c2a20aeb2ep-13, -0x1.d1d1f7c9ffa6dp-17, -0x1.6e8a53c7ac2ffp-20, 0x1.c6b4f8868f532p-22,
    -0x1.f36ceed4416aep-26, -0x1.1a9eb00326b9bp-28, 0x1.20f544d62fff1p-30, -0x1.dc3f457145cd3p-35,
    -0x1.c8a6afa1550f4p-37, 0x1.7236b79e1d57ep-39, -0x1.6b86f85109f07p-44, -0x1.6877e8ae70f27p-45,
    0x1.d5e95ecc5f898p-48, -0x1.6b6b0fc6a580fp-55, -0x1.19ac650194dcap-53, 0x1.1e1f9ee618b29p-56,
    0x1.669b9213d3cdfp-61, -0x1.9a137911c05cfp-62, 0x1.79a647e43b44ep-66, 0x1.e2aa7ddd776b6p-69,
    -0x1.b2643e45e1856p-72};
// erfinv(a)/a in sqrt(w) - 3.25 for 6.25 <= w <= 16.
const std::vector<double> erfinv_near_one = {
    0x1.8abcc380d5a48p+1,  0x1.0158a6d641d55p+0,  0x1.5ffcfe5b6cd38p-8,  -0x1.ebadabba02be5p-9,
    0x1.468eeca944c44p-9,  -0x1.ba9240d8768c3p-10, 0x1.f3cc545d9ca81p-11, -0x1.7448bcc8e9aa7p-12,
    0x1.932e8fd4360edp-16, 0x1.1e6abbe66ca02p-14, -0x1.8cf463501e9a0p-15, 0x1.a241c6f237f34p-17,
    0x1.899aa0e374402p-19, -0x1.0b79e820e8497p-18, 0x1.8db69feb41fb6p-20, -0x1.da75906425fdap-26,
    -0x1.079a074d69940p-22, 0x1.1a9484c4d3628p-23, -0x1.674f1725daa65p-26, -0x1.06f1da245bfd3p-26,
    0x1.07e3c2020286fp-27};
// erfinv(a)/a in sqrt(w) - 5 for 16 <= w <= 37.5 (a double below 1 has w < 37.5).
const std::vector<double> erfinv_tail = {
    0x1.3664ddd1ad7fbp+2,  0x1.02a30d1fba10cp+0,  -0x1.22ea5df1cbde5p-13, -0x1.c2f36aa185b1cp-13,
    0x1.3ebf4efb13449p-14, -0x1.4a34902d79631p-16, 0x1.2fbcfd8e433a9p-18, -0x1.0a903e9e2d11cp-20,
    0x1.ebe316dbfb9dep-23, -0x1.22357d63c3105p-24, 0x1.f28a1e526df44p-26, -0x1.0581536718e5fp-26,
    0x1.0cbb6e3bf3707p-27, -0x1.e4174f13d9e5ap-29, 0x1.69d1ff25f5597p-30, -0x1.ae5caee74faa9p-32,
    0x1.313dc31f3d495p-34, 0x1.5e807016e0a94p-36, -0x1.660e7adf4edefp-36, 0x1.52abc34e1f353p-38};
constexpr double erfinv_central_end = 6.25, erfinv_tail_from = 16.0;

// lgamma(2 + t) / t in t, -3/4 <= t <= 1/2.
const std::vector<double> lgamma_near_two = {
    0x1.b0ee6072093cep-2,  0x1.4a34cc4a60fa7p-2,  -0x1.13e001a557688p-4, 0x1.51322ac7d78d7p-6,
    -0x1.e404fc215f01bp-8, 0x1.7add6eaf2045bp-9,  -0x1.38ac5c4774c6fp-10, 0x1.0b36aedce2e86p-11,
    -0x1.d3fd3d1a89e04p-13, 0x1.a1280aa66f561p-14, -0x1.78e0b12948136p-15, 0x1.57ff8172348afp-16,
    -0x1.3c8b21a9730bcp-17, 0x1.26fc3dbdab015p-18, -0x1.13960c8b933a1p-19, 0x1.d77a62aeea05fp-21,
    -0x1.e509451540b0ep-22, 0x1.898ec57886ec7p-22, -0x1.2a5b20e239869p-26, -0x1.4be2dd5dc10bcp-24,
    -0x1.35d5612e63f91p-23};
// x (lgamma(x) - (x - 1/2)(log x - 1) - log(2 pi)/2 + 1/2) in 1/x^2, x >= 8.
const std::vector<double> stirling_correction = {0x1.5555555555553p-4,  -0x1.6c16c16bb630dp-9, 0x1.a019fd3406f01p-11,
                                                 -0x1.380ebd7243e93p-11, 0x1.b6fa4852c5f70p-11, -0x1.b1382377d788ap-10};
constexpr double half_log_two_pi_minus_half = 0x1.acfe390c97d69p-2;
constexpr double stirling_from = 8.0;  // lgamma_near_two's reduction multiplies at most 6 factors below

// psi(y) / (y - y0) in y - 3/2, y in [1, 2]; y0 = psi_zero_hi + psi_zero_lo.
const std::vector<double> psi_near_zero = {
    0x1.e6f0cbb873616p-1,  -0x1.b1cb63005ee98p-2, 0x1.eca189b8e6f6dp-3,  -0x1.2feeeb98a78eap-3,
    0x1.8512e5903903ep-4,  -0x1.fb44202a2306bp-5, 0x1.4de9aa1779d23p-5,  -0x1.b9f8b11bfd3d0p-6,
    0x1.2564717896ec6p-6,  -0x1.863563f44f303p-7, 0x1.03c0adafa529cp-7,  -0x1.5a06a5d662cb4p-8,
    0x1.cd2011454fd05p-9,  -0x1.336dbe66757c8p-9, 0x1.99d3f5c0cad5ep-10, -0x1.0fb38d217b800p-10,
    0x1.6a3e76070c135p-11, -0x1.fd8e50abf2196p-12, 0x1.53b23429da21bp-12, -0x1.2fae5cb379bf2p-13,
    0x1.94e73cc9821e1p-14, -0x1.75c084e78a4cdp-13, 0x1.f255c4568ac4dp-14};
constexpr double psi_zero_hi = 0x1.762d86356be3fp+0, psi_zero_lo = 0x1.b86a722197829p-54;
// psi(y) in y - 5/2, y in [2, 3].
const std::vector<double> psi_two_to_three = {
    0x1.680425af12b5ep-1,  0x1.f62057f7296c9p-2,  -0x1.e3bef327df0bbp-4, 0x1.31b4c4359dfc1p-5,
    -0x1.ac61ab99aa0c2p-7, 0x1.3bf9d580eca63p-8,  -0x1.dfdf12a9e0a16p-10, 0x1.72e0083e31eb9p-11,
    -0x1.21de1cbb6fb92p-12, 0x1.c872e1d080f68p-14, -0x1.692591f85a2a2p-15, 0x1.1eb450a1c8693p-16,
    -0x1.c88ea54caa83bp-18, 0x1.6bdd21d1e0e15p-19, -0x1.1da25ea5c22dfp-20, 0x1.c8237f5d7ad8ap-22,
    -0x1.bc4331d5b7550p-23, 0x1.631998b999cb9p-24};
// x^2 (log x - psi(x) - 1/(2x)) in 1/x^2, x >= 10.
const std::vector<double> psi_asymptotic = {0x1.5555555555553p-4,  -0x1.11111110eda31p-7, 0x1.04103fbff493dp-8,
                                            -0x1.110ef0c7a9466p-8, 0x1.eedc14c2d6c94p-8, -0x1.3453e6382a31ap-6};
constexpr double psi_asymptotic_from = 10.0;

// x^3 (psi1(x) - 1/x - 1/(2x^2)) in 1/x^2, x >= 4 (psi1 = tri_gamma). From 4
// rather than 10: each term of the shift's fraction adds two roundings.
const std::vector<double> trigamma_asymptotic = {
    0x1.5555555555553p-3,  -0x1.111111110726cp-5, 0x1.86186153d3845p-6, -0x1.1110f7e9636d3p-5,
    0x1.3647056eca327p-4,  -0x1.02adf71f18cb5p-2, 0x1.242984696e038p+0, -0x1.8d9f4ef74a8f5p+2,
    0x1.0bf542af2bd7dp+5,  -0x1.134b3a1f91460p+7, 0x1.238a23cdc0c47p+8};
constexpr double trigamma_asymptotic_from = 4.0;
// Below this, psi1(a) = 1/a^2 + pi^2/6 to double precision (and a^2 could be subnormal).
constexpr double trigamma_inverse_square_below = 0x1p-30;

// sin(pi r) / r in r^2, |r| <= 1/2.
const std::vector<double> sin_pi_over_r = {0x1.921fb54442d18p+1, -0x1.4abbce625be52p+2, 0x1.466bc6775aa7dp+1,
                                           -0x1.32d2cce627c86p-1, 0x1.5078348551854p-4,  -0x1.e3074dfaf87afp-8,
                                           0x1.e8f3675ee37ddp-12, -0x1.6f7acdb8f6580p-16, 0x1.9d462020fcc78p-21};

constexpr double inf = std::numeric_limits<double>::infinity();
constexpr double nan = std::numeric_limits<double>::quiet_NaN();

llvm::Value* rint(Emitter& e, llvm::Value* x) { return e.builder().CreateUnaryIntrinsic(llvm::Intrinsic::rint, x); }
llvm::Value* floor(Emitter& e, llvm::Value* x) { return e.builder().CreateUnaryIntrinsic(llvm::Intrinsic::floor, x); }
llvm::Value* below(Emitter& e, llvm::Value* x, double v) { return e.builder().CreateFCmpOLT(x, e.f(v)); }
llvm::Value* equal(Emitter& e, llvm::Value* x, double v) { return e.builder().CreateFCmpOEQ(x, e.f(v)); }

// Horner's scheme: each rounding is damped by the powers of |x| <= 1/2 (or
// of the decaying coefficients) that follow it, where Estrin's pairs add one
// rounding per level and cost up to 3 ulps on these long fits.
llvm::Value* horner(Emitter& e, llvm::Value* x, const std::vector<double>& coefficients) {
  std::vector<llvm::Value*> c;
  for (double v : coefficients) c.push_back(e.f(v));
  return e.polynomial_horner(x, c);
}

// sin(pi r) for |r| <= 1/2.
llvm::Value* sin_pi(Emitter& e, llvm::Value* r) { return e.mul(r, horner(e, e.mul(r, r), sin_pi_over_r)); }

llvm::Value* erfinv_in_double(llvm::IRBuilder<>& b, llvm::Value* x) {
  Emitter e(b, x);
  llvm::Value* a = e.abs(x);
  // 1 - a is exact where it matters (a >= 1/2), so w keeps its relative precision near 1.
  llvm::Value* w = b.CreateFNeg(e.log(e.mul(e.sub(e.f(1.0), a), e.add(e.f(1.0), a))));
  llvm::Value* central = horner(e, e.sub(w, e.f(3.125)), erfinv_central);
  llvm::Value* tail = below(e, w, erfinv_tail_from);
  llvm::Value* s = b.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, w);
  std::vector<llvm::Value*> c;  // each lane's coefficients, by its piece
  for (std::size_t k = 0; k < erfinv_near_one.size(); ++k)
    c.push_back(e.select(tail, e.f(erfinv_near_one[k]), e.f(k < erfinv_tail.size() ? erfinv_tail[k] : 0.0)));
  llvm::Value* outer = e.polynomial_horner(e.sub(s, e.select(tail, e.f(3.25), e.f(5.0))), c);
  llvm::Value* p = e.select(below(e, w, erfinv_central_end), central, outer);
  llvm::Value* result = b.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, e.mul(a, p), x);
  result = e.select(equal(e, a, 1.0), b.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, e.f(inf), x), result);
  return e.select(b.CreateFCmpUGT(a, e.f(1.0)), e.f(nan), result);  // also nan
}


// log|Gamma(a)| for a >= 0 (a = 0 and inf give inf). Below stirling_from,
// a = m + t with m = round(a), |t| <= 1/2, except m = 2 for a in
// [1.25, 1.5) (t exact either way), and Gamma(a) = Gamma(2 + t) P / D with
// P = (a-1)(a-2)...(a-(m-2)) for m >= 3, D = a(1 + a) for m = 0 and a for
// m = 1. Near the zeros at 1 and 2 the result keeps its relative precision:
// t R(t) carries the zero at 2, and t R(t) - log(a) the one at 1, where the
// cancellation is at most 2.3x (at 1.25; it would be 3.3x at 1.5).
llvm::Value* gammaln_nonnegative(Emitter& e, llvm::Value* a) {
  llvm::IRBuilder<>& b = e.builder();
  llvm::Value* below_half_way = b.CreateAnd(b.CreateFCmpOGE(a, e.f(1.25)), below(e, a, 1.5));
  llvm::Value* m = e.select(below_half_way, e.f(2.0), rint(e, a));
  llvm::Value* t = e.sub(a, m);
  llvm::Value* product = e.f(1.0);
  for (int j = 1; j <= static_cast<int>(stirling_from) - 2; ++j)
    product = e.select(b.CreateFCmpOGE(m, e.f(j + 2)), e.mul(product, e.sub(a, e.f(j))), product);
  llvm::Value* divisor = e.select(equal(e, m, 0.0), e.mul(a, e.add(e.f(1.0), a)), a);
  llvm::Value* small = below(e, m, 2.0);
  llvm::Value* stirling = b.CreateFCmpUGE(a, e.f(stirling_from));
  // One log serves both ranges: of a for Stirling, of P or D below.
  llvm::Value* log_of = e.log(e.select(stirling, a, e.select(small, divisor, product)));
  llvm::Value* near_two = e.mul_add(t, horner(e, t, lgamma_near_two), e.select(small, b.CreateFNeg(log_of), log_of));
  // Stirling: (a - 1/2)(log a - 1) + log(2 pi)/2 - 1/2 + c(1/a^2)/a.
  llvm::Value* inverse = e.div(e.f(1.0), a);
  llvm::Value* correction = e.mul(inverse, e.polynomial(e.mul(inverse, inverse), stirling_correction));
  llvm::Value* series = e.mul_add(e.sub(a, e.f(0.5)), e.sub(log_of, e.f(1.0)),
                                  e.add(e.f(half_log_two_pi_minus_half), correction));
  return e.select(stirling, series, near_two);
}

// x - round(x), exact; 0 for the integers, which all doubles >= 2^52 are.
llvm::Value* distance_to_integer(Emitter& e, llvm::Value* x) { return e.sub(x, rint(e, x)); }

llvm::Value* gammaln_in_double(llvm::IRBuilder<>& b, llvm::Value* x) {
  Emitter e(b, x);
  llvm::Value* a = e.abs(x);
  llvm::Value* positive = gammaln_nonnegative(e, a);
  // x < 0: Gamma(x) Gamma(1 - x) = pi / sin(pi x) and Gamma(1 - x) = a Gamma(a),
  // so log|Gamma(x)| = log(pi / (a |sin(pi r)|)) - log Gamma(a), r = x - round(x).
  llvm::Value* r = distance_to_integer(e, x);
  llvm::Value* sine = e.abs(sin_pi(e, r));
  llvm::Value* reflected = e.sub(e.log(e.div(e.f(std::numbers::pi), e.mul(a, sine))), positive);
  // Below 2^-60, log|Gamma(-a)| = log Gamma(a) to double precision (and a sin(pi a) would underflow).
  llvm::Value* use_reflection = b.CreateAnd(below(e, x, 0.0), b.CreateFCmpOGE(a, e.f(0x1p-60)));
  llvm::Value* result = e.select(use_reflection, reflected, positive);
  // Poles: 0 (either sign), the negative integers and -inf.
  result = e.select(b.CreateAnd(b.CreateFCmpOLE(x, e.f(0.0)), equal(e, r, 0.0)), e.f(inf), result);
  result = e.select(equal(e, x, -inf), e.f(inf), result);
  return e.select(e.is_nan(x), x, result);
}

// psi(a) for a > 0, plus 1/a where `plus_inverse` (the reflection needs
// psi(a) + 1/a = psi(1 + a), which for a < 1 is psi(a + 1) itself, free of
// the cancellation of -1/a + 1/a). Below psi_asymptotic_from, with m =
// floor(a): psi(a) = psi(y) + N/D, y = a - m + 1 in [1, 2) for m <= 1 (where
// psi(y) = (y - y0) Q(y) keeps the zero y0's relative precision) and
// y = a - m + 2 in [2, 3) above, so that no sum cancels by more than 2x;
// N/D = -1/a for m = 0 and the sum of 1/(a - j), j = 1 .. m-2, for m >= 2,
// accumulated as one fraction so that a single division serves all terms.
llvm::Value* psi_positive(Emitter& e, llvm::Value* a, llvm::Value* plus_inverse) {
  llvm::IRBuilder<>& b = e.builder();
  llvm::Value* m = floor(e, a);
  llvm::Value* fraction = e.sub(a, m);  // exact
  llvm::Value* upper = b.CreateFCmpOGE(m, e.f(2.0));
  std::vector<llvm::Value*> c;  // each lane's coefficients, by its core interval
  for (std::size_t k = 0; k < psi_near_zero.size(); ++k)
    c.push_back(e.select(upper, e.f(k < psi_two_to_three.size() ? psi_two_to_three[k] : 0.0), e.f(psi_near_zero[k])));
  // y - y0_hi = fraction - (y0_hi - 1), exact near the zero.
  llvm::Value* from_zero = e.sub(e.sub(fraction, e.f(psi_zero_hi - 1.0)), e.f(psi_zero_lo));
  llvm::Value* core = e.mul(e.select(upper, e.f(1.0), from_zero), e.polynomial_horner(e.sub(fraction, e.f(0.5)), c));
  llvm::Value* first = equal(e, m, 0.0);
  llvm::Value* numerator = e.select(plus_inverse, e.select(first, e.f(0.0), e.f(1.0)), e.select(first, e.f(-1.0), e.f(0.0)));
  llvm::Value* denominator = e.select(b.CreateXor(plus_inverse, first), a, e.f(1.0));
  for (int j = 1; j + 1 < static_cast<int>(psi_asymptotic_from); ++j) {
    llvm::Value* active = b.CreateFCmpOGE(m, e.f(j + 2));
    llvm::Value* z = e.sub(a, e.f(j));
    numerator = e.select(active, e.mul_add(numerator, z, denominator), numerator);
    denominator = e.select(active, e.mul(denominator, z), denominator);
  }
  llvm::Value* shifted = e.add(core, e.div(numerator, denominator));
  // log a - 1/(2a) - d(1/a^2)/a^2 (+ 1/a).
  llvm::Value* inverse = e.div(e.f(1.0), a);
  llvm::Value* u = e.mul(inverse, inverse);
  llvm::Value* half_inverse = e.mul(inverse, e.select(plus_inverse, e.f(0.5), e.f(-0.5)));
  llvm::Value* series = e.sub(e.add(e.log(a), half_inverse), e.mul(u, e.polynomial(u, psi_asymptotic)));
  return e.select(below(e, a, psi_asymptotic_from), shifted, series);
}

llvm::Value* psi_in_double(llvm::IRBuilder<>& b, llvm::Value* x) {
  Emitter e(b, x);
  llvm::Value* a = e.abs(x);
  llvm::Value* negative = below(e, x, 0.0);
  llvm::Value* positive = psi_positive(e, a, negative);
  // x < 0: psi(x) = psi(1 - x) - pi cot(pi x) = psi(a) + 1/a - pi cos(pi r) / sin(pi r),
  // with cos(pi r) = sin(pi (1/2 - |r|)), both arguments exact.
  llvm::Value* r = distance_to_integer(e, x);
  llvm::Value* cosine = sin_pi(e, e.sub(e.f(0.5), e.abs(r)));
  llvm::Value* cotangent_term = e.div(e.mul(e.f(std::numbers::pi), cosine), sin_pi(e, r));
  llvm::Value* result = e.select(negative, e.sub(positive, cotangent_term), positive);
  // scipy's psi: -inf at +0, +inf at -0; nan at the negative integers and -inf.
  llvm::Value* zero = equal(e, x, 0.0);
  result = e.select(zero, b.CreateFNeg(b.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, e.f(inf), x)), result);
  result = e.select(b.CreateAnd(negative, equal(e, r, 0.0)), e.f(nan), result);
  result = e.select(equal(e, x, -inf), e.f(nan), result);
  return e.select(e.is_nan(x), x, result);
}

// psi1(a) for a > 0, minus 1/a^2 where `minus_inverse_square` (the
// reflection needs psi1(1 + a)). psi1 is positive and decreasing, so the
// shift goes up: psi1(a) = psi1(a + n) + sum of 1/(a + k)^2, k = 0 .. n-1,
// with a + n in [4, 5), all terms positive (no cancellation), the sum
// accumulated as one fraction; the asymptotic series from 4.
llvm::Value* trigamma_positive(Emitter& e, llvm::Value* a, llvm::Value* minus_inverse_square) {
  llvm::IRBuilder<>& b = e.builder();
  const double from = trigamma_asymptotic_from;
  llvm::Value* shift = e.select(below(e, a, from), b.CreateUnaryIntrinsic(llvm::Intrinsic::ceil, e.sub(e.f(from), a)), e.f(0.0));
  // The k = 0 term on its own, as the largest: 1/a^2 = (1/s)(1 - err/s) with
  // a^2 = s + err exactly (err by llvm.fma, which a CPU without FMA would
  // compute by a libm call), so it is within about an ulp.
  llvm::Value* square = e.mul(a, a);
  llvm::Value* square_error = b.CreateIntrinsic(llvm::Intrinsic::fma, {e.float_type()}, {a, a, b.CreateFNeg(square)});
  llvm::Value* inverse_square = e.div(e.f(1.0), square);
  inverse_square = e.mul_add(b.CreateFNeg(inverse_square), e.mul(square_error, inverse_square), inverse_square);
  llvm::Value* first = b.CreateAnd(b.CreateFCmpOGT(shift, e.f(0.0)), b.CreateNot(minus_inverse_square));
  llvm::Value* numerator = e.f(0.0);
  llvm::Value* denominator = e.f(1.0);
  for (int k = 1; k < static_cast<int>(from); ++k) {
    llvm::Value* active = b.CreateFCmpOGT(shift, e.f(k));
    llvm::Value* z = e.add(a, e.f(k));
    llvm::Value* z2 = e.mul(z, z);
    numerator = e.select(active, e.mul_add(numerator, z2, denominator), numerator);
    denominator = e.select(active, e.mul(denominator, z2), denominator);
  }
  // At y = a + n (or a itself from 4 on): 1/y + 1/(2y^2) + e(1/y^2)/y^3, the
  // middle term negated for psi1(1 + a) = psi1(a) - 1/a^2 when y = a.
  llvm::Value* y = e.add(a, shift);
  llvm::Value* inverse = e.div(e.f(1.0), y);
  llvm::Value* u = e.mul(inverse, inverse);
  llvm::Value* half = e.select(b.CreateAnd(minus_inverse_square, b.CreateFCmpUGE(a, e.f(from))), e.f(-0.5), e.f(0.5));
  llvm::Value* series = e.add(inverse, e.mul_add(u, half, e.mul(e.mul(u, inverse), horner(e, u, trigamma_asymptotic))));
  llvm::Value* result = e.add(e.select(first, inverse_square, e.f(0.0)), e.add(series, e.div(numerator, denominator)));
  // Tiny a (never reflected: the reflection's own term dominates there).
  llvm::Value* tiny = e.add(e.mul(e.div(e.f(1.0), a), e.div(e.f(1.0), a)), e.f(std::numbers::pi * std::numbers::pi / 6));
  return e.select(b.CreateAnd(below(e, a, trigamma_inverse_square_below), b.CreateNot(minus_inverse_square)), tiny,
                  result);
}

llvm::Value* trigamma_in_double(llvm::IRBuilder<>& b, llvm::Value* x) {
  Emitter e(b, x);
  llvm::Value* a = e.abs(x);
  llvm::Value* negative = below(e, x, 0.0);
  llvm::Value* positive = trigamma_positive(e, a, negative);
  // x < 0: psi1(x) = pi^2 / sin^2(pi x) - psi1(1 - x), 1 - x = 1 + a.
  llvm::Value* sine = sin_pi(e, distance_to_integer(e, x));
  llvm::Value* pi_over_sine = e.div(e.f(std::numbers::pi), sine);
  llvm::Value* result = e.select(negative, e.sub(e.mul(pi_over_sine, pi_over_sine), positive), positive);
  // scipy's polygamma(1, x): +inf at 0, the negative integers and -inf.
  llvm::Value* pole = b.CreateAnd(b.CreateFCmpOLE(x, e.f(0.0)), equal(e, distance_to_integer(e, x), 0.0));
  result = e.select(b.CreateOr(pole, equal(e, x, -inf)), e.f(inf), result);
  return e.select(e.is_nan(x), x, result);
}

}  // namespace

llvm::Value* erfinv(llvm::IRBuilder<>& b, llvm::Value* x) { return in_double(b, x, erfinv_in_double); }
llvm::Value* gammaln(llvm::IRBuilder<>& b, llvm::Value* x) { return in_double(b, x, gammaln_in_double); }
llvm::Value* psi(llvm::IRBuilder<>& b, llvm::Value* x) { return in_double(b, x, psi_in_double); }
llvm::Value* tri_gamma(llvm::IRBuilder<>& b, llvm::Value* x) { return in_double(b, x, trigamma_in_double); }

}  // namespace graphjit::codegen::math
