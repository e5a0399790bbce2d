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

// Reorders the rows of `t` (along axis 0) in place so that new row i is old
// row order[i]: numpy's t[:] = t[order], without a second copy of t (data
// sets are large). `order` must be a permutation of 0..t.shape(0)-1.
void permute_rows(Tensor& t, const std::vector<std::int64_t>& order);

}  // namespace graphjit
