#include "compiler/passes/rewrite.hpp"

#include "compiler/ir/graph.hpp"
#include "compiler/ir/same_computation.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

namespace graphjit::compiler::passes {

namespace {

// How many rewrites of one node, and how many rounds, apply_rules allows
// before it calls the rules a loop. Both grow with the graph: a legitimate
// chain of rewrites can walk all of it (length_from_inputs moves x.shape(d)
// one node towards the inputs per rewrite), so a fixed bound rejected deep
// graphs. Rules that turn a node back into itself are caught at once, long
// before either bound.
std::size_t rewrite_limit(std::size_t graph_size) { return graph_size + 100; }

using Mapped = std::unordered_map<const ir::Node*, ir::NodeRef>;

// The walk every pass shares: `order` inputs first, each node rebuilt on what
// its inputs became (when any changed), then visit(rebuilt, original) says
// what takes its place, recorded in `mapped`.
template <class Visit>
Graph rewrite_in_order(const std::vector<ir::NodeRef>& order, const Graph& roots, Mapped& mapped, Visit&& visit) {
  mapped.reserve(mapped.size() + order.size());
  for (const ir::NodeRef& node : order) {
    bool inputs_changed = false;
    for (const ir::NodeRef& in : node->inputs) inputs_changed = inputs_changed || mapped.at(in.get()) != in;
    ir::NodeRef rebuilt = node;
    if (inputs_changed) {
      std::vector<ir::NodeRef> inputs;
      inputs.reserve(node->inputs.size());
      for (const ir::NodeRef& in : node->inputs) inputs.push_back(mapped.at(in.get()));
      rebuilt = rebuild_keeping_type(*node, std::move(inputs));
    }
    ir::NodeRef result = visit(rebuilt, *node);
    mapped[node.get()] = std::move(result);
  }
  Graph result;
  for (const ir::NodeRef& root : roots) result.push_back(mapped.at(root.get()));
  return result;
}

// The users of each node of the graph apply_rules is rewriting, and every
// count use_count() answered in the current round: a rule that read a count
// which has since changed may decide differently, so only then does another
// round run. Per thread, so functions can be compiled concurrently.
using UseCounts = std::unordered_map<const ir::Node*, int>;
struct UseCountState {
  UseCounts counts;
  std::vector<std::pair<ir::NodeRef, int>> answered;
};
thread_local UseCountState* current_uses = nullptr;

UseCounts count_uses(const std::vector<ir::NodeRef>& order, const Graph& roots) {
  UseCounts uses;
  uses.reserve(order.size());
  for (const ir::NodeRef& node : order)
    for (const ir::NodeRef& in : node->inputs) ++uses[in.get()];
  for (const ir::NodeRef& root : roots) ++uses[root.get()];
  return uses;
}

// Whether a count use_count() answered is no longer the number of users of
// that node in the graph counted by `now` (nodes no longer in it do not matter).
bool answers_changed(const UseCountState& state, const UseCounts& now) {
  for (const auto& [node, answered] : state.answered) {
    auto it = now.find(node.get());
    if (it != now.end() && it->second != answered) return true;
  }
  return false;
}

// Makes `uses` what use_count() reads for the lifetime of this object.
class UseCountScope {
 public:
  explicit UseCountScope(UseCountState& uses) : saved_(current_uses) { current_uses = &uses; }
  ~UseCountScope() { current_uses = saved_; }
  UseCountScope(const UseCountScope&) = delete;
  UseCountScope& operator=(const UseCountScope&) = delete;

 private:
  UseCountState* saved_;
};

struct Match {
  ir::NodeRef replacement;  // nullptr: no rule applies
  const char* rule = nullptr;
};

Match first_match(const ir::NodeRef& node, std::span<const Rule> rules) {
  for (const Rule& rule : rules) {
    ir::NodeRef replacement = rule.apply(node);
    if (!replacement) continue;
    if (replacement->type != node->type)
      throw std::logic_error(fmt::format("rewrite rule '{}' replaced {} ({}) with {} ({}); a rule must keep the type",
                                         rule.name, node->label(), node->type.str(), replacement->label(),
                                         replacement->type.str()));
    return {std::move(replacement), rule.name};
  }
  return {};
}

// One walk of apply_rules over the graph, inputs first. A node is settled
// when no rule applies to it any more: each node of the graph is rebuilt on
// its settled inputs and given to the rules until none fires; the nodes a
// replacement brings are settled before the rules see the replacement.
//
// What a replaced node became is remembered by its computation, so a rule
// that builds a node equal to one already rewritten this round gets the
// result at once. That keeps chains that walk the graph linear overall:
// length_from_inputs for h.shape(0) in every layer of a deep network meets,
// one layer down, the length the layer below already followed. Meeting a
// node whose own rewriting is still under way is a loop, reported with the
// rules that made it.
class Round {
 public:
  Round(std::span<const Rule> rules, UseCountState& uses, std::size_t limit)
      : rules_(rules), uses_(uses), limit_(limit) {}

