// numpy.random's RandomState, as much of it as models use: uniform initial
// weights and permutations for reshuffling. Deterministic for a given seed.
#pragma once

#include <graphjit/runtime/tensor.hpp>

#include <cstdint>
#include <random>
#include <vector>

namespace graphjit {

class RandomState {
 public:
  explicit RandomState(std::uint64_t seed) : engine_(seed) {}

  // Values drawn uniformly from [low, high), like np.random.uniform(low, high, size).
  Tensor uniform(double low, double high, const Shape& shape, DType dtype = DType::float64);
  // A random ordering of 0..n-1, like np.random.permutation(n).
  std::vector<std::int64_t> permutation(std::int64_t n);

 private:
  std::mt19937_64 engine_;
};

// The rows of `t` (along axis 0) in the order `rows` gives: numpy's t[rows].
Tensor take_rows(const Tensor& t, const std::vector<std::int64_t>& rows);

}  // namespace graphjit
