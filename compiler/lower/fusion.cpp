#include "compiler/lower/fusion.hpp"

#include "compiler/codegen/kernel_plan.hpp"
#include "compiler/ir/branch_guards.hpp"
#include "compiler/ir/op_info.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>

namespace graphjit::compiler::lower {

namespace {

using ir::NodeRef;
using ir::OpCode;

bool is_fusable_reduction(const ir::Node& n) { return ir::op_info(n.op).fused_reduction.has_value(); }

// The program with every cluster contracted to one vertex: a vertex per
// cluster and per node outside any cluster, an edge from each vertex to the
// vertices it reads. Fusion keeps it acyclic by asking, before a node joins a
// cluster, whether an input outside the cluster reaches the cluster.
//
// A cluster gains edges as it takes in nodes, so reachability changes while
// fusion runs. Every vertex keeps a level above the levels of all it reads;
// a vertex at or below the target's level cannot reach the target, which cuts
// the search to the vertices between the two levels. Raising a cluster's level
// when it gains an edge raises its readers' in turn. (Before, every node kept
// the set of all clusters it depended on and each test walked the whole
// cluster graph: quadratic, seconds for a 256-layer MLP's train step.)
class ContractedGraph {
 public:
  std::size_t add_vertex() {
    level_.push_back(0);
    reads_.emplace_back();
    readers_.emplace_back();
    seen_.push_back(0);
    return level_.size() - 1;
  }

  void add_edge(std::size_t from, std::size_t to) {
    if (from == to) return;
    std::vector<std::size_t>& reads = reads_[from];
    if (std::find(reads.begin(), reads.end(), to) != reads.end()) return;
    reads.push_back(to);
    readers_[to].push_back(from);
    raise_above(from, level_[to]);
  }

  // Whether `target` is `from` or reachable from it.
  bool reaches(std::size_t from, std::size_t target) {
    ++stamp_;
    std::vector<std::size_t> stack{from};
    seen_[from] = stamp_;
    while (!stack.empty()) {
      const std::size_t v = stack.back();
      stack.pop_back();
      if (v == target) return true;
      for (std::size_t w : reads_[v])
        if (seen_[w] != stamp_ && (w == target || level_[w] > level_[target])) {
          seen_[w] = stamp_;
          stack.push_back(w);
        }
    }
    return false;
  }

 private:
  // Keeps level(v) > level(w) for every edge v -> w after v's level rises.
  void raise_above(std::size_t v, std::uint32_t floor) {
    if (level_[v] > floor) return;
    level_[v] = floor + 1;
    std::vector<std::size_t> stack{v};
    while (!stack.empty()) {
      const std::size_t u = stack.back();
      stack.pop_back();
      for (std::size_t r : readers_[u])
        if (level_[r] <= level_[u]) {
          level_[r] = level_[u] + 1;
          stack.push_back(r);
        }
    }
  }

  std::vector<std::uint32_t> level_;
  std::vector<std::vector<std::size_t>> reads_, readers_;
  std::vector<std::uint64_t> seen_;  // == stamp_: visited by the current search
  std::uint64_t stamp_ = 0;
};

// A member of a cluster: an elementwise node the cluster computes (a
// reduction the cluster computes is the cluster's output, not a member).
std::optional<std::size_t> member_of(const Fusion& fusion, const ir::Node* n) {
  auto it = fusion.cluster_of.find(n);
  if (it == fusion.cluster_of.end() || ir::op_info(n->op).kind != ir::OpKind::Elemwise) return std::nullopt;
  return it->second;
}

// Places the program's nodes into clusters one by one, inputs first.
class ClusterBuilder {
 public:
  ClusterBuilder(bool merge, ir::BranchGuards guards) : merge_(merge), guards_(std::move(guards)) {}

  void place(const NodeRef& node) {
    std::optional<std::size_t> home;
    if (ir::op_info(node->op).kind == ir::OpKind::Elemwise) {
      home = home_for_elemwise(*node);
      fusion_.clusters[*home].nodes.push_back(node);
    } else if (is_fusable_reduction(*node)) {
      home = home_for_reduction(*node);
      fusion_.clusters[*home].reductions.push_back(node);
    }
    if (home) {
      for (const NodeRef& in : node->inputs) graph_.add_edge(cluster_vertex_[*home], vertex_of_.at(in.get()));
      fusion_.cluster_of[node.get()] = *home;
      vertex_of_[node.get()] = cluster_vertex_[*home];
    } else {
      const std::size_t v = graph_.add_vertex();
      for (const NodeRef& in : node->inputs) graph_.add_edge(v, vertex_of_.at(in.get()));
      vertex_of_[node.get()] = v;
    }
  }

  Fusion take() && { return std::move(fusion_); }