  Graph run(const std::vector<ir::NodeRef>& order, const Graph& roots) {
    return rewrite_in_order(order, roots, settled_,
                            [&](const ir::NodeRef& rebuilt, const ir::Node& original) {
                              return settle(rebuilt, original);
                            });
  }
  bool fired() const { return fired_; }

 private:
  struct Step {
    ir::NodeRef replaced;
    const char* rule;
  };

  // What `node` (which stands for `original`) becomes once no rule applies.
  ir::NodeRef settle(ir::NodeRef node, const ir::Node& original) {
    std::vector<Step> chain;
    UnderWay mark(under_way_, node);
    for (;;) {
      Match match = first_match(node, rules_);
      if (!match.replacement) break;
      fired_ = true;
      if (chain.size() == limit_)
        throw std::logic_error(fmt::format(
            "rewrite rules keep replacing {} (last: {}, by rule '{}'): {} rewrites of one node, more than a graph "
            "of this size needs; two rules undo each other",
            original.label(), match.replacement->label(), match.rule, chain.size()));
      chain.push_back({node, match.rule});
      if (!node->inputs.empty()) outcome_.emplace(node, nullptr);  // under way (an earlier outcome is kept)
      mark.add(node);
      count_fresh_uses(match.replacement);
      ir::NodeRef replacement = with_settled_inputs(match.replacement);
      if (!replacement->inputs.empty())
        if (auto known = outcome_.find(replacement); known != outcome_.end()) {
          if (!known->second) report_loop(chain, replacement);
          replacement = known->second;
        }
      node = keep_name(original, std::move(replacement));
    }
    for (const Step& step : chain)
      if (!step.replaced->inputs.empty()) outcome_[step.replaced] = node;
    if (node.get() != &original) {
      keep(node);
      int& credited = uses_.counts[node.get()];
      credited = std::max(credited, uses_.counts[&original]);
    }
    settled_[node.get()] = node;
    return node;
  }

  // `replacement` on the settled form of the nodes under it that a rule has
  // just built (its other inputs are settled already).
  ir::NodeRef with_settled_inputs(const ir::NodeRef& replacement) {
    if (auto it = settled_.find(replacement.get()); it != settled_.end()) return it->second;
    std::vector<ir::NodeRef> inputs;
    bool changed = false;
    for (const ir::NodeRef& in : replacement->inputs) {
      inputs.push_back(settle_fresh(in));
      changed = changed || inputs.back() != in;
    }
    return changed ? rebuild_keeping_type(*replacement, std::move(inputs)) : replacement;
  }

  // A node a rule built, settled after the nodes under it. Recursion only
  // goes through such nodes, as deep as a rule's replacement.
  ir::NodeRef settle_fresh(const ir::NodeRef& node) {
    if (auto it = settled_.find(node.get()); it != settled_.end()) return it->second;
    // The rules would apply to it again inside what they replace it with, forever.
    if (under_way(node))
      throw std::logic_error(fmt::format("rewrite rules undo each other: {} is replaced by an expression that "
                                         "contains it again",
                                         node->label()));
    if (!node->inputs.empty())
      if (auto known = outcome_.find(node); known != outcome_.end()) return known->second;
    keep(node);
    ir::NodeRef rebuilt = with_settled_inputs(node);
    ir::NodeRef result = settle(rebuilt, *node);
    settled_[node.get()] = result;
    return result;
  }

  // Whether `node`, or a node computing the same, is being rewritten by a
  // settle() that has not returned.
  bool under_way(const ir::NodeRef& node) const {
    if (under_way_.count(node.get())) return true;
    if (node->inputs.empty()) return false;
    auto it = outcome_.find(node);
    return it != outcome_.end() && !it->second;
  }

  // Marks nodes as under way for the lifetime of one settle().
  class UnderWay {
   public:
    UnderWay(std::unordered_set<const ir::Node*>& set, const ir::NodeRef& first) : set_(set) { add(first); }
    ~UnderWay() {
      for (const ir::Node* node : added_) set_.erase(node);
    }
    UnderWay(const UnderWay&) = delete;
    UnderWay& operator=(const UnderWay&) = delete;
    void add(const ir::NodeRef& node) {
      if (set_.insert(node.get()).second) added_.push_back(node.get());
    }

