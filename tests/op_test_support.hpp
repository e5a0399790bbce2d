// What the op tests (tests/test_ops_*.cpp) share: running a graph on the
// reference evaluator, building input tensors, and reading results back.
#pragma once

#include <graphjit/graphjit.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

namespace graphjit::testing {

// `got` equals `want`: dtype, shape, and values (nan where nan; floats to a
// few units of their precision, relative to the larger magnitude or 1).
inline void check_same_result(const Tensor& want, const Tensor& got, const std::string& what) {
  INFO(what);
  REQUIRE(dtype_name(got.dtype()) == std::string(dtype_name(want.dtype())));
  REQUIRE(shape_str(got.shape()) == shape_str(want.shape()));
  const double rtol = want.dtype() == float32 ? 1e-5 : want.dtype() == float64 ? 1e-12 : 0.0;
  const std::vector<double> w = want.to_vector<double>(), g = got.to_vector<double>();
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (std::isnan(w[i]) || std::isnan(g[i])) {
      CHECK_MESSAGE(std::isnan(w[i]) == std::isnan(g[i]), "element " << i << ": " << g[i] << " vs " << w[i]);
      continue;
    }
    const double scale = std::max({1.0, std::abs(w[i]), std::abs(g[i])});
    CHECK_MESSAGE((w[i] == g[i] || std::abs(w[i] - g[i]) <= rtol * scale), "element " << i << ": " << g[i] << " vs " << w[i]);
  }
}

// The outputs in reference mode only, for the few cases where the compiled
// mode is known to differ (each use says why).
inline std::vector<Tensor> run_reference_only(const std::vector<Variable>& inputs, const std::vector<Variable>& outputs,
                                              const std::vector<Argument>& args = {}) {
  return function(inputs, outputs, {.mode = Mode::reference}).call(args);
}

// The outputs of a function in reference mode: the oracle the op tests check
// against hand-worked values. The same function compiled (fast_run: rewrites,
// fused kernels, views, memory planning, which is where the modes differ)
// must give the same results, or throw an exception of the same type.
inline std::vector<Tensor> run(const std::vector<Variable>& inputs, const std::vector<Variable>& outputs,
                               const std::vector<Argument>& args = {}) {
  std::vector<Tensor> want;
  try {
    want = function(inputs, outputs, {.mode = Mode::reference}).call(args);
  } catch (const std::exception& reference_error) {
    std::string compiled = "<no exception>";
    try {
      function(inputs, outputs, {.mode = Mode::fast_run}).call(args);
    } catch (const std::exception& e) {
      compiled = typeid(e) == typeid(reference_error) ? "" : std::string("a different exception: ") + e.what();
    }
    CHECK_MESSAGE(compiled.empty(), "the reference throws '" << reference_error.what() << "'; fast_run gives "
                                                             << compiled);
    throw;
  }
  const std::vector<Tensor> got = function(inputs, outputs, {.mode = Mode::fast_run}).call(args);
  REQUIRE(got.size() == want.size());
  for (std::size_t o = 0; o < want.size(); ++o) check_same_result(want[o], got[o], "fast_run output " + std::to_string(o));
  return want;
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
