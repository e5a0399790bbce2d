// Theano's Function.copy: the same computation recompiled, reading and
// updating either the same shared variables or ones of its own (swap, deep
// copies), with or without its updates. The program is taken from before the
// rewrites (givens already substituted), so the copy is optimized afresh for
// its own leaves; identical kernels come from the kernel cache.
#include <graphjit/errors.hpp>
#include <graphjit/function.hpp>

#include "compiler/ir/graph.hpp"
#include "frontend/function_impl.hpp"

#include <fmt/format.h>
#include <unordered_map>

namespace graphjit {

namespace {

using StateMap = std::unordered_map<const SharedState*, SharedVariable>;

// The new variable for each old one: the user's swap, then (own_shared) a
// deep copy of each variable not swapped. Checks that swapped variables
// belong to the function and have the same type.
StateMap replacement_variables(const Function::Impl& f, const Function::CopyOptions& options) {
  StateMap to;
  for (const auto& [from, into] : options.swap) {
    if (!from.defined() || !from.state() || !into.defined() || !into.state())
      throw FunctionError(fmt::format("{}: copy(swap): an entry is not a pair of shared variables", f.name));
    bool used = false;
    for (const SharedVariable& v : f.shared_variables) used = used || v.state() == from.state();
    if (!used)
      throw FunctionError(fmt::format("{}: copy(swap): '{}' is not a shared variable the function reads or updates",
                                      f.name, from.label()));
    if (from.dtype() != into.dtype() || from.broadcastable() != into.broadcastable())
      throw FunctionError(fmt::format("{}: copy(swap): '{}' has type {} but '{}' has type {}; they must match", f.name,
                                      from.label(), from.type_str(), into.label(), into.type_str()));
    if (!to.emplace(from.state().get(), into).second)
      throw FunctionError(fmt::format("{}: copy(swap): '{}' is swapped twice", f.name, from.label()));
  }
  if (options.own_shared)
    for (const SharedVariable& v : f.shared_variables)
      if (!to.count(v.state().get()))
        to.emplace(v.state().get(), shared(v.get_value(), v.name(), /*borrow=*/true, v.broadcastable()));
  return to;
}

}  // namespace

Function Function::copy() const { return copy(CopyOptions{}); }

Function Function::copy(const CopyOptions& options) const {
  const Impl& f = *impl_;
  const StateMap to = replacement_variables(f, options);
  compiler::Program program = f.original;
  ir::Replacements leaves;
  for (const ir::NodeRef& n : ir::toposort(program.outputs))
    if (n->op == ir::OpCode::Shared)
      if (auto it = to.find(n->shared.get()); it != to.end()) leaves[n.get()] = it->second.node();
  if (!leaves.empty()) program.outputs = ir::clone_replace(program.outputs, leaves);
  if (options.delete_updates) {
    program.outputs.resize(program.num_user_outputs);
    program.update_targets.clear();
  }
  std::vector<SharedVariable> targets;
  for (auto& target : program.update_targets) {
    SharedVariable user_handle;
    for (const SharedVariable& v : f.shared_variables)
      if (v.state() == target) user_handle = v;
    if (auto it = to.find(target.get()); it != to.end()) user_handle = it->second;
    target = user_handle.state();
    targets.push_back(user_handle);
  }

  auto impl = std::make_shared<Impl>();
  impl->name = options.name.empty() ? f.name + " copy" : fmt::format("function '{}'", options.name);
  impl->allow_input_downcast = f.allow_input_downcast;
  impl->defaults = f.defaults;
  impl->input_names = f.input_names;
  impl->borrow = f.borrow;
  impl->print_profile = f.print_profile;
  impl->compile_options = f.compile_options;
  impl->compile_options.name = options.name.empty() && !f.compile_options.name.empty()
                                   ? f.compile_options.name + "_copy"
                                   : options.name;
  compile_into(*impl, std::move(program), targets);
  return Function(std::move(impl));
}

std::vector<SharedVariable> Function::shared_variables() const { return impl_->shared_variables; }

}  // namespace graphjit
