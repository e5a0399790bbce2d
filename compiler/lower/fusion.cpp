#include "compiler/lower/fusion.hpp"

#include "compiler/codegen/kernel_plan.hpp"
#include "compiler/ir/op_info.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_set>

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

}  // namespace

Fusion fuse(const std::vector<NodeRef>& order, const std::vector<NodeRef>& roots, bool merge) {
  Fusion fusion;
  std::vector<std::vector<bool>> pattern;  // per cluster: the broadcast pattern of its members
  ContractedGraph graph;
  std::vector<std::size_t> cluster_vertex;                       // per cluster
  std::unordered_map<const ir::Node*, std::size_t> vertex_of;  // every node seen: its cluster's vertex or its own

  auto member_of = [&](const ir::Node* n) -> std::optional<std::size_t> {
    auto it = fusion.cluster_of.find(n);
    if (it == fusion.cluster_of.end() || ir::op_info(n->op).kind != ir::OpKind::Elemwise) return std::nullopt;
    return it->second;
  };
  // Whether `n` can be computed inside cluster c: every input is a member of
  // c, or independent of c (else c would wait for itself). A reduction of c
  // is c's own vertex, so a node reading it never joins c.
  auto can_join = [&](const ir::Node& n, std::size_t c) {
    for (const NodeRef& in : n.inputs)
      if (member_of(in.get()) != c && graph.reaches(vertex_of.at(in.get()), cluster_vertex[c])) return false;
    return true;
  };
  auto join = [&](const ir::Node& n, std::size_t c) {
    for (const NodeRef& in : n.inputs) graph.add_edge(cluster_vertex[c], vertex_of.at(in.get()));
  };
  auto new_cluster = [&](const std::vector<bool>& bcast) {
    fusion.clusters.emplace_back();
    pattern.push_back(bcast);
    cluster_vertex.push_back(graph.add_vertex());
    return fusion.clusters.size() - 1;
  };

  for (const NodeRef& node : order) {
    std::optional<std::size_t> home;
    const ir::OpKind kind = ir::op_info(node->op).kind;
    if (kind == ir::OpKind::Elemwise) {
      for (const NodeRef& in : node->inputs) {
        auto c = member_of(in.get());
        if (merge && c && pattern[*c] == node->type.broadcastable && can_join(*node, *c)) {
          home = *c;
          break;
        }
      }
      if (!home) home = new_cluster(node->type.broadcastable);
      join(*node, *home);
      fusion.clusters[*home].nodes.push_back(node);
    } else if (is_fusable_reduction(*node)) {
      const NodeRef& in = node->inputs[0];
      auto c = member_of(in.get());
      if (merge && c && pattern[*c] == in->type.broadcastable) home = *c;
      else home = new_cluster(in->type.broadcastable);
      join(*node, *home);
      fusion.clusters[*home].reductions.push_back(node);
    }
    if (home) {
      fusion.cluster_of[node.get()] = *home;
      vertex_of[node.get()] = cluster_vertex[*home];
    } else {
      const std::size_t v = graph.add_vertex();
      for (const NodeRef& in : node->inputs) graph.add_edge(v, vertex_of.at(in.get()));
      vertex_of[node.get()] = v;
    }
  }

  // Inputs: what members and reductions read from outside. Outputs: members
  // read outside the cluster (reductions are outputs by nature).
  std::unordered_set<const ir::Node*> needed_outside;
  for (const NodeRef& r : roots) needed_outside.insert(r.get());
  for (const NodeRef& node : order) {
    auto home = fusion.cluster_of.find(node.get());
    for (const NodeRef& in : node->inputs) {
      auto in_home = fusion.cluster_of.find(in.get());
      const bool same = home != fusion.cluster_of.end() && in_home != fusion.cluster_of.end() &&
                        home->second == in_home->second && member_of(in.get());
      if (!same) needed_outside.insert(in.get());
    }
  }
  for (std::size_t c = 0; c < fusion.clusters.size(); ++c) {
    codegen::Cluster& cluster = fusion.clusters[c];
    cluster.name = "fused" + std::to_string(c);
    std::unordered_set<const ir::Node*> seen;
    auto add_input = [&](const NodeRef& in) {
      if (member_of(in.get()) == c || codegen::is_compiled_in_constant(*in) || !seen.insert(in.get()).second) return;
      cluster.inputs.push_back(in);
    };
    for (const NodeRef& n : cluster.nodes) {
      for (const NodeRef& in : n->inputs) add_input(in);
      if (needed_outside.count(n.get())) cluster.outputs.push_back(n);
    }
    for (const NodeRef& r : cluster.reductions) add_input(r->inputs[0]);
  }
  return fusion;
}

}  // namespace graphjit::compiler::lower
