#include "frontend/ops/linalg_reference.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

namespace graphjit::ops::linalg_reference {

namespace {

// Row-reduces the augmented rows [a | rhs] (rhs has k columns) to [I | a^-1 rhs].
// Returns false when a column has no nonzero pivot.
bool gauss_jordan(Matrix a, Matrix& rhs, std::int64_t n, std::int64_t k) {
  auto at = [](Matrix& m, std::int64_t i, std::int64_t j, std::int64_t cols) -> double& { return m[static_cast<std::size_t>(i * cols + j)]; };
  for (std::int64_t col = 0; col < n; ++col) {
    std::int64_t pivot = col;
    for (std::int64_t r = col + 1; r < n; ++r)
      if (std::abs(at(a, r, col, n)) > std::abs(at(a, pivot, col, n))) pivot = r;
    if (at(a, pivot, col, n) == 0) return false;
    for (std::int64_t j = 0; j < n; ++j) std::swap(at(a, col, j, n), at(a, pivot, j, n));
    for (std::int64_t j = 0; j < k; ++j) std::swap(at(rhs, col, j, k), at(rhs, pivot, j, k));
    const double p = at(a, col, col, n);
    for (std::int64_t j = 0; j < n; ++j) at(a, col, j, n) /= p;
    for (std::int64_t j = 0; j < k; ++j) at(rhs, col, j, k) /= p;
    for (std::int64_t r = 0; r < n; ++r) {
      const double factor = r == col ? 0 : at(a, r, col, n);
      if (factor == 0) continue;
      for (std::int64_t j = 0; j < n; ++j) at(a, r, j, n) -= factor * at(a, col, j, n);
      for (std::int64_t j = 0; j < k; ++j) at(rhs, r, j, k) -= factor * at(rhs, col, j, k);
    }
  }
  return true;
}

}  // namespace

std::optional<Matrix> inverse(const Matrix& a, std::int64_t n) {
  Matrix identity(static_cast<std::size_t>(n * n), 0.0);
  for (std::int64_t i = 0; i < n; ++i) identity[static_cast<std::size_t>(i * n + i)] = 1;
  if (!gauss_jordan(a, identity, n, n)) return std::nullopt;
  return identity;
}

std::optional<Matrix> solve_triangular(const Matrix& a, const Matrix& b, std::int64_t n, std::int64_t k, bool lower,
                                       bool transpose, bool unit_diagonal) {
  // m(i, j): op(a)'s entry, zero outside the triangle that is read.
  const auto m = [&](std::int64_t i, std::int64_t j) {
    const std::int64_t r = transpose ? j : i, c = transpose ? i : j;
    if (r == c) return unit_diagonal ? 1.0 : a[static_cast<std::size_t>(r * n + c)];
    return (lower ? r > c : r < c) ? a[static_cast<std::size_t>(r * n + c)] : 0.0;
  };
  const bool forward = lower != transpose;  // op(a) is lower triangular: solve from the first row down
  Matrix x = b;
  for (std::int64_t step = 0; step < n; ++step) {
    const std::int64_t i = forward ? step : n - 1 - step;
    if (m(i, i) == 0) return std::nullopt;
    for (std::int64_t c = 0; c < k; ++c) {
      double sum = b[static_cast<std::size_t>(i * k + c)];
      const std::int64_t first = forward ? 0 : i + 1, last = forward ? i : n;  // the rows already solved
      for (std::int64_t j = first; j < last; ++j) sum -= m(i, j) * x[static_cast<std::size_t>(j * k + c)];
      x[static_cast<std::size_t>(i * k + c)] = sum / m(i, i);
    }
  }
  return x;
}

std::optional<Matrix> solve(const Matrix& a, const Matrix& b, std::int64_t n, std::int64_t k) {
  Matrix x = b;
  if (!gauss_jordan(a, x, n, k)) return std::nullopt;
  return x;
}

double det(const Matrix& a_in, std::int64_t n) {
  Matrix a = a_in;
  auto at = [&](std::int64_t i, std::int64_t j) -> double& { return a[static_cast<std::size_t>(i * n + j)]; };
  double value = 1;
  for (std::int64_t col = 0; col < n; ++col) {
    std::int64_t pivot = col;
    for (std::int64_t r = col + 1; r < n; ++r)
      if (std::abs(at(r, col)) > std::abs(at(pivot, col))) pivot = r;
    if (at(pivot, col) == 0) return 0;
    if (pivot != col) {
      for (std::int64_t j = 0; j < n; ++j) std::swap(at(col, j), at(pivot, j));
      value = -value;
    }
    value *= at(col, col);
    for (std::int64_t r = col + 1; r < n; ++r) {
      const double factor = at(r, col) / at(col, col);
      for (std::int64_t j = col; j < n; ++j) at(r, j) -= factor * at(col, j);
    }
  }
  return value;
}

std::optional<Matrix> cholesky_lower(const Matrix& a, std::int64_t n) {
  Matrix l(static_cast<std::size_t>(n * n), 0.0);
  auto L = [&](std::int64_t i, std::int64_t j) -> double& { return l[static_cast<std::size_t>(i * n + j)]; };
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j <= i; ++j) {
      double s = a[static_cast<std::size_t>(i * n + j)];
      for (std::int64_t m = 0; m < j; ++m) s -= L(i, m) * L(j, m);
      if (i == j) {
        if (!(s > 0)) return std::nullopt;  // not positive definite (or nan)
        L(i, i) = std::sqrt(s);
      } else {
        L(i, j) = s / L(j, j);
      }
    }
  return l;
}