 private:
  // The first input's cluster the node can join, else a new cluster.
  std::size_t home_for_elemwise(const ir::Node& node) {
    for (const NodeRef& in : node.inputs) {
      auto c = member_of(fusion_, in.get());
      if (merge_ && c && pattern_[*c] == node.type.broadcastable && cluster_guard_[*c] == guard_of(node) &&
          can_join(node, *c))
        return *c;
    }
    return new_cluster(node.type.broadcastable, node);
  }

  // A reduction is computed by the loop of its input's cluster when the
  // cluster iterates the input's shape.
  std::size_t home_for_reduction(const ir::Node& node) {
    const NodeRef& in = node.inputs[0];
    auto c = member_of(fusion_, in.get());
    if (merge_ && c && pattern_[*c] == in->type.broadcastable && cluster_guard_[*c] == guard_of(node)) return *c;
    return new_cluster(in->type.broadcastable, node);
  }

  // Whether `n` can be computed inside cluster c: every input is a member of
  // c, or independent of c (else c would wait for itself). A reduction of c
  // is c's own vertex, so a node reading it never joins c.
  bool can_join(const ir::Node& n, std::size_t c) {
    for (const NodeRef& in : n.inputs)
      if (member_of(fusion_, in.get()) != c && graph_.reaches(vertex_of_.at(in.get()), cluster_vertex_[c]))
        return false;
    return true;
  }

  // A kernel runs whole or not at all, so it holds nodes of one lazy-branch guard.
  ir::Guard guard_of(const ir::Node& n) const {
    auto g = guards_.find(&n);
    return g == guards_.end() ? ir::Guard{} : g->second;
  }

  std::size_t new_cluster(const std::vector<bool>& broadcastable, const ir::Node& first) {
    fusion_.clusters.emplace_back();
    cluster_guard_.push_back(guard_of(first));
    pattern_.push_back(broadcastable);
    cluster_vertex_.push_back(graph_.add_vertex());
    return fusion_.clusters.size() - 1;
  }

  bool merge_;
  ir::BranchGuards guards_;
  std::vector<ir::Guard> cluster_guard_;  // per cluster
  Fusion fusion_;
  std::vector<std::vector<bool>> pattern_;  // per cluster: the broadcast pattern of its members
  ContractedGraph graph_;
  std::vector<std::size_t> cluster_vertex_;                       // per cluster
  std::unordered_map<const ir::Node*, std::size_t> vertex_of_;  // every node seen: its cluster's vertex or its own
};

// The values something outside their cluster reads: the program's roots, and
// every input of a node that is not a member of the node's own cluster.
std::unordered_set<const ir::Node*> read_outside_cluster(const Fusion& fusion, const std::vector<NodeRef>& order,
                                                         const std::vector<NodeRef>& roots) {
  std::unordered_set<const ir::Node*> needed;
  for (const NodeRef& r : roots) needed.insert(r.get());
  for (const NodeRef& node : order) {
    auto home = fusion.cluster_of.find(node.get());
    for (const NodeRef& in : node->inputs) {
      auto in_home = member_of(fusion, in.get());
      const bool same = home != fusion.cluster_of.end() && in_home == home->second;
      if (!same) needed.insert(in.get());
    }
  }
  return needed;
}

// Each cluster's interface: inputs are what members and reductions read from
// outside (compiled-in constants excepted); outputs are members read outside
// (reductions are outputs by nature).
void fill_interfaces(Fusion& fusion, const std::unordered_set<const ir::Node*>& read_outside) {
  for (std::size_t c = 0; c < fusion.clusters.size(); ++c) {
    codegen::Cluster& cluster = fusion.clusters[c];
    cluster.name = "fused" + std::to_string(c);
    std::unordered_set<const ir::Node*> seen;
    auto add_input = [&](const NodeRef& in) {
      if (member_of(fusion, in.get()) == c || codegen::is_compiled_in_constant(*in) || !seen.insert(in.get()).second)
        return;
      cluster.inputs.push_back(in);
    };
    for (const NodeRef& n : cluster.nodes) {
      for (const NodeRef& in : n->inputs) add_input(in);
      if (read_outside.count(n.get())) cluster.outputs.push_back(n);
    }
    for (const NodeRef& r : cluster.reductions) add_input(r->inputs[0]);
  }
}

}  // namespace

Fusion fuse(const std::vector<NodeRef>& order, const std::vector<NodeRef>& roots, bool merge) {
  ClusterBuilder builder(merge, ir::branch_guards(order, roots));
  for (const NodeRef& node : order) builder.place(node);
  Fusion fusion = std::move(builder).take();
  fill_interfaces(fusion, read_outside_cluster(fusion, order, roots));
  return fusion;
}

}  // namespace graphjit::compiler::lower
