// The oracles of the LAPACK ops (frontend/ops/linalg.cpp): textbook
// algorithms in double on row-major n x n matrices, written for being
// obviously right rather than fast. Each returns nullopt where the op must
// report an error (a zero pivot, a leading minor that is not positive).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace graphjit::ops::linalg_reference {

using Matrix = std::vector<double>;  // row-major, n * n (solve's b: n * k)

// Gauss-Jordan elimination with partial pivoting on [a | I].
std::optional<Matrix> inverse(const Matrix& a, std::int64_t n);
// Gaussian elimination with partial pivoting on [a | b], then back substitution.
std::optional<Matrix> solve(const Matrix& a, const Matrix& b, std::int64_t n, std::int64_t k);
// Substitution on the triangle of a that `lower` names (the diagonal taken as
// ones when `unit_diagonal`), transposed first when `transpose`: x with
// op(a) x == b; nullopt when the diagonal has a zero.
std::optional<Matrix> solve_triangular(const Matrix& a, const Matrix& b, std::int64_t n, std::int64_t k, bool lower,
                                       bool transpose, bool unit_diagonal);
// The product of the pivots of an LU factorization with partial pivoting,
// negated per row swap; 0 when a column has no nonzero pivot.
double det(const Matrix& a, std::int64_t n);
// Cholesky-Banachiewicz, row by row, reading a's lower triangle only.
std::optional<Matrix> cholesky_lower(const Matrix& a, std::int64_t n);
// Cyclic Jacobi rotations on the symmetric matrix a's lower triangle
// describes, until the off-diagonal part is negligible; eigenvalues ascending,
// eigenvectors as the columns of v.
struct Eigen {
  std::vector<double> w;
  Matrix v;
};
Eigen eigh_lower(const Matrix& a, std::int64_t n);

}  // namespace graphjit::ops::linalg_reference
