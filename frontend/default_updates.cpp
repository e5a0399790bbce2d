// gather_default_updates (frontend/default_updates.hpp).
#include "frontend/default_updates.hpp"

#include <graphjit/random_streams.hpp>

#include "compiler/ir/graph.hpp"

#include <unordered_set>

namespace graphjit {

std::vector<std::pair<SharedVariable, Variable>> gather_default_updates(
    const std::vector<Variable>& roots, const std::function<bool(const SharedState*)>& skip) {
  std::vector<std::pair<SharedVariable, Variable>> found;
  std::unordered_set<const SharedState*> seen;
  std::vector<ir::NodeRef> frontier;
  for (const Variable& v : roots)
    if (v.defined()) frontier.push_back(v.node());
  while (!frontier.empty()) {
    std::vector<ir::NodeRef> added;
    for (const ir::NodeRef& n : ir::toposort(frontier)) {
      if (n->op != ir::OpCode::Shared || !seen.insert(n->shared.get()).second || skip(n->shared.get())) continue;
      if (std::optional<Variable> update = default_update(n->shared.get())) {
        found.emplace_back(SharedVariable(n, n->shared), *update);
        added.push_back(update->node());
      }
    }
    frontier = std::move(added);
  }
  return found;
}

}  // namespace graphjit
