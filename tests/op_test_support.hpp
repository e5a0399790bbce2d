// What the op tests (tests/test_ops_*.cpp) share: running a graph on the
// reference evaluator, building input tensors, and reading results back.
#pragma once

#include <graphjit/graphjit.hpp>

#include <cstdint>
#include <utility>
#include <vector>

namespace graphjit::testing {

// The outputs of a function in reference mode: the oracle the op tests check against hand-worked values.
inline std::vector<Tensor> run(const std::vector<Variable>& inputs, const std::vector<Variable>& outputs,
                               const std::vector<Argument>& args = {}) {
  return function(inputs, outputs, {.mode = Mode::reference}).call(args);
}

inline Tensor tensor_of(const std::vector<double>& v, Shape shape, DType dtype = float64) {
  return Tensor::from_vector(v, std::move(shape)).astype(dtype);
}

// 0, 1, 2, ... in row-major order: numpy's arange(n).reshape(shape).
inline Tensor range_tensor(const Shape& shape, DType dtype = float64) {
  return Tensor::arange(shape_numel(shape), dtype).reshape(shape);
}

inline std::vector<double> values(const Tensor& t) { return t.to_vector<double>(); }

// Values spread over [lo, lo + 1), the same for the same seed on every platform
// (a 64-bit linear congruential generator, so no library's distribution can change them).
inline Tensor random_tensor(const Shape& shape, std::uint64_t seed, DType dtype = float64, double lo = -0.5) {
  Tensor t = Tensor::empty(shape, dtype);
  std::uint64_t s = seed;
  for_each_index(shape, [&](const std::vector<std::int64_t>& i) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    t.set(i, static_cast<double>(s >> 11) / static_cast<double>(1ULL << 53) + lo);
  });
  return t;
}

}  // namespace graphjit::testing
