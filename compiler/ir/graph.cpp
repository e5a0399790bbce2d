#include "compiler/ir/graph.hpp"

namespace graphjit::ir {

std::vector<NodeRef> toposort(const std::vector<NodeRef>& outputs) {
  std::vector<NodeRef> order;
  std::unordered_set<const Node*> done;
  // Iterative post-order: graphs of deep models would overflow a recursive walk.
  std::vector<std::pair<NodeRef, std::size_t>> stack;
  for (const NodeRef& out : outputs) {
    if (!out || done.count(out.get())) continue;
    stack.emplace_back(out, 0);
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      if (next < node->inputs.size()) {
        const NodeRef& in = node->inputs[next++];
        if (!done.count(in.get())) stack.emplace_back(in, 0);
        continue;
      }
      if (done.insert(node.get()).second) order.push_back(node);
      stack.pop_back();
    }
  }
  return order;
}

std::unordered_set<const Node*> ancestors(const std::vector<NodeRef>& outputs) {
  std::unordered_set<const Node*> seen;
  for (const NodeRef& n : toposort(outputs)) seen.insert(n.get());
  return seen;
}

std::vector<NodeRef> clone_replace(const std::vector<NodeRef>& outputs, const Replacements& replace) {
  std::unordered_map<const Node*, NodeRef> mapped;
  for (const NodeRef& node : toposort(outputs)) {
    if (auto it = replace.find(node.get()); it != replace.end()) {
      mapped[node.get()] = it->second;
      continue;
    }
    std::vector<NodeRef> inputs;
    bool changed = false;
    for (const NodeRef& in : node->inputs) {
      inputs.push_back(mapped.at(in.get()));
      changed = changed || inputs.back() != in;
    }
    mapped[node.get()] = changed ? rebuild(*node, std::move(inputs)) : node;
  }
  std::vector<NodeRef> result;
  for (const NodeRef& out : outputs) result.push_back(mapped.at(out.get()));
  return result;
}

}  // namespace graphjit::ir
