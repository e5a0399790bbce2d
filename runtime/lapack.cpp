#include <graphjit/runtime/lapack.hpp>

#include <cblas.h>  // blasint
#include <fmt/format.h>

#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <vector>

// LAPACK's Fortran entry points in libopenblas. The trailing size_t
// arguments are the lengths gfortran passes for character arguments.
extern "C" {
void sgetrf_(const blasint* m, const blasint* n, float* a, const blasint* lda, blasint* ipiv, blasint* info);
void dgetrf_(const blasint* m, const blasint* n, double* a, const blasint* lda, blasint* ipiv, blasint* info);
void sgetri_(const blasint* n, float* a, const blasint* lda, const blasint* ipiv, float* work, const blasint* lwork,
             blasint* info);
void dgetri_(const blasint* n, double* a, const blasint* lda, const blasint* ipiv, double* work, const blasint* lwork,
             blasint* info);
void sgetrs_(const char* trans, const blasint* n, const blasint* nrhs, const float* a, const blasint* lda,
             const blasint* ipiv, float* b, const blasint* ldb, blasint* info, std::size_t);
void dgetrs_(const char* trans, const blasint* n, const blasint* nrhs, const double* a, const blasint* lda,
             const blasint* ipiv, double* b, const blasint* ldb, blasint* info, std::size_t);
void spotrf_(const char* uplo, const blasint* n, float* a, const blasint* lda, blasint* info, std::size_t);
void dpotrf_(const char* uplo, const blasint* n, double* a, const blasint* lda, blasint* info, std::size_t);
void strtrs_(const char* uplo, const char* trans, const char* diag, const blasint* n, const blasint* nrhs, const float* a,
             const blasint* lda, float* b, const blasint* ldb, blasint* info, std::size_t, std::size_t, std::size_t);
void dtrtrs_(const char* uplo, const char* trans, const char* diag, const blasint* n, const blasint* nrhs,
             const double* a, const blasint* lda, double* b, const blasint* ldb, blasint* info, std::size_t, std::size_t,
             std::size_t);
void ssyevd_(const char* jobz, const char* uplo, const blasint* n, float* a, const blasint* lda, float* w, float* work,
             const blasint* lwork, blasint* iwork, const blasint* liwork, blasint* info, std::size_t, std::size_t);
void dsyevd_(const char* jobz, const char* uplo, const blasint* n, double* a, const blasint* lda, double* w,
             double* work, const blasint* lwork, blasint* iwork, const blasint* liwork, blasint* info, std::size_t,
             std::size_t);
}

