#include "frontend/ops/special_functions.hpp"

#include <cmath>
#include <initializer_list>
#include <limits>
#include <numbers>

namespace graphjit::ops {

namespace {
// Giles, "Approximating the erfinv function" (GPU Computing Gems, 2011): a
// single-precision start that Halley steps below refine to double precision.
double erfinv_start(double y) {
  double w = -std::log((1.0 - y) * (1.0 + y)), p;
  if (w < 5.0) {
    w -= 2.5;
    p = 2.81022636e-08;
    for (double c : {3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                     -0.00417768164, 0.246640727, 1.50140941})
      p = c + p * w;
  } else {
    w = std::sqrt(w) - 3.0;
    p = -0.000200214257;
    for (double c : {0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047,
                     1.00167406, 2.83297682})
      p = c + p * w;
  }
  return p * y;
}
}  // namespace

double erfinv(double y) {
  if (std::isnan(y) || y < -1.0 || y > 1.0) return std::numeric_limits<double>::quiet_NaN();
  if (std::abs(y) == 1.0) return std::copysign(std::numeric_limits<double>::infinity(), y);
  const double a = std::abs(y);
  double x = erfinv_start(a);
  // Halley on f(x) = erf(x) - a, written with erfc near 1 where erf(x) - a
  // would cancel (1 - a is exact for a >= 0.5), until x stops moving: three
  // steps are enough in the start's range, but not for 1 - a below about
  // 1e-12, where it starts far off (it was 5.709 for erfinv(1 - 2^-53) = 5.864).
  for (int step = 0; step < 100; ++step) {
    const double f = a < 0.5 ? std::erf(x) - a : (1.0 - a) - std::erfc(x);
    const double slope = 2.0 / std::sqrt(std::numbers::pi) * std::exp(-x * x);
    const double next = x - f / (slope + x * f);
    const bool converged = next == x || (step >= 3 && std::abs(next - x) <= 0x1p-52 * x);
    x = next;
    if (converged) break;
  }
  return std::copysign(x, y);
}

double digamma(double x) {
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  if (std::isnan(x) || x == -std::numeric_limits<double>::infinity()) return nan;
  // scipy's psi: -inf at +0 and +inf at -0 (the limits from each side).
  if (x == 0) return std::signbit(x) ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
  if (x < 0 && x == std::floor(x)) return nan;
  if (x < 0) {
    // Reflection, psi(x) = psi(1 - x) - pi cot(pi x), with cot(pi x) taken of
    // x's distance r to the nearest integer (exact; tan(pi * x) would carry
    // the rounding of pi * x, thousands of ulps near the poles), as
    // tan(pi (1/2 - |r|)) beyond |r| = 1/4 so that it is 0 at the half-integers.
    const double r = x - std::round(x), pi = std::numbers::pi;
    const double cot = std::abs(r) <= 0.25 ? 1.0 / std::tan(pi * r) : std::copysign(std::tan(pi * (0.5 - std::abs(r))), r);
    return digamma(1.0 - x) - pi * cot;
  }
  double shift = 0;
  for (; x < 10.0; x += 1.0) shift -= 1.0 / x;  // psi(x) = psi(x + 1) - 1/x
  // The asymptotic series; at x >= 10 its next term is below 1e-16.
  const double f = 1.0 / (x * x);
  const double tail =
      f * (-1.0 / 12 + f * (1.0 / 120 + f * (-1.0 / 252 + f * (1.0 / 240 + f * (-1.0 / 132 + f * (691.0 / 32760 + f * (-1.0 / 12)))))));
  return shift + std::log(x) - 0.5 / x + tail;
}

double trigamma(double x) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  if (x == inf) return 0;
  if (std::isnan(x)) return x;
  if (x <= 0 && x == std::floor(x)) return inf;  // the poles, and -inf as scipy's polygamma(1, -inf)
  if (x < 0) {
    // Reflection, psi1(1 - x) + psi1(x) = pi^2 / sin^2(pi x), with the sine of
    // x's distance to the nearest integer (exact), so large |x| keeps its digits.
    const double s = std::sin(std::numbers::pi * (x - std::round(x)));
    return std::numbers::pi * std::numbers::pi / (s * s) - trigamma(1.0 - x);
  }
  double shift = 0;
  for (; x < 10.0; x += 1.0) shift += 1.0 / (x * x);  // psi1(x) = psi1(x + 1) + 1/x^2
  // The asymptotic series 1/x + 1/(2x^2) + sum B_2k / x^(2k+1); at x >= 10
  // its next term is below 1e-16 of the sum.
  const double r = 1.0 / x, f = r * r;
  double tail = 0;  // Horner over B_2k, highest k first
  for (double b : {-3617.0 / 510, 7.0 / 6, -691.0 / 2730, 5.0 / 66, -1.0 / 30, 1.0 / 42, -1.0 / 30, 1.0 / 6})
    tail = f * (b + tail);
  return shift + r + 0.5 * f + r * tail;
}

double round_half_to_even(double x) {
  const double r = std::round(x);  // ties away from zero
  if (std::abs(x - std::trunc(x)) == 0.5) return 2.0 * std::round(x / 2.0);
  return r;
}

}  // namespace graphjit::ops
