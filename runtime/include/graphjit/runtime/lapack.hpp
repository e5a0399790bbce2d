// The bridge to LAPACK (OpenBLAS ships it): factorizations of square float32
// or float64 matrices, given as tensors of any strides. Each returns new
// tensors of the input's dtype and LAPACK's status, so the caller (an op's
// native kernel) words the error: info > 0 means a zero pivot (singular), a
// leading minor that is not positive (not positive definite) or no
// convergence. The inputs are never written.
#pragma once

#include <graphjit/runtime/tensor.hpp>

namespace graphjit::lapack {

struct Result {
  Tensor value;
  int info = 0;
};

// getrf + getri.
Result inverse(const Tensor& a);
// getrf + getrs: x with a @ x == b, b a vector (n) or a matrix (n, k).
Result solve(const Tensor& a, const Tensor& b);
// trtrs: x with op(a) @ x == b for a triangular a (only its `lower` or upper
// triangle is read; op is the transpose when `transpose`; a unit diagonal is
// taken as ones and not read); info > 0 is a zero on the diagonal.
Result solve_triangular(const Tensor& a, const Tensor& b, bool lower, bool transpose, bool unit_diagonal);
// getrf: the product of U's diagonal with the pivots' sign, as a 0-d tensor
// (0 for a singular matrix, 1 for a 0 x 0 one).
Tensor det(const Tensor& a);
// potrf on a's lower triangle: L lower, with the upper triangle zero.
Result cholesky_lower(const Tensor& a);
// syevd on a's lower triangle: eigenvalues w ascending, eigenvectors as the
// columns of v (their signs as LAPACK leaves them).
struct Eigh {
  Tensor w, v;
  int info = 0;
};
Eigh eigh_lower(const Tensor& a);

}  // namespace graphjit::lapack
