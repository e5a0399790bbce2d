// Shared by tests/test_codegen_*.cpp: building clusters, random inputs, and
// comparing compiled kernels with the reference evaluator.
#pragma once

#include "compiler/codegen/cluster.hpp"
#include "compiler/codegen/kernel_compiler.hpp"
#include "compiler/eval/reference_evaluator.hpp"
#include "compiler/ir/node.hpp"
#include "compiler/jit/jit_engine.hpp"

#include <graphjit/runtime/config.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

// In every codegen test executable: the ctest variants (tests/CMakeLists.txt)
// run them with GRAPHJIT_FLAGS=jit_cpu=haswell or vector_bits=128 to test the
// code paths of other machines; a variant whose setting did not take effect
// would test nothing new, so it is checked here.
TEST_CASE("the JIT targets the CPU and vector width the flags ask for") {
  const graphjit::jit::HostTarget& host = graphjit::jit::JitEngine::instance().host();
  const graphjit::Config& flags = graphjit::config();
  MESSAGE("JIT target: cpu " << host.cpu << ", " << host.vector_bits << "-bit vectors");
  int expected = 0;  // 0: whatever the host has
  if (!flags.jit_cpu.empty()) {
    CHECK(host.cpu == flags.jit_cpu);
    if (flags.jit_cpu == "haswell") {
      expected = 256;  // AVX2, no AVX-512
      CHECK(host.features.find("+avx512f") == std::string::npos);
    }
  }
  if (flags.vector_bits != 0) expected = expected ? std::min(expected, flags.vector_bits) : flags.vector_bits;
  // Every x86-64 CPU has 128-bit vectors, so a request for 128 is always met exactly.
  if (expected == 128 || expected == 256) CHECK(host.vector_bits == expected);
}

namespace codegen_test {

using namespace graphjit;
using ir::NodeRef;
using ir::OpCode;

inline NodeRef input(DType dtype, std::vector<bool> broadcastable, const std::string& name) {
  return ir::make_input(ir::Type{dtype, std::move(broadcastable)}, name, std::source_location::current());
}

inline NodeRef op(OpCode code, std::vector<NodeRef> inputs, ir::Attrs attrs = {}) {
  return ir::make(code, std::move(inputs), std::move(attrs));
}

inline NodeRef reduce(OpCode code, NodeRef x, std::vector<int> axes, bool keepdims = false) {
  ir::Attrs attrs;
  attrs.axes = std::move(axes);
  attrs.keepdims = keepdims;
  return ir::make(code, {std::move(x)}, attrs);
}

inline NodeRef scalar_constant(double value, DType dtype, int ndim) {
  Tensor t = Tensor::full(Shape(static_cast<std::size_t>(ndim), 1), value, dtype);
  return ir::make_constant(t, std::source_location::current());
}

// Values uniform in [lo, hi) (integers: rounded down), reproducibly.
inline Tensor random_tensor(const Shape& shape, DType dtype, double lo, double hi, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  Tensor t = Tensor::empty(shape, dtype);
  for_each_index(shape, [&](const std::vector<std::int64_t>& idx) {
    const double v = dist(rng);
    t.set(idx, is_float(dtype) ? v : std::floor(v));
  });
  return t;
}

// The cluster's outputs (stored values, then reductions) by the reference evaluator.
inline std::vector<Tensor> reference(const codegen::Cluster& cluster, const std::vector<Tensor>& inputs) {
  eval::Values values;
  for (std::size_t i = 0; i < inputs.size(); ++i)
    if (cluster.inputs[i]->op == OpCode::Input) values[cluster.inputs[i].get()] = inputs[i];
  std::vector<NodeRef> wanted = cluster.outputs;
  wanted.insert(wanted.end(), cluster.reductions.begin(), cluster.reductions.end());
  return eval::evaluate(wanted, values);
}

// How far apart two floats are, in units of the last place of `expected`'s
// format (nan matches nan, infinities must be equal).
inline double ulp_distance(double got, double expected, DType dtype) {
  if (std::isnan(expected) || std::isnan(got)) return std::isnan(expected) && std::isnan(got) ? 0 : 1e300;
  if (std::isinf(expected) || std::isinf(got)) return got == expected ? 0 : 1e300;
  const int mantissa = dtype == DType::float32 ? 24 : 53;
  const int min_exponent = dtype == DType::float32 ? -125 : -1021;
  const int e = std::max(std::ilogb(expected == 0 ? got : expected), min_exponent - 1);
  const double ulp = std::ldexp(1.0, e - mantissa + 1);
  return std::abs(got - expected) / (ulp == 0 ? std::numeric_limits<double>::denorm_min() : ulp);
}

// Exact equality for integers and bools; floats within `max_ulps` or an
// absolute `atol` (for results that cancel to near zero).
inline void check_close(const Tensor& got, const Tensor& expected, double max_ulps, double atol,
                        const std::string& what) {
  INFO(what);
  REQUIRE(got.dtype() == expected.dtype());
  REQUIRE(shape_str(got.shape()) == shape_str(expected.shape()));
  const std::vector<double> g = got.to_vector<double>(), e = expected.to_vector<double>();
  std::size_t bad = 0, first_bad = 0;
  for (std::size_t i = 0; i < g.size(); ++i) {
    bool ok;
    if (!is_float(got.dtype()))
      ok = g[i] == e[i];
    else
      ok = ulp_distance(g[i], e[i], got.dtype()) <= max_ulps || std::abs(g[i] - e[i]) <= atol;
    if (!ok && bad++ == 0) first_bad = i;
  }
  if (bad) {
    INFO("first mismatch at flat index " << first_bad << ": got " << g[first_bad] << ", expected " << e[first_bad]);
    CHECK(bad == 0);
  }
}

// The three kernels the fusion pass makes of softmax: row max; exp and row
// sum; division.
struct SoftmaxClusters {
  explicit SoftmaxClusters(DType dtype) : dtype(dtype) {}
  DType dtype;
  NodeRef x = input(dtype, {false, false}, "x");
  NodeRef row_max = reduce(OpCode::Max, x, {1}, true);
  codegen::Cluster max_cluster{"row_max", {x}, {}, {}, {row_max}};
  NodeRef m = input(dtype, {false, true}, "m");
  NodeRef shifted = op(OpCode::Sub, {x, m});
  NodeRef e = op(OpCode::Exp, {shifted});
  NodeRef row_sum = reduce(OpCode::Sum, e, {1}, true);
  codegen::Cluster exp_cluster{"exp_sum", {x, m}, {shifted, e}, {e}, {row_sum}};
  NodeRef ev = input(dtype, {false, false}, "e");
  NodeRef s = input(dtype, {false, true}, "s");
  NodeRef p = op(OpCode::TrueDiv, {ev, s});
  codegen::Cluster div_cluster{"div", {ev, s}, {p}, {p}, {}};
};

}  // namespace codegen_test