namespace graphjit::lapack {
namespace {

// One name per routine for both precisions.
struct Single {
  using T = float;
  static constexpr auto getrf = sgetrf_;
  static constexpr auto getri = sgetri_;
  static constexpr auto getrs = sgetrs_;
  static constexpr auto potrf = spotrf_;
  static constexpr auto trtrs = strtrs_;
  static constexpr auto syevd = ssyevd_;
};
struct Double {
  using T = double;
  static constexpr auto getrf = dgetrf_;
  static constexpr auto getri = dgetri_;
  static constexpr auto getrs = dgetrs_;
  static constexpr auto potrf = dpotrf_;
  static constexpr auto trtrs = dtrtrs_;
  static constexpr auto syevd = dsyevd_;
};

template <class F> auto dispatch(DType dtype, const char* routine, F f) {
  if (dtype == float32) return f(Single{});
  if (dtype == float64) return f(Double{});
  throw std::invalid_argument(fmt::format("lapack::{}: {} matrix; LAPACK needs float32 or float64", routine,
                                          dtype_name(dtype)));
}

blasint order_of(const Tensor& a, const char* routine) {
  if (a.ndim() != 2 || a.shape(0) != a.shape(1))
    throw std::invalid_argument(fmt::format("lapack::{}: needs a square matrix, got shape {}", routine,
                                            shape_str(a.shape())));
  if (a.shape(0) > std::numeric_limits<blasint>::max())
    throw std::invalid_argument(fmt::format("lapack::{}: order {} is too large for LAPACK", routine, a.shape(0)));
  return static_cast<blasint>(a.shape(0));
}

// A fresh column-major (Fortran-order) copy of a matrix: the row-major
// contiguous copy of its transpose. LAPACK overwrites it.
Tensor fortran_copy(const Tensor& m) { return m.transpose().copy(); }
// The matrix held by a column-major buffer, as a row-major tensor.
Tensor from_fortran(const Tensor& buffer) { return buffer.transpose().copy(); }

// b as a matrix of right-hand sides (n, k), checked against a.
Tensor right_hand_sides(const Tensor& a, const Tensor& b, blasint n, const char* routine) {
  if ((b.ndim() != 1 && b.ndim() != 2) || b.shape(0) != n || b.dtype() != a.dtype())
    throw std::invalid_argument(fmt::format("lapack::{}: b must be a vector or matrix of {} rows and a's dtype, "
                                            "got shape {}", routine, n, shape_str(b.shape())));
  return b.ndim() == 1 ? b.reshape({n, 1}) : b;
}

template <class L> std::vector<blasint> lu_in_place(Tensor& f, blasint n, blasint& info) {
  std::vector<blasint> pivots(static_cast<std::size_t>(std::max<blasint>(n, 1)));
  L::getrf(&n, &n, f.data<typename L::T>(), &n, pivots.data(), &info);
  return pivots;
}

}  // namespace

Result inverse(const Tensor& a) {
  const blasint n = order_of(a, "inverse");
  return dispatch(a.dtype(), "inverse", [&](auto l) -> Result {
    using L = decltype(l);
    using T = typename L::T;
    Tensor f = fortran_copy(a);
    if (n == 0) return {f, 0};
    blasint info = 0;
    const std::vector<blasint> pivots = lu_in_place<L>(f, n, info);
    if (info != 0) return {Tensor(), info};
    T query = 0;
    const blasint ask = -1;
    L::getri(&n, f.data<T>(), &n, pivots.data(), &query, &ask, &info);
    const blasint lwork = std::max<blasint>(static_cast<blasint>(query), n);
    std::vector<T> work(static_cast<std::size_t>(lwork));
    L::getri(&n, f.data<T>(), &n, pivots.data(), work.data(), &lwork, &info);
    return {info == 0 ? from_fortran(f) : Tensor(), info};
  });
}

Result solve(const Tensor& a, const Tensor& b) {
  const blasint n = order_of(a, "solve");
  const Tensor b2 = right_hand_sides(a, b, n, "solve");
  return dispatch(a.dtype(), "solve", [&](auto l) -> Result {
    using L = decltype(l);
    Tensor f = fortran_copy(a);
    Tensor x = fortran_copy(b2);
    const blasint nrhs = static_cast<blasint>(b2.shape(1)), ld = std::max<blasint>(n, 1);
    if (n == 0 || nrhs == 0) return {b.copy(), 0};
    blasint info = 0;
    const std::vector<blasint> pivots = lu_in_place<L>(f, n, info);
    if (info != 0) return {Tensor(), info};
    L::getrs("N", &n, &nrhs, f.data<typename L::T>(), &ld, pivots.data(), x.data<typename L::T>(), &ld, &info, 1);
    return {info == 0 ? from_fortran(x).reshape(b.shape()) : Tensor(), info};
  });
}

Result solve_triangular(const Tensor& a, const Tensor& b, bool lower, bool transpose, bool unit_diagonal) {
  const blasint n = order_of(a, "solve_triangular");
  const Tensor b2 = right_hand_sides(a, b, n, "solve_triangular");
  return dispatch(a.dtype(), "solve_triangular", [&](auto l) -> Result {
    using L = decltype(l);
    const Tensor f = fortran_copy(a);
    Tensor x = fortran_copy(b2);
    const blasint nrhs = static_cast<blasint>(b2.shape(1)), ld = std::max<blasint>(n, 1);
    if (n == 0 || nrhs == 0) return {b.copy(), 0};
    blasint info = 0;
    L::trtrs(lower ? "L" : "U", transpose ? "T" : "N", unit_diagonal ? "U" : "N", &n, &nrhs,
             f.data<typename L::T>(), &ld, x.data<typename L::T>(), &ld, &info, 1, 1, 1);
    return {info == 0 ? from_fortran(x).reshape(b.shape()) : Tensor(), info};
  });
}

Tensor det(const Tensor& a) {
  const blasint n = order_of(a, "det");
  return dispatch(a.dtype(), "det", [&](auto l) -> Tensor {
    using L = decltype(l);
    using T = typename L::T;
    Tensor f = fortran_copy(a);
    double value = 1;
    if (n > 0) {
      blasint info = 0;
      const std::vector<blasint> pivots = lu_in_place<L>(f, n, info);
      const T* u = f.data<T>();
      for (blasint i = 0; i < n; ++i) {
        value *= static_cast<double>(u[static_cast<std::size_t>(i) * static_cast<std::size_t>(n + 1)]);
        if (pivots[static_cast<std::size_t>(i)] != i + 1) value = -value;  // a row swap
      }
    }
    return Tensor::full({}, value, a.dtype());
  });
}

Result cholesky_lower(const Tensor& a) {
  const blasint n = order_of(a, "cholesky_lower");
  return dispatch(a.dtype(), "cholesky_lower", [&](auto l) -> Result {
    using L = decltype(l);
    using T = typename L::T;
    Tensor f = fortran_copy(a);
    if (n == 0) return {f, 0};
    blasint info = 0;
    L::potrf("L", &n, f.data<T>(), &n, &info, 1);
    if (info != 0) return {Tensor(), info};
    T* p = f.data<T>();  // column j at p + j * n; its rows above the diagonal are zeroed
    for (blasint j = 0; j < n; ++j)
      for (blasint i = 0; i < j; ++i) p[static_cast<std::size_t>(j) * static_cast<std::size_t>(n) + static_cast<std::size_t>(i)] = 0;
    return {from_fortran(f), 0};
  });
}

Eigh eigh_lower(const Tensor& a) {
  const blasint n = order_of(a, "eigh_lower");
  return dispatch(a.dtype(), "eigh_lower", [&](auto l) -> Eigh {
    using L = decltype(l);
    using T = typename L::T;
    Tensor f = fortran_copy(a);
    Tensor w = Tensor::empty({n}, a.dtype());
    if (n == 0) return {w, f, 0};
    blasint info = 0, iquery = 0;
    T query = 0;
    const blasint ask = -1;
    L::syevd("V", "L", &n, f.data<T>(), &n, w.data<T>(), &query, &ask, &iquery, &ask, &info, 1, 1);
    const blasint lwork = static_cast<blasint>(query), liwork = iquery;
    std::vector<T> work(static_cast<std::size_t>(std::max<blasint>(lwork, 1)));
    std::vector<blasint> iwork(static_cast<std::size_t>(std::max<blasint>(liwork, 1)));
    L::syevd("V", "L", &n, f.data<T>(), &n, w.data<T>(), work.data(), &lwork, iwork.data(), &liwork, &info, 1, 1);
    if (info != 0) return {Tensor(), Tensor(), info};
    return {w, from_fortran(f), 0};
  });
}

}  // namespace graphjit::lapack
