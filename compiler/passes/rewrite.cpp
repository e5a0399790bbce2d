#include "compiler/passes/rewrite.hpp"

#include "compiler/ir/graph.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <stdexcept>
#include <unordered_map>

namespace graphjit::compiler::passes {

namespace {

// Bounds that only a pair of rules undoing each other can reach.
constexpr int kMaxRounds = 100;
constexpr int kMaxRewritesPerNode = 100;

// The users of each node in the round apply_rules is running (per thread, so
// functions can be compiled concurrently).
using UseCounts = std::unordered_map<const ir::Node*, int>;
thread_local UseCounts* current_uses = nullptr;

UseCounts count_uses(const Graph& roots) {
  UseCounts uses;
  for (const ir::NodeRef& node : ir::toposort(roots))
    for (const ir::NodeRef& in : node->inputs) ++uses[in.get()];
  for (const ir::NodeRef& root : roots) ++uses[root.get()];
  return uses;
}

// Makes `uses` what use_count() reads for the lifetime of this object.
class UseCountScope {
 public:
  explicit UseCountScope(UseCounts& uses) : saved_(current_uses) { current_uses = &uses; }
  ~UseCountScope() { current_uses = saved_; }
  UseCountScope(const UseCountScope&) = delete;
  UseCountScope& operator=(const UseCountScope&) = delete;

 private:
  UseCounts* saved_;
};

ir::NodeRef first_match(const ir::NodeRef& node, std::span<const Rule> rules) {
  for (const Rule& rule : rules) {
    ir::NodeRef replacement = rule.apply(node);
    if (!replacement) continue;
    if (replacement->type != node->type)
      throw std::logic_error(fmt::format("rewrite rule '{}' replaced {} ({}) with {} ({}); a rule must keep the type",
                                         rule.name, node->label(), node->type.str(), replacement->label(),
                                         replacement->type.str()));
    return replacement;
  }
  return nullptr;
}

// A node a rule just built stands for the user's named node it replaces: it
// gets that name, so dumps and error messages still say "loss" after the
// rewrite. A node that was already in the graph (x for x * 1) keeps its own.
ir::NodeRef keep_name(const ir::Node& original, const ir::NodeRef& replaced, ir::NodeRef replacement) {
  if (original.name.empty() || !replacement->name.empty()) return replacement;
  if (ir::ancestors({replaced}).count(replacement.get())) return replacement;
  // The replacement is the rule's own fresh node, referenced from nowhere
  // else, so a named copy (same id) takes its place.
  auto named = std::make_shared<ir::Node>(*replacement);
  named->name = original.name;
  return named;
}

}  // namespace

ir::NodeRef rebuild_keeping_type(const ir::Node& node, std::vector<ir::NodeRef> inputs) {
  ir::NodeRef rebuilt = ir::rebuild(node, std::move(inputs));
  if (rebuilt->type == node.type) return rebuilt;
  if (rebuilt->type.dtype != node.type.dtype || rebuilt->type.ndim() != node.type.ndim())
    throw std::logic_error(fmt::format("rebuilding {} on rewritten inputs changed its type from {} to {}",
                                       node.label(), node.type.str(), rebuilt->type.str()));
  auto kept = std::const_pointer_cast<ir::Node>(rebuilt);  // fresh, so not shared yet
  kept->type = node.type;
  return kept;
}

int use_count(const ir::NodeRef& n) {
  if (current_uses == nullptr) return 1;
  auto it = current_uses->find(n.get());
  return it == current_uses->end() ? 1 : it->second;
}

Graph rewrite_bottom_up(const Graph& roots,
                        const std::function<ir::NodeRef(const ir::NodeRef& rebuilt, const ir::Node& original)>& visit) {
  std::unordered_map<const ir::Node*, ir::NodeRef> mapped;
  for (const ir::NodeRef& node : ir::toposort(roots)) {
    std::vector<ir::NodeRef> inputs;
    bool inputs_changed = false;
    for (const ir::NodeRef& in : node->inputs) {
      inputs.push_back(mapped.at(in.get()));
      inputs_changed = inputs_changed || inputs.back() != in;
    }
    mapped[node.get()] = visit(inputs_changed ? rebuild_keeping_type(*node, std::move(inputs)) : node, *node);
  }
  Graph result;
  for (const ir::NodeRef& root : roots) result.push_back(mapped.at(root.get()));
  return result;
}

Graph apply_rules(const Graph& roots, std::span<const Rule> rules) {
  Graph current = roots;
  for (int round = 0; round < kMaxRounds; ++round) {
    bool fired = false;
    UseCounts uses = count_uses(current);
    UseCountScope scope(uses);
    current = rewrite_bottom_up(current, [&](const ir::NodeRef& rebuilt, const ir::Node& original) {
      ir::NodeRef rewritten = rebuilt;
      for (int n = 0;; ++n) {
        ir::NodeRef replacement = first_match(rewritten, rules);
        if (!replacement) {
          if (rewritten.get() != &original) {
            int& credited = uses[rewritten.get()];
            credited = std::max(credited, uses[&original]);
          }
          return rewritten;
        }
        if (n == kMaxRewritesPerNode)
          throw std::logic_error(fmt::format("rewrite rules keep replacing {} (last: {}); two rules undo each other",
                                             original.label(), replacement->label()));
        rewritten = keep_name(original, rewritten, std::move(replacement));
        fired = true;
      }
    });
    if (!fired) return current;
  }
  throw std::logic_error(fmt::format("rewrite rules did not reach a fixpoint in {} rounds; two rules undo each other",
                                     kMaxRounds));
}

}  // namespace graphjit::compiler::passes