Eigen eigh_lower(const Matrix& a_in, std::int64_t n) {
  const auto N = static_cast<std::size_t>(n);
  Matrix a(N * N), v(N * N, 0.0);
  for (std::size_t i = 0; i < N; ++i) {
    v[i * N + i] = 1;
    for (std::size_t j = 0; j <= i; ++j) a[i * N + j] = a[j * N + i] = a_in[i * N + j];  // the lower triangle, mirrored
  }
  auto off_diagonal = [&] {
    double s = 0, d = 0;
    for (std::size_t i = 0; i < N; ++i)
      for (std::size_t j = 0; j < N; ++j) (i == j ? d : s) += a[i * N + j] * a[i * N + j];
    return std::pair{s, d};
  };
  for (int sweep = 0; sweep < 100; ++sweep) {
    const auto [off, diag] = off_diagonal();
    if (off <= 1e-30 * diag || off == 0) break;
    for (std::size_t p = 0; p < N; ++p)
      for (std::size_t q = p + 1; q < N; ++q) {
        const double apq = a[p * N + q];
        if (apq == 0) continue;
        // The rotation that zeroes a[p][q]: tan(2 theta) = 2 apq / (aqq - app), the smaller angle.
        const double theta = (a[q * N + q] - a[p * N + p]) / (2 * apq);
        const double t = (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (std::size_t k = 0; k < N; ++k) {  // a = a J (columns p, q)
          const double akp = a[k * N + p], akq = a[k * N + q];
          a[k * N + p] = c * akp - s * akq;
          a[k * N + q] = s * akp + c * akq;
        }
        for (std::size_t k = 0; k < N; ++k) {  // a = J^T a (rows p, q)
          const double apk = a[p * N + k], aqk = a[q * N + k];
          a[p * N + k] = c * apk - s * aqk;
          a[q * N + k] = s * apk + c * aqk;
        }
        for (std::size_t k = 0; k < N; ++k) {  // v = v J
          const double vkp = v[k * N + p], vkq = v[k * N + q];
          v[k * N + p] = c * vkp - s * vkq;
          v[k * N + q] = s * vkp + c * vkq;
        }
      }
  }
  std::vector<std::size_t> order(N);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return a[x * N + x] < a[y * N + y]; });
  Eigen out{std::vector<double>(N), Matrix(N * N)};
  for (std::size_t j = 0; j < N; ++j) {
    out.w[j] = a[order[j] * N + order[j]];
    for (std::size_t i = 0; i < N; ++i) out.v[i * N + j] = v[i * N + order[j]];
  }
  return out;
}

}  // namespace graphjit::ops::linalg_reference
