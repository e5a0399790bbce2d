// Random float64 inputs drawn uniformly from [-scale, scale) by graphjit's
// own RandomState: what the scan tests (test_scan_grad, test_scan_step_sums)
// feed their recurrences.
#pragma once

#include <graphjit/graphjit.hpp>
#include <graphjit/runtime/random.hpp>

#include <cstdint>

namespace graphjit::testing {

inline Tensor uniform_tensor(Shape shape, std::uint64_t seed, double scale = 0.5) {
  RandomState rng(seed);
  return rng.uniform(-scale, scale, shape, float64);
}

}  // namespace graphjit::testing
