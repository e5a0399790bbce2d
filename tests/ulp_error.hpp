// Distance of a computed value from the exact one in units in the last place,
// for the vector math tests (test_codegen_math, test_vector_math).
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>

namespace graphjit::testing {

// Error of `got` against the exact value, in ulps of the result's format.
template <class T> double ulp_error(T got, long double exact) {
  const T rounded = static_cast<T>(exact);
  if (std::isnan(exact) || std::isinf(rounded))
    return got == rounded || (std::isnan(got) && std::isnan(exact)) ? 0 : 1e30;
  if (!std::isfinite(got)) return 1e30;
  const int exponent = std::max(std::ilogb(rounded == 0 ? std::numeric_limits<T>::denorm_min() : rounded),
                                std::numeric_limits<T>::min_exponent - 1);
  const long double ulp = std::ldexp(1.0L, exponent - std::numeric_limits<T>::digits + 1);
  return static_cast<double>(std::fabs(static_cast<long double>(got) - exact) / ulp);
}

}  // namespace graphjit::testing
