// Special functions the C++ library lacks, in double precision: the inverse
// error function, the digamma function (psi) and its derivative (trigamma).
#pragma once

namespace graphjit::ops {

// erf^-1(y) for y in [-1, 1] (±inf at ±1, nan outside).
double erfinv(double y);
// d/dx log|Gamma(x)|: -inf at +0, +inf at -0, nan at -1, -2, ... and -inf (scipy.special.psi)
double digamma(double x);
// d/dx psi(x), scipy.special.polygamma(1, x): +inf at 0, -1, -2, ... and at -inf
double trigamma(double x);
// round(x) with ties to the even neighbour (numpy.round, Theano's round_half_to_even).
double round_half_to_even(double x);

}  // namespace graphjit::ops
