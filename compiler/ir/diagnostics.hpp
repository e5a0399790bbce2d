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
// The same message as a LinAlgError: a matrix the op cannot factor or solve.
[[noreturn]] void linalg_error(const Node& node, const std::vector<Tensor>& inputs, const std::string& what);

// Called in a catch block around one of the node's kernels: rethrows what the
// runtime throws without knowing the graph (a size past int64, memory that
// cannot be had) naming the node, its inputs' shapes and the user's line, as
// a ShapeError or an AllocationError (still a std::bad_alloc); anything else
// as it was. The op table wraps every reference and native kernel in this
// (op_info.cpp), so every caller of op_info(op) gets these errors.
[[noreturn]] void rethrow_naming_node(const Node& node, const std::vector<Tensor>& inputs);

// The node's reference kernel on `inputs` (wrapped as above).
Tensor run_reference(const Node& node, const std::vector<Tensor>& inputs);

}  // namespace graphjit::ir
