#include "compiler/ir/branch_guards.hpp"

#include <optional>
#include <unordered_set>

namespace graphjit::ir {

BranchGuards branch_guards(const std::vector<NodeRef>& order, const std::vector<NodeRef>& roots) {
  BranchGuards guards;
  bool any = false;
  for (const NodeRef& n : order) any = any || n->op == OpCode::IfElse;
  if (!any) return guards;

  // Consumers first: each node's guard is settled before its inputs read it.
  // nullopt: not reached yet; an empty Guard: always needed.
  std::unordered_map<const Node*, std::optional<Guard>> need;
  auto meet = [&](const Node* n, const Guard& g) {
    auto& slot = need[n];
    if (!slot) slot = g;
    else if (*slot != g) slot = Guard{};
  };
  for (const NodeRef& r : roots) meet(r.get(), Guard{});
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const Node& n = **it;
    const std::optional<Guard>& mine = need[&n];
    if (!mine) continue;  // not needed at all
    const Guard own = *mine;
    for (std::size_t i = 0; i < n.inputs.size(); ++i) {
      if (n.op == OpCode::IfElse && i > 0) {
        Guard branch{{n.inputs[0].get(), i == 1}};
        branch.insert(branch.end(), own.begin(), own.end());
        meet(n.inputs[i].get(), branch);
      } else {
        meet(n.inputs[i].get(), own);
      }
    }
  }
  for (const auto& [node, g] : need)
    if (g && !g->empty()) guards.emplace(node, *g);
  return guards;
}

}  // namespace graphjit::ir
