// Helpers the op definitions in frontend/ops/ share: error messages that name
// the node and its inputs, and the step from IR nodes to user Variables.
#pragma once

#include "compiler/ir/diagnostics.hpp"
#include "compiler/ir/node.hpp"
#include "compiler/ir/op_info.hpp"

#include <graphjit/errors.hpp>
#include <graphjit/variable.hpp>

#include <source_location>
#include <string>
#include <string_view>
#include <vector>

namespace graphjit::ops {

using ir::describe;
using ir::shape_error;
using ir::type_error;
using ir::where_str;

inline Variable var(const ir::NodeRef& n) { return Variable(n); }
inline Variable input(const ir::Node& node, std::size_t i) { return Variable(node.inputs.at(i)); }

// Throws naming the builder and the user's line when `v` is undefined
// (default-constructed, or an empty gradient).
void require_defined(const Variable& v, std::string_view builder, std::source_location where);

// Builds a node from variables (all must be defined).
Variable apply(ir::OpCode op, const std::vector<Variable>& inputs, ir::Attrs attrs, std::source_location where);

// Normalises a possibly negative axis against ndim, or throws naming the node.
int normalize_axis(const ir::Node& node, std::int64_t axis, int ndim);

// Inputs first..end of `node` must be integer scalars (the lengths of a
// shape, eye's n, m, k); `role` says what they are, for the error.
void require_int_scalars(const ir::Node& node, std::size_t first, const char* role);

// The element count of a run-time shape, or a ShapeError naming the node
// when its lengths multiply past int64 (where a wrapped product could pass
// any later check and index past the end of a buffer).
std::int64_t checked_numel(const ir::Node& node, const std::vector<Tensor>& inputs, const Shape& shape);

// The gradient `g` (shaped like an elementwise op's output) summed over the
// dims where `input` was broadcast, and cast to the input's dtype: what an
// elementwise op's gradient must return for that input.
Variable sum_to_input(const Variable& g, const ir::Node& input);

}  // namespace graphjit::ops
