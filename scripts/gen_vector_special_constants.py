#!/usr/bin/python3
"""Prints the constants of compiler/codegen/vector_special.cpp (erfinv,
gammaln, psi, tri_gamma and the sin(pi r) their reflections use).

Run: /usr/bin/python3 scripts/gen_vector_special_constants.py   (needs python3-mpmath)

Near-minimax (Chebyshev) polynomial fits made with mpmath at 40 digits, each
the smallest degree whose error is below 1e-17 relative (fit() of
gen_vector_math_constants.py), lowest degree first:
- erfinv(a) = a p(w), w = -log((1 - a)(1 + a)): p in w - 3.125 for w <= 6.25,
  in sqrt(w) - 3.25 for 6.25 <= w <= 16 and in sqrt(w) - 5 for
  16 <= w <= 37.5 (a double below 1 has w < 37.5).
- gammaln: lgamma(2 + t) / t in t, -3/4 <= t <= 1/2 (the zero at 2 factored out);
  the Stirling correction lgamma(x) - (x - 1/2)(log x - 1) - log(2 pi)/2 + 1/2
  = x^-1 c(x^-2) for x >= 8.
- psi: psi(y) / (y - y0) in y - 3/2 for y in [1, 2], y0 the positive zero
  (printed in two parts); psi(y) in y - 5/2 for y in [2, 3];
  log x - psi(x) - 1/(2x) = x^-2 d(x^-2) for x >= 10.
- tri_gamma: psi1(x) - 1/x - 1/(2x^2) = x^-3 e(x^-2) for x >= 4.
- sin(pi r) / r in r^2 for |r| <= 1/2.
"""
import mpmath as mp

from gen_vector_math_constants import fit, hexf

mp.mp.dps = 40


def erfinv_fits():
    def p_of_w(w):
        a = mp.sqrt(-mp.expm1(-w))
        return mp.erfinv(a) / a if w > 0 else mp.sqrt(mp.pi) / 2

    fit("erfinv(a)/a in w - 3.125, w <= 6.25", lambda t: p_of_w(t + mp.mpf(3.125)), -3.125, 3.125, 1)
    for lo, hi, mid in [(6.25, 16, 3.25), (16, 37.5, 5)]:
        fit(f"erfinv(a)/a in sqrt(w) - {mid}, w in [{lo}, {hi}]", lambda s: p_of_w((s + mid) ** 2),
            mp.sqrt(lo) - mid, mp.sqrt(hi) - mid, 1)


def gammaln_fits():
    def r(t):
        return mp.loggamma(2 + t) / t if t != 0 else mp.digamma(2)

    fit("lgamma(2 + t)/t, -3/4 <= t <= 1/2", r, -0.75, 0.5, r(mp.mpf(0.5)))

    def c(u):  # u = 1/x^2
        if u == 0:
            return mp.mpf(1) / 12
        x = 1 / mp.sqrt(u)
        return (mp.loggamma(x) - (x - 0.5) * (mp.log(x) - 1) - mp.log(2 * mp.pi) / 2 + 0.5) * x

    # Relative to lgamma(8) ~ 8.5: the correction's error is divided by x >= 8.
    fit("Stirling correction times x in 1/x^2, x >= 8", c, 0, mp.mpf(1) / 64, 8 * 8.5)
    print("log(2 pi)/2 - 1/2:", hexf(mp.log(2 * mp.pi) / 2 - 0.5))


def psi_fits():
    y0 = mp.findroot(mp.digamma, 1.46)
    y0_hi = mp.mpf(float(y0))
    print("psi's positive zero:", hexf(y0_hi), hexf(y0 - y0_hi))

    def q(t):
        y = mp.mpf(1.5) + t
        return mp.digamma(y) / (y - y0) if abs(y - y0) > mp.mpf(10) ** -15 else mp.polygamma(1, y0)

    fit("psi(y)/(y - y0) in y - 1.5, y in [1, 2]", q, -0.5, 0.5, q(mp.mpf(0.5)) * 0.5)
    fit("psi(y) in y - 2.5, y in [2, 3]", lambda t: mp.digamma(mp.mpf(2.5) + t), -0.5, 0.5, mp.digamma(2))

    def d(u):  # u = 1/x^2
        if u == 0:
            return mp.mpf(1) / 12
        x = 1 / mp.sqrt(u)
        return (mp.log(x) - mp.digamma(x) - 1 / (2 * x)) * x * x

    # Relative to psi(10) ~ 2.25: the term is d / x^2 with x >= 10.
    fit("log x - psi(x) - 1/(2x) times x^2 in 1/x^2, x >= 10", d, 0, mp.mpf(1) / 100, 100 * 2.25)


def trigamma_fit():
    def e(u):  # u = 1/x^2
        if u == 0:
            return mp.mpf(1) / 6
        x = 1 / mp.sqrt(u)
        return (mp.polygamma(1, x) - 1 / x - 1 / (2 * x * x)) * x**3

    # Relative to psi1(x) ~ 1/x: the term is e / x^3, so the error is scaled by x^2 >= 16.
    fit("psi1(x) - 1/x - 1/(2x^2) times x^3 in 1/x^2, x >= 4", e, 0, mp.mpf(1) / 16, 16)


def sinpi_fit():
    def s(z):
        r = mp.sqrt(z)
        return mp.sin(mp.pi * r) / r if z > 0 else mp.pi

    fit("sin(pi r)/r in r^2, |r| <= 1/2", s, 0, 0.25, 2)


if __name__ == "__main__":
    erfinv_fits()
    gammaln_fits()
    psi_fits()
    trigamma_fit()
    sinpi_fit()
