// What the BLAS tests (test_blas, test_pooled_gemm) share: random operands and
// an element-by-element closeness check relative to the expected magnitude.
#pragma once

#include <doctest/doctest.h>

#include <graphjit/runtime/tensor.hpp>

#include <cmath>
#include <random>

namespace graphjit::testing {

// Uniform in [-1, 1), drawn in float64 and then cast, so that both dtypes
// see the same values up to rounding.
inline Tensor random_matrix(std::mt19937& rng, const Shape& shape, DType dtype) {
  std::uniform_real_distribution<double> uniform(-1, 1);
  Tensor t = Tensor::empty(shape, float64);
  double* p = t.data<double>();
  for (std::int64_t i = 0; i < t.size(); ++i) p[i] = uniform(rng);
  return t.astype(dtype);
}

inline void check_close(const Tensor& got, const Tensor& want, double tolerance) {
  REQUIRE(got.shape() == want.shape());
  const auto g = got.to_vector<double>(), w = want.to_vector<double>();
  for (std::size_t i = 0; i < g.size(); ++i) {
    CAPTURE(i);
    CHECK(std::abs(g[i] - w[i]) <= tolerance * (1 + std::abs(w[i])));
  }
}

}  // namespace graphjit::testing
