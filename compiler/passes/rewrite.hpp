// Local rewrite rules and the engine that applies them to a whole graph.
//
// A rule looks at one node and either returns a replacement computing the same
// values with the same Type, or nullptr when it does not apply. Rules are
// plain functions, so a pass is just a named list of them (canonicalize.cpp,
// stabilize.cpp, gemm.cpp); apply_rules() does the walking, the rebuilding of
// users and the checking, once for all of them.
#pragma once

#include "compiler/ir/node.hpp"

#include <functional>
#include <span>
#include <vector>

namespace graphjit::compiler::passes {

// The roots of a program's graph: its outputs, then its update values.
using Graph = std::vector<ir::NodeRef>;

struct Rule {
  const char* name;  // what errors and comments call it
  ir::NodeRef (*apply)(const ir::NodeRef& node);
};

// `node` on new inputs, with node's Type. Replacements keep their Types, but
// the type rules of a few ops read their inputs' values (reshape and alloc
// call a dim broadcastable when its length is the constant 1), so a node
// rebuilt on a folded input could come out with a more specific Type than
// its users were built against; the original Type is still true, so it is
// kept. A different dtype or rank is a bug in a rewrite: std::logic_error.
ir::NodeRef rebuild_keeping_type(const ir::Node& node, std::vector<ir::NodeRef> inputs);

// Walks the graph inputs-first. Each node is rebuilt on its inputs' new
// versions (when any changed), then `visit(rebuilt, original)` says what takes
// its place. Returns the new roots. The walk every pass shares.
Graph rewrite_bottom_up(const Graph& roots,
                        const std::function<ir::NodeRef(const ir::NodeRef& rebuilt, const ir::Node& original)>& visit);

// While apply_rules runs: how many users `n` has in the graph being
// rewritten (outputs count as users). A rule that fuses an input into its
// own node checks this, so that an input other nodes also read is not
// computed twice. Approximate where rules replaced nodes in the same round
// (the replacement is credited with the replaced node's users); a node a
// rule just built counts its users inside that rule's replacement. Every
// answer is recorded: when one is no longer true at the end of a round,
// apply_rules runs another.
int use_count(const ir::NodeRef& n);

// Rewrites the graph bottom-up with `rules` until none applies anywhere: a
// node is first rebuilt on its (already rewritten) inputs, then given to the
// rules in order until none fires; the nodes a replacement brings are
// rewritten the same way before the rules see the replacement, and users see
// what their inputs became. One walk settles every node; another runs only
// when a count use_count() answered has changed since.
// A replacement whose Type differs from the node's is a bug in the rule and
// throws std::logic_error naming it; so do rules that undo each other (named,
// when they turn a node back into itself), and chains of rewrites longer
// than the graph could need. A new node that replaces a named node takes its
// name. Nodes no rule touches are shared with the input graph.
Graph apply_rules(const Graph& roots, std::span<const Rule> rules);

}  // namespace graphjit::compiler::passes
