// Helpers the op definitions in frontend/ops/ share: error messages that name
// the node and its inputs, and the step from IR nodes to user Variables.
#pragma once

#include "compiler/ir/diagnostics.hpp"
#include "compiler/ir/node.hpp"
#include "compiler/ir/op_info.hpp"

#include <graphjit/errors.hpp>
#include <graphjit/variable.hpp>

#include <string>
#include <vector>

namespace graphjit::ops {

using ir::describe;
using ir::shape_error;
using ir::type_error;
using ir::where_str;

inline Variable var(const ir::NodeRef& n) { return Variable(n); }
inline Variable input(const ir::Node& node, std::size_t i) { return Variable(node.inputs.at(i)); }


// Builds a node from variables (all must be defined).
Variable apply(ir::OpCode op, const std::vector<Variable>& inputs, ir::Attrs attrs, std::source_location where);

// Normalises a possibly negative axis against ndim, or throws naming the node.
int normalize_axis(const ir::Node& node, std::int64_t axis, int ndim);

// The gradient `g` (shaped like an elementwise op's output) summed over the
// dims where `input` was broadcast, and cast to the input's dtype: what an
// elementwise op's gradient must return for that input.
Variable sum_to_input(const Variable& g, const ir::Node& input);

}  // namespace graphjit::ops
