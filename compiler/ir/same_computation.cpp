#include "compiler/ir/same_computation.hpp"

#include <functional>

namespace graphjit::ir {

namespace {

void mix(std::size_t& seed, std::size_t value) { seed ^= value + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2); }

std::size_t hash_attrs(const Attrs& a) {
  std::size_t h = 0;
  for (int axis : a.axes) mix(h, std::hash<int>{}(axis));
  mix(h, a.keepdims);
  for (std::int64_t i : a.ints) mix(h, std::hash<std::int64_t>{}(i));
  mix(h, static_cast<std::size_t>(a.dtype));
  for (const IndexEntry& e : a.index)
    mix(h, static_cast<std::size_t>(e.kind) * 8 + e.has_start * 4 + e.has_stop * 2 + e.has_step);
  mix(h, a.set_instead_of_inc);
  mix(h, a.trans_a * 2 + a.trans_b);
  // std::hash<double>, not the bits: attrs compare 0.0 and -0.0 equal, so they must hash equal.
  mix(h, std::hash<double>{}(a.alpha));
  mix(h, std::hash<double>{}(a.beta));
  return h;
}

}  // namespace

std::size_t hash_computation(const Node& n) {
  std::size_t h = static_cast<std::size_t>(n.op);
  mix(h, hash_attrs(n.attrs));
  for (const NodeRef& in : n.inputs) mix(h, std::hash<const void*>{}(in.get()));
  return h;
}

bool same_computation(const Node& a, const Node& b) {
  return a.op == b.op && a.type == b.type && a.attrs == b.attrs && a.inputs == b.inputs;
}

}  // namespace graphjit::ir
