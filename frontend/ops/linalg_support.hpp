// What the LAPACK op families (linalg.cpp, triangular_solve.cpp) share:
// their type and shape rules for square matrices and right-hand sides, the
// errors both kernels raise, and the conversions between tensors and the
// reference's double matrices. Defined in linalg.cpp.
#pragma once

#include "frontend/ops/linalg_reference.hpp"
#include "frontend/ops/op_support.hpp"

#include <vector>

namespace graphjit::ir::linalg {

void require_float_matrix(const Node& node, const Type& t, const char* what);
// (a, b) with a square float matrix and b a float vector or matrix: b's type at the promoted dtype.
Type solve_type(const Node& node);
// The order of the square matrix inputs[0] (a ShapeError when it is not square).
std::int64_t order_of(const Node& node, const std::vector<Tensor>& inputs);
// b's shape, after checking b has one row per row of the square a.
Shape solve_shape(const Node& node, const std::vector<Tensor>& inputs);

// LinAlgErrors naming the node, its shapes and the user's line.
[[noreturn]] void singular(const Node& node, const std::vector<Tensor>& inputs);
// LAPACK's status: info > 0 is the input's fault (input_fault words it), info < 0 graphjit's.
void check_info(const Node& node, const std::vector<Tensor>& inputs, int info,
                void (*input_fault)(const Node&, const std::vector<Tensor>&));

ops::linalg_reference::Matrix matrix_of(const Tensor& t);
Tensor tensor_of(const ops::linalg_reference::Matrix& m, const Shape& shape, DType dtype);
Tensor as_dtype(const Tensor& t, DType dtype);

// Weights over an n x n grid: 1 below the diagonal, `diagonal` on it, 0 above.
Variable lower_weights(const Variable& n, double diagonal, DType dtype);

}  // namespace graphjit::ir::linalg

namespace graphjit::tensor::linalg {
// Integer matrices are computed in float64, as numpy.linalg does.
Variable as_float(const Variable& x, const char* builder, std::source_location where);
}  // namespace graphjit::tensor::linalg