   private:
    std::unordered_set<const ir::Node*>& set_;
    std::vector<const ir::Node*> added_;
  };

  // Nodes the rules built key settled_ and the use counts by address; they
  // are kept for the round so that no later node reuses an address.
  void keep(const ir::NodeRef& node) { kept_.push_back(node); }

  bool is_fresh(const ir::NodeRef& node) const { return !settled_.count(node.get()) && !under_way(node); }

  // use_count() of a node a rule has just built: its users in the replacement.
  void count_fresh_uses(const ir::NodeRef& replacement) {
    std::vector<const ir::Node*> stack{replacement.get()};
    std::unordered_set<const ir::Node*> seen{replacement.get()};
    while (!stack.empty()) {
      const ir::Node* node = stack.back();
      stack.pop_back();
      for (const ir::NodeRef& in : node->inputs) {
        if (!is_fresh(in)) continue;
        keep(in);
        ++uses_.counts[in.get()];
        if (seen.insert(in.get()).second) stack.push_back(in.get());
      }
    }
  }

  // A node a rule just built stands for the user's named node it replaces:
  // it gets that name, so dumps and error messages still say "loss" after
  // the rewrite. A node that was already settled (x for x * 1) keeps its own.
  ir::NodeRef keep_name(const ir::Node& original, ir::NodeRef replacement) const {
    if (original.name.empty() || !replacement->name.empty() || settled_.count(replacement.get())) return replacement;
    // The replacement is the rule's own fresh node, referenced from nowhere
    // else, so a named copy (same id) takes its place.
    auto named = std::make_shared<ir::Node>(*replacement);
    named->name = original.name;
    return named;
  }

  [[noreturn]] static void report_loop(const std::vector<Step>& chain, const ir::NodeRef& again) {
    std::size_t first = 0;
    while (first < chain.size() && !ir::SameComputation{}(chain[first].replaced, again)) ++first;
    if (first == chain.size())
      throw std::logic_error(fmt::format("rewrite rules undo each other: rule '{}' rebuilt {}, which is still being "
                                         "rewritten",
                                         chain.back().rule, again->label()));
    std::vector<std::string> rules;
    for (std::size_t i = first; i < chain.size(); ++i) rules.push_back(fmt::format("'{}'", chain[i].rule));
    throw std::logic_error(fmt::format("rewrite rules undo each other: {} turn {} back into itself",
                                       fmt::join(rules, " then "), chain[first].replaced->label()));
  }

  std::span<const Rule> rules_;
  UseCountState& uses_;
  std::size_t limit_;
  bool fired_ = false;
  // Every node of the graph and every node a rule built, once settled -> what
  // it became (a settled node maps to itself).
  Mapped settled_;
  // Each node a rule replaced, by computation -> what it finally became;
  // nullptr while that is still being worked out.
  std::unordered_map<ir::NodeRef, ir::NodeRef, ir::ComputationHash, ir::SameComputation> outcome_;
  std::unordered_set<const ir::Node*> under_way_;
  std::vector<ir::NodeRef> kept_;
};

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
  auto it = current_uses->counts.find(n.get());
  const int count = it == current_uses->counts.end() ? 1 : it->second;
  current_uses->answered.emplace_back(n, count);
  return count;
}

Graph rewrite_bottom_up(const Graph& roots,
                        const std::function<ir::NodeRef(const ir::NodeRef& rebuilt, const ir::Node& original)>& visit) {
  Mapped mapped;
  return rewrite_in_order(ir::toposort(roots), roots, mapped, visit);
}

Graph apply_rules(const Graph& roots, std::span<const Rule> rules) {
  Graph current = roots;
  std::vector<ir::NodeRef> order = ir::toposort(current);
  const std::size_t limit = rewrite_limit(order.size());
  UseCountState uses{count_uses(order, current), {}};
  for (std::size_t round = 0; round < limit; ++round) {
    Round walk(rules, uses, limit);
    Graph next;
    {
      UseCountScope scope(uses);
      next = walk.run(order, current);
    }
    if (!walk.fired()) return current;
    // Every node of `next` is settled; the rules could only decide otherwise
    // in another round if a count of users they read has changed.
    order = ir::toposort(next);
    UseCounts counts = count_uses(order, next);
    current = std::move(next);
    if (!answers_changed(uses, counts)) return current;
    uses = {std::move(counts), {}};
  }
  throw std::logic_error(fmt::format("rewrite rules did not reach a fixpoint in {} rounds; two rules undo each other",
                                     limit));
}

}  // namespace graphjit::compiler::passes
