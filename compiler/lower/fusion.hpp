// Fusion: which elementwise nodes run together as one loop nest, and which
// reductions are computed in those loops (Glow's data-parallel fusion, with
// Theano's rule that only dims declared broadcastable broadcast).
//
// A cluster holds elementwise nodes of one broadcast pattern that are
// connected through their inputs. A node joins a cluster that computes one of
// its inputs unless another of its inputs depends on that cluster through a
// node outside it (a reduction of it, a gemm on its output): joining would
// make the cluster wait for itself. A Sum/Prod/Max/Min of a cluster member
// of the cluster's pattern is computed by the cluster, without storing its
// input unless something else reads it.
#pragma once

#include "compiler/codegen/cluster.hpp"

#include <unordered_map>
#include <vector>

namespace graphjit::compiler::lower {

struct Fusion {
  std::vector<codegen::Cluster> clusters;
  // For every node a cluster computes (members and reductions): its cluster.
  std::unordered_map<const ir::Node*, std::size_t> cluster_of;
};

// `order` is the program's nodes, inputs first; `roots` its outputs and update
// values. With `merge` false (the pass "fusion" excluded) every node gets a
// kernel of its own.
Fusion fuse(const std::vector<ir::NodeRef>& order, const std::vector<ir::NodeRef>& roots, bool merge = true);

}  // namespace graphjit::compiler::lower
