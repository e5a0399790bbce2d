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

// The node's reference kernel on `inputs`. What the runtime throws without
// knowing the graph (a size past int64, memory that cannot be had) comes out
// naming the node, its inputs' shapes and the user's line: a ShapeError, or an
// AllocationError (still a std::bad_alloc).
Tensor run_reference(const Node& node, const std::vector<Tensor>& inputs);

}  // namespace graphjit::ir
