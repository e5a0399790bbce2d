// Lazy branches (Theano's ifelse): which nodes run only when an IfElse takes
// one of its branches, so that executors skip them otherwise.
//
// A node's guard is the list of conditions under which it is needed: (the
// cond node of an IfElse, the value it must have), innermost first. A node
// read only through branch b of IfElse c gets c's cond with b, followed by
// c's own guard; a node read under different guards (or by an output) has
// none and always runs. Executors skip a guarded node when a listed cond was
// not computed (an outer branch was not taken) or has the other value. The
// reference evaluator and the schedule (build_steps, fusion) read the same
// table, so laziness means the same thing in every mode.
#pragma once

#include "compiler/ir/node.hpp"

#include <unordered_map>
#include <utility>
#include <vector>

namespace graphjit::ir {

using Guard = std::vector<std::pair<const Node*, bool>>;  // (cond, required truth value)
using BranchGuards = std::unordered_map<const Node*, Guard>;  // guarded nodes only

// `order`: the program's nodes, inputs first (toposort); `roots`: what it returns.
BranchGuards branch_guards(const std::vector<NodeRef>& order, const std::vector<NodeRef>& roots);

// Whether a guard holds, given a way to look up a computed value (an
// undefined Tensor when the cond was skipped). `guard` lists (cond, value)
// pairs, the cond named by node (Guard) or by the executor's slot.
template <class Pairs, class ValueOf> bool guard_holds(const Pairs& guard, ValueOf&& value_of) {
  for (const auto& [cond, wanted] : guard) {
    const Tensor v = value_of(cond);
    if (!v.defined() || (v.template item<double>() != 0) != wanted) return false;
  }
  return true;
}

}  // namespace graphjit::ir
