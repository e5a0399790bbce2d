#!/usr/bin/python3
"""Prints the constants of compiler/codegen/vector_trig.cpp and vector_erf.cpp.

Run: /usr/bin/python3 scripts/gen_vector_math_constants.py   (needs python3-mpmath)

- pi/2 split for Cody-Waite reduction: two 33-bit parts, so that k * part is
  exact for |k| < 2^20, and a 53-bit third part.
- erf and erfc: near-minimax (Chebyshev) polynomial fits, made with mpmath at
  40 digits, of
    erf(x)/x - 1 as a polynomial in z = x^2, for |x| <= 0.75;
    g(x) = erfc(x) exp(x^2) in t = x - mid on [0.75, 2] and [2, 4];
    h(u) = x erfc(x) exp(x^2) in u = 1/x^2 for x >= 4 (u in [0, 1/16]).
  Each fit is the smallest degree whose error is below 1e-17 relative.
- arctan: (atan(t)/t - 1)/t^2 in z = t^2 for |t| <= tan(pi/8), and pi/4 and
  pi/2 in two parts (a 33-bit high part).
- arcsin: (asin(s)/s - 1)/s^2 in z = s^2 for |s| <= 1/2, and pi in two parts.
- log2 and log10: 1/ln2 and 1/ln10 with a 27-bit high part (so that its
  product with a 26-bit number is exact), and log10(2) with a 40-bit high
  part (exact times any exponent k, |k| < 2^12).
"""
import mpmath as mp

mp.mp.dps = 40


def hexf(v):
    return float(v).hex()


def round_bits(v, bits):
    e = mp.floor(mp.log(abs(v), 2))
    scale = mp.mpf(2) ** (bits - 1 - e)
    return mp.nint(v * scale) / scale


def pi_half_parts():
    half_pi = mp.pi / 2
    p1 = round_bits(half_pi, 33)
    p2 = round_bits(half_pi - p1, 33)
    p3 = mp.mpf(float(half_pi - p1 - p2))
    print("pi/2 parts:", hexf(p1), hexf(p2), hexf(p3), " residual", mp.nstr(half_pi - p1 - p2 - p3, 5))


def fit(name, f, a, b, scale, shift=0):
    for n in range(4, 30):
        c, err = mp.chebyfit(f, [a, b], n, error=True)
        c[-1] -= shift  # the constant term
        if err / scale < 1e-17:
            coefficients = [hexf(v) for v in reversed(c)]  # lowest degree first
            print(f"{name}: degree {n - 1}, error {mp.nstr(err / scale, 3)}")
            print("    {" + ", ".join(coefficients) + "}")
            return
    raise SystemExit(f"{name}: no fit")


def erf_fits():
    def erf_over_x(z):
        return mp.erf(mp.sqrt(z)) / mp.sqrt(z) if z > 0 else 2 / mp.sqrt(mp.pi)

    fit("erf(x)/x - 1 in x^2, |x| <= 0.75", erf_over_x, 0, mp.mpf(0.75) ** 2, 1, shift=1)

    def g(x):
        return mp.erfc(x) * mp.exp(x * x)

    for a, b in [(0.75, 2), (2, 4)]:
        mid = mp.mpf(a + b) / 2
        fit(f"erfc(x) exp(x^2) in x - {float(mid)}, x in [{a}, {b}]", lambda t: g(mid + t), a - mid, b - mid, g(b))

    def h(u):
        return mp.erfc(1 / mp.sqrt(u)) * mp.exp(1 / u) / mp.sqrt(u) if u > 0 else 1 / mp.sqrt(mp.pi)

    fit("x erfc(x) exp(x^2) in 1/x^2, x >= 4", h, 0, mp.mpf(1) / 16, h(mp.mpf(1) / 16))


def arctan_fit():
    t0 = mp.tan(mp.pi / 8)

    def q(z):
        return (mp.atan(mp.sqrt(z)) / mp.sqrt(z) - 1) / z if z > 0 else mp.mpf(-1) / 3

    # Error relative to atan(t) is the fit's error times z <= t0^2.
    fit("(atan(t)/t - 1)/t^2 in t^2, |t| <= tan(pi/8)", q, 0, t0**2, 1 / t0**2)
    for name, v in (("pi/4", mp.pi / 4), ("pi/2", mp.pi / 2)):
        hi = round_bits(v, 33)
        print(f"{name} parts:", hexf(hi), hexf(v - hi))


def arcsin_fit():
    def p(z):
        return (mp.asin(mp.sqrt(z)) / mp.sqrt(z) - 1) / z if z > 0 else mp.mpf(1) / 6

    # Error relative to asin(s) is the fit's error times z <= 1/4.
    fit("(asin(s)/s - 1)/s^2 in s^2, |s| <= 1/2", p, 0, mp.mpf(1) / 4, 4)
    hi = round_bits(mp.pi, 33)
    print("pi parts:", hexf(hi), hexf(mp.pi - hi))


def log_base_constants():
    for name, v, bits in (("1/ln2", 1 / mp.log(2), 27), ("1/ln10", 1 / mp.log(10), 27),
                          ("log10(2)", mp.log10(2), 40)):
        hi = round_bits(v, bits)
        print(f"{name} parts:", hexf(hi), hexf(v - hi))


if __name__ == "__main__":
    pi_half_parts()
    erf_fits()
    arctan_fit()
    arcsin_fit()
    log_base_constants()
