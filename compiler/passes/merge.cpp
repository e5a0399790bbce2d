// Merge: hash-consing. Two nodes with the same op, the same attrs and the same
// inputs (after merging those) compute the same value, so one is kept and the
// other's users read it. Constants merge when dtype, shape and bits are equal
// (bits, so that 0.0 and -0.0 stay apart). Inputs never merge; shared nodes
// merge when they hold the same shared variable. Ops with a side effect
// (Print) never merge.
#include "compiler/passes/passes.hpp"

#include "compiler/ir/same_computation.hpp"
#include "compiler/ir/op_info.hpp"
#include "compiler/passes/pattern.hpp"

#include <cstring>
#include <functional>
#include <unordered_map>

namespace graphjit::compiler::passes {

namespace {

void mix(std::size_t& seed, std::size_t value) { seed ^= value + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2); }

// The constant's elements in row-major order, as bytes.
std::vector<unsigned char> bytes_of(const Tensor& t) {
  const Tensor c = t.contiguous();
  std::vector<unsigned char> bytes(c.nbytes());
  if (!bytes.empty()) std::memcpy(bytes.data(), c.raw_data(), bytes.size());
  return bytes;
}

class Merger {
 public:
  // The node equal to `node` seen before, or `node` itself, now remembered.
  ir::NodeRef canonical(const ir::NodeRef& node) {
    // Each print the user wrote prints, even when two print the same thing.
    if (is(node, ir::OpCode::Input) || ir::op_info(node->op).side_effect) return node;
    std::vector<ir::NodeRef>& bucket = buckets_[hash(*node)];
    for (const ir::NodeRef& other : bucket)
      if (same(*node, *other)) return other;
    bucket.push_back(node);
    return node;
  }

 private:
  std::size_t hash(const ir::Node& n) {
    std::size_t h = static_cast<std::size_t>(n.op);
    switch (n.op) {
      case ir::OpCode::Constant: {
        mix(h, static_cast<std::size_t>(n.value.dtype()));
        for (std::int64_t d : n.value.shape()) mix(h, std::hash<std::int64_t>{}(d));
        const std::vector<unsigned char>& bytes = constant_bytes(n);
        mix(h, std::hash<std::string_view>{}(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size())));
        return h;
      }
      case ir::OpCode::Shared: mix(h, std::hash<const void*>{}(n.shared.get())); return h;
      default: return ir::hash_computation(n);
    }
  }

  bool same(const ir::Node& a, const ir::Node& b) {
    if (a.op != b.op || a.type != b.type) return false;
    switch (a.op) {
      case ir::OpCode::Constant:
        return a.value.dtype() == b.value.dtype() && a.value.shape() == b.value.shape() &&
               constant_bytes(a) == constant_bytes(b);
      case ir::OpCode::Shared: return a.shared == b.shared;
      default: return ir::same_computation(a, b);
    }
  }

  const std::vector<unsigned char>& constant_bytes(const ir::Node& n) {
    auto [it, fresh] = bytes_.try_emplace(&n);
    if (fresh) it->second = bytes_of(n.value);
    return it->second;
  }

  std::unordered_map<std::size_t, std::vector<ir::NodeRef>> buckets_;
  std::unordered_map<const ir::Node*, std::vector<unsigned char>> bytes_;
};

}  // namespace

Graph merge(const Graph& roots) {
  Merger merger;
  return rewrite_bottom_up(roots, [&](const ir::NodeRef& rebuilt, const ir::Node&) { return merger.canonical(rebuilt); });
}

}  // namespace graphjit::compiler::passes
