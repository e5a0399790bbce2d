#include "compiler/lower/fusion.hpp"

#include "compiler/codegen/kernel_plan.hpp"
#include "compiler/ir/op_info.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <set>
#include <unordered_set>

namespace graphjit::compiler::lower {

namespace {

using ir::NodeRef;
using ir::OpCode;

bool is_fusable_reduction(const ir::Node& n) { return ir::op_info(n.op).fused_reduction.has_value(); }

}  // namespace

Fusion fuse(const std::vector<NodeRef>& order, const std::vector<NodeRef>& roots, bool merge) {
  Fusion fusion;
  std::vector<std::vector<bool>> pattern;  // per cluster: the broadcast pattern of its members
  // The clusters each node depends on, its own included.
  std::unordered_map<const ir::Node*, std::set<std::size_t>> depends;

  // Per cluster: the clusters its members read from. A cluster's
  // dependencies grow as it takes in nodes, so "does x depend on cluster c"
  // follows these edges at the time of asking.
  std::vector<std::set<std::size_t>> cluster_reads;
  auto reaches = [&](const std::set<std::size_t>& from, std::size_t target) {
    std::vector<std::size_t> stack(from.begin(), from.end());
    std::set<std::size_t> seen(from.begin(), from.end());
    while (!stack.empty()) {
      const std::size_t c = stack.back();
      stack.pop_back();
      if (c == target) return true;
      for (std::size_t d : cluster_reads[c])
        if (seen.insert(d).second) stack.push_back(d);
    }
    return false;
  };
  auto member_of = [&](const ir::Node* n) -> std::optional<std::size_t> {
    auto it = fusion.cluster_of.find(n);
    if (it == fusion.cluster_of.end() || ir::op_info(n->op).kind != ir::OpKind::Elemwise) return std::nullopt;
    return it->second;
  };
  // Whether `n` can be computed inside cluster c: every input is a member of
  // c, or independent of c (else c would wait for itself).
  auto can_join = [&](const ir::Node& n, std::size_t c) {
    for (const NodeRef& in : n.inputs)
      if (member_of(in.get()) != c && reaches(depends[in.get()], c)) return false;
    return true;
  };
  auto join = [&](const ir::Node& n, std::size_t c) {
    for (const NodeRef& in : n.inputs)
      if (member_of(in.get()) != c)
        for (std::size_t d : depends[in.get()])
          if (d != c) cluster_reads[c].insert(d);
  };
  auto new_cluster = [&](const std::vector<bool>& bcast) {
    fusion.clusters.emplace_back();
    pattern.push_back(bcast);
    cluster_reads.emplace_back();
    return fusion.clusters.size() - 1;
  };

  for (const NodeRef& node : order) {
    std::set<std::size_t>& deps = depends[node.get()];
    for (const NodeRef& in : node->inputs) deps.insert(depends[in.get()].begin(), depends[in.get()].end());

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
      deps.insert(*home);
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
