// Linear algebra beyond 2-d dot (issue 8): tensordot, batched products, and
// the LAPACK ops of theano.tensor.nlinalg and theano.tensor.slinalg.
// Included by tensor.hpp; T::dot of operands with more than 2 dims is
// tensordot over a's last axis and b's second-to-last, as numpy.dot.
#pragma once

#include <graphjit/variable.hpp>

#include <cstdint>
#include <source_location>
#include <utility>
#include <vector>

namespace graphjit::tensor {

// numpy.tensordot: axes=n sums a's last n dims against b's first n; or a's
// axes a_axes[i] against b's b_axes[i]. The result has a's remaining dims,
// then b's. Float products run as BLAS gemm.
Variable tensordot(const Variable& a, const Variable& b, int axes = 2,
                   std::source_location where = std::source_location::current());
Variable tensordot(const Variable& a, const Variable& b, const std::vector<std::int64_t>& a_axes,
                   const std::vector<std::int64_t>& b_axes, std::source_location where = std::source_location::current());
// batched_dot(a, b)[i] == dot(a[i], b[i]) over the shared leading axis (one
// gemm per batch element); a vector operand scales the other's slices.
Variable batched_dot(const Variable& a, const Variable& b, std::source_location where = std::source_location::current());
// tensordot per batch element: axis 0 of both is the batch, the axes count it.
Variable batched_tensordot(const Variable& a, const Variable& b, const std::vector<std::int64_t>& a_axes,
                           const std::vector<std::int64_t>& b_axes,
                           std::source_location where = std::source_location::current());
// T::dot for operands with more than 2 dims (T::dot calls it).
Variable dot_nd(const Variable& a, const Variable& b, std::source_location where = std::source_location::current());

// theano.tensor.nlinalg. Square float matrices (integers become float64);
// each runs LAPACK (OpenBLAS) compiled, and has Theano's gradient.
namespace nlinalg {
// The inverse; a singular matrix is an error naming the op and the line.
Variable matrix_inverse(const Variable& x, std::source_location where = std::source_location::current());
// The determinant (0 for a singular matrix, as numpy).
Variable det(const Variable& x, std::source_location where = std::source_location::current());
// Eigenvalues w (ascending) and eigenvectors v (columns) of a symmetric
// matrix, read from its lower triangle (Theano's Eigh(UPLO='L'), the
// default; uplo 'U' reads the upper one): x @ v[:, i] == w[i] * v[:, i].
// Each eigenvector's sign is fixed so that its first component within a
// relative 1e-6 of its largest magnitude is positive. numpy (so Theano)
// leaves the sign to the LAPACK build, so its vectors may differ from these
// by a sign; both are eigenvectors. graphjit fixes it so that the compiled
// kernel (LAPACK syevd) and the reference (Jacobi rotations) agree, and a
// result does not change with the LAPACK library.
std::pair<Variable, Variable> eigh(const Variable& x, std::source_location where = std::source_location::current());
std::pair<Variable, Variable> eigh(const Variable& x, char uplo,
                                   std::source_location where = std::source_location::current());
}  // namespace nlinalg

// theano.tensor.slinalg.
namespace slinalg {
// The lower-triangular L with x == L @ L.T, read from x's lower triangle; a
// matrix that is not positive definite is an error.
Variable cholesky(const Variable& x, std::source_location where = std::source_location::current());
// x with a @ x == b, for a square a and a vector or matrix b; a singular a is an error.
Variable solve(const Variable& a, const Variable& b, std::source_location where = std::source_location::current());
// scipy.linalg.solve_triangular(a, b, trans, lower, unit_diagonal): x with
// op(a) @ x == b, where op(a) is a (trans 0) or a.T (1, or 2: a^H, the same
// for real a). Only a's lower (or upper) triangle is read, and with
// unit_diagonal not even its diagonal (taken as ones). A zero on the
// diagonal is a LinAlgError. Compiled, LAPACK's trtrs.
Variable solve_triangular(const Variable& a, const Variable& b, int trans = 0, bool lower = false,
                          bool unit_diagonal = false, std::source_location where = std::source_location::current());
// What solve may assume of a: Theano's Solve(A_structure) (general,
// symmetric, lower_triangular, upper_triangular) and scipy's assume_a="pos".
// general and symmetric run the LU solve (Theano's Solve does the same for
// symmetric); the triangular ones are solve_triangular, reading only that
// triangle; positive_definite is cholesky of a's lower triangle then two
// triangular solves (a LinAlgError when a is not positive definite).
enum class Structure { general, symmetric, lower_triangular, upper_triangular, positive_definite };
Variable solve(const Variable& a, const Variable& b, Structure assume_a,
               std::source_location where = std::source_location::current());
// Theano's slinalg.solve_lower_triangular and solve_upper_triangular.
Variable solve_lower_triangular(const Variable& a, const Variable& b,
                                std::source_location where = std::source_location::current());
Variable solve_upper_triangular(const Variable& a, const Variable& b,
                                std::source_location where = std::source_location::current());
}  // namespace slinalg

}  // namespace graphjit::tensor
