// What the optimizer tests share: random inputs, evaluating a graph before and
// after a pass on the reference evaluator, and counting nodes by op.
#pragma once

#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include "compiler/eval/reference_evaluator.hpp"
#include "compiler/ir/graph.hpp"
#include "compiler/ir/op_info.hpp"
#include "compiler/passes/passes.hpp"

#include <cmath>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace graphjit::testing {

namespace T = graphjit::tensor;
using compiler::passes::Graph;
using ir::OpCode;

inline Graph roots(const std::vector<Variable>& vs) {
  Graph g;
  for (const Variable& v : vs) g.push_back(v.node());
  return g;
}

// Uniform values in [lo, hi), the same for the same seed.
inline Tensor uniform(const Shape& shape, double lo, double hi, unsigned seed = 1, DType dtype = float64) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  Tensor t = Tensor::empty(shape, float64);
  for (std::int64_t i = 0; i < t.size(); ++i) t.data<double>()[i] = dist(rng);
  return t.astype(dtype);
}

// Integers in [0, n).
inline Tensor labels(std::int64_t count, std::int64_t n, unsigned seed = 1, DType dtype = int64) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::int64_t> dist(0, n - 1);
  Tensor t = Tensor::empty({count}, int64);
  for (std::int64_t i = 0; i < count; ++i) t.data<std::int64_t>()[i] = dist(rng);
  return t.astype(dtype);
}

using InputValues = std::vector<std::pair<Variable, Tensor>>;

inline std::vector<Tensor> evaluate(const Graph& g, const InputValues& inputs) {
  eval::Values values;
  for (const auto& [var, value] : inputs) values[var.node().get()] = value;
  return eval::evaluate(g, values);
}

// Same dtypes and shapes, values within rtol (relative to the larger
// magnitude, absolute below 1); nan only where nan.
inline void check_close(const std::vector<Tensor>& expected, const std::vector<Tensor>& actual, double rtol) {
  REQUIRE(expected.size() == actual.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CAPTURE(i);
    REQUIRE(expected[i].dtype() == actual[i].dtype());
    REQUIRE(expected[i].shape() == actual[i].shape());
    const std::vector<double> e = expected[i].to_vector<double>(), a = actual[i].to_vector<double>();
    for (std::size_t k = 0; k < e.size(); ++k) {
      CAPTURE(k);
      if (std::isnan(e[k]) || std::isnan(a[k])) {
        CHECK(std::isnan(e[k]) == std::isnan(a[k]));
        continue;
      }
      const double scale = std::max({1.0, std::abs(e[k]), std::abs(a[k])});
      CHECK(std::abs(e[k] - a[k]) <= rtol * scale);
    }
  }
}

// The graph after `pass`, checked to give the same values as before on
// `inputs` (the reference evaluator on the user's graph is the oracle).
template <class Pass>
Graph rewrite_and_check(Pass pass, const std::vector<Variable>& outputs, const InputValues& inputs, double rtol = 1e-12) {
  const Graph before = roots(outputs);
  const Graph after = pass(before);
  REQUIRE(after.size() == before.size());
  for (std::size_t i = 0; i < before.size(); ++i) CHECK(after[i]->type == before[i]->type);
  check_close(evaluate(before, inputs), evaluate(after, inputs), rtol);
  return after;
}

inline int count_op(const Graph& g, OpCode op) {
  int n = 0;
  for (const ir::NodeRef& node : ir::toposort(g)) n += node->op == op;
  return n;
}

inline int count_nodes(const Graph& g) { return static_cast<int>(ir::toposort(g).size()); }

inline std::string dump(const Graph& g) {
  std::vector<Variable> vs;
  for (const ir::NodeRef& n : g) vs.emplace_back(n);
  return debugprint(vs);
}

// Gives an intermediate result a name, as the user's named variables have.
inline Variable named(const Variable& v, const std::string& name) {
  std::const_pointer_cast<ir::Node>(v.node())->name = name;
  return v;
}

}  // namespace graphjit::testing
