// Error messages about nodes: they name the op, its inputs with their types
// or shapes, and the user's source line where the node was built.
#pragma once

#include "compiler/ir/node.hpp"

#include <graphjit/errors.hpp>

#include <source_location>
#include <string>
#include <vector>

namespace graphjit::ir {

// "dot(x: TensorType(float64, matrix), W: TensorType(float64, vector)) built at model.cpp:12"
std::string describe(const Node& node);
[[noreturn]] void type_error(const Node& node, const std::string& what);
[[noreturn]] void shape_error(const Node& node, const std::vector<Tensor>& inputs, const std::string& what);

}  // namespace graphjit::ir
