// numpy.random's RandomState, as much of it as models use: uniform and
// normal initial weights, integers, choice, and permutations for
// reshuffling. Deterministic for a given seed (the stream is the C++
// library's mt19937_64, not numpy's, so values differ from numpy's).
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
  // Values drawn from N(loc, scale^2), like np.random.normal(loc, scale, size); scale >= 0.
  Tensor normal(double loc, double scale, const Shape& shape, DType dtype = DType::float64);
  // Integers drawn uniformly from [low, high) (numpy's Generator.integers;
  // endpoint=true draws from [low, high], Theano's random_integers).
  Tensor integers(std::int64_t low, std::int64_t high, const Shape& shape, DType dtype = DType::int64,
                  bool endpoint = false);
  // Elements of the 1-d tensor `a` (np.random.choice(a, size, replace, p)):
  // with replacement, each drawn with probability p[i] (p: 1-d, same length,
  // non-negative, summing to 1) or uniformly when p is undefined; without
  // replacement, distinct positions of `a` (with p: drawn one by one, each
  // in proportion to p among the positions left, as numpy does).
  Tensor choice(const Tensor& a, const Shape& shape, bool replace = true, const Tensor& p = Tensor());
  // choice from 0..n-1 (np.random.choice(n, ...)).
  Tensor choice(std::int64_t n, const Shape& shape, bool replace = true, const Tensor& p = Tensor());
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
