// Helpers the op definitions in frontend/ops/ share: error messages that name
// the node and its inputs, and the step from IR nodes to user Variables.
#pragma once

#include "compiler/ir/node.hpp"
#include "compiler/ir/op_info.hpp"

#include <graphjit/errors.hpp>
#include <graphjit/variable.hpp>

#include <string>
#include <vector>

namespace graphjit::ops {

// "file.cpp:42"
std::string where_str(const std::source_location& where);
// "dot(x: TensorType(float64, matrix), W: TensorType(float64, vector)) at model.cpp:12"
std::string describe(const ir::Node& node);
[[noreturn]] void type_error(const ir::Node& node, const std::string& what);
[[noreturn]] void shape_error(const ir::Node& node, const std::vector<Tensor>& inputs, const std::string& what);

inline Variable var(const ir::NodeRef& n) { return Variable(n); }
inline Variable input(const ir::Node& node, std::size_t i) { return Variable(node.inputs.at(i)); }

// `kernel(node, inputs)`, where what the runtime throws without knowing the
// graph (a size past int64, memory that cannot be had) comes out naming the
// node, its inputs' shapes and the user's line: a ShapeError, or an
// AllocationError (still a std::bad_alloc). The op table wraps every
// reference kernel in this (op_info.cpp), so every caller gets these errors.
Tensor run_naming_node(Tensor (*kernel)(const ir::Node&, const std::vector<Tensor>&), const ir::Node& node,
                       const std::vector<Tensor>& inputs);

// Builds a node from variables (all must be defined).
Variable apply(ir::OpCode op, const std::vector<Variable>& inputs, ir::Attrs attrs, std::source_location where);

// Normalises a possibly negative axis against ndim, or throws naming the node.
int normalize_axis(const ir::Node& node, std::int64_t axis, int ndim);

// The gradient `g` (shaped like an elementwise op's output) summed over the
// dims where `input` was broadcast, and cast to the input's dtype: what an
// elementwise op's gradient must return for that input.
Variable sum_to_input(const Variable& g, const ir::Node& input);

}  // namespace graphjit::ops
