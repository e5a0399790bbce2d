// theano.clone and Variable::eval: conveniences over clone_replace and function().
#include <graphjit/clone.hpp>
#include <graphjit/errors.hpp>
#include <graphjit/function.hpp>

#include "compiler/ir/graph.hpp"
#include "frontend/ops/op_support.hpp"

#include <fmt/format.h>

#include <unordered_set>

namespace graphjit {

std::vector<Variable> clone(const std::vector<Variable>& outputs,
                            const std::vector<std::pair<Variable, Variable>>& replace) {
  ir::Replacements map;
  for (const auto& [from, to] : replace) {
    if (!from.defined() || !to.defined()) throw TypeError("clone: a replace entry is an undefined Variable");
    if (from.dtype() != to.dtype() || from.ndim() != to.ndim())
      throw TypeError(fmt::format("clone: '{}' ({}) cannot be replaced by '{}' ({}): the types differ", from.label(),
                                  from.type_str(), to.label(), to.type_str()));
    map[from.node().get()] = to.node();
  }
  std::vector<ir::NodeRef> roots;
  for (const Variable& v : outputs) {
    if (!v.defined()) throw TypeError("clone: an output is an undefined Variable");
    roots.push_back(v.node());
  }
  std::vector<Variable> result;
  for (const ir::NodeRef& n : ir::clone_replace(roots, map)) result.emplace_back(n);
  return result;
}

Variable clone(const Variable& output, const std::vector<std::pair<Variable, Variable>>& replace) {
  return clone(std::vector<Variable>{output}, replace).front();
}

Tensor Variable::eval(const std::vector<std::pair<Variable, Tensor>>& inputs, SL where) const {
  std::vector<Variable> symbols;
  std::vector<Argument> values;
  for (const auto& [symbol, value] : inputs) {
    symbols.push_back(symbol);
    values.push_back(value);
  }
  FunctionOptions options;
  options.on_unused_input = OnUnusedInput::ignore;  // Theano's eval ignores extra inputs too
  return function(symbols, *this, options, where).call(values).only();
}

}  // namespace graphjit
