// Fusion: which elementwise nodes share a kernel, and that no cluster ever
// waits for itself.
#include <doctest/doctest.h>

#include "compiler/ir/graph.hpp"
#include "compiler/lower/fusion.hpp"

#include <graphjit/graphjit.hpp>

namespace T = graphjit::tensor;
using graphjit::Tensor;
using graphjit::Variable;

namespace {
graphjit::compiler::lower::Fusion fuse(const std::vector<Variable>& outs) {
  std::vector<graphjit::ir::NodeRef> roots;
  for (const Variable& v : outs) roots.push_back(v.node());
  return graphjit::compiler::lower::fuse(graphjit::ir::toposort(roots), roots);
}
}  // namespace

TEST_CASE("a chain of elementwise ops and the reduction it feeds are one cluster") {
  auto a = T::matrix("a"), b = T::matrix("b");
  auto loss = T::sum(T::sqr(a - b));
  auto f = fuse({loss});
  REQUIRE(f.clusters.size() == 1);
  CHECK(f.clusters[0].nodes.size() == 2);
  CHECK(f.clusters[0].reductions.size() == 1);
  CHECK(f.clusters[0].outputs.empty());  // sqr(a - b) is never stored
}

TEST_CASE("a node reading a cluster's reduction does not join that cluster") {
  auto x = T::matrix("x");
  auto e = T::exp(x);
  auto y = e / T::sum(e, std::vector<int>{1}, true);
  auto f = fuse({y});
  CHECK(f.cluster_of.at(e.node().get()) != f.cluster_of.at(y.node().get()));
}

// Regression: a cluster took in a node reading another cluster, which later
// took in nodes reading the first one: two kernels each waiting for the other
// ("no step computed ..." at run time).
TEST_CASE("clusters never depend on each other in a cycle: log_softmax gradient with a broadcast sum") {
  auto x = T::vector("x"), w = T::vector("w");
  auto s = T::sum(w, std::vector<int>{-1}, true);
  auto cost = T::sum(T::log_softmax(x) * s);
  auto grads = graphjit::grad(cost, std::vector<Variable>{x, w});
  Tensor xv{0.1, 0.2, -0.3, 0.4}, wv{1., 2., 3., 4.};
  auto jit = graphjit::function({x, w}, grads)(xv, wv);
  auto ref = graphjit::function({x, w}, grads, {.mode = graphjit::Mode::reference})(xv, wv);
  for (std::size_t i = 0; i < 2; ++i)
    for (std::int64_t k = 0; k < 4; ++k) CHECK(jit[i].get({k}) == doctest::Approx(ref[i].get({k})).epsilon(1e-12));
}

// Regression: every node kept the set of all clusters it depended on and
// each join test walked the cluster graph, so fusing grew with the square of
// the depth (3.6 s for a 256-layer MLP's train step; this chain took minutes).
// Each layer's sum ends a cluster, so the chain has one cluster per layer.
TEST_CASE("a deep chain of clusters fuses, one cluster per layer") {
  constexpr int kLayers = 4000;
  auto x = T::vector("x");
  Variable h = x;
  for (int l = 0; l < kLayers; ++l) h = T::tanh(h) * T::sum(h);
  auto f = fuse({h});
  CHECK(f.clusters.size() == kLayers + 1);
  CHECK(f.cluster_of.at(h.node().get()) == kLayers);
}
