#include <graphjit/runtime/blas.hpp>
#include <graphjit/runtime/config.hpp>

#include <cblas.h>
#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <optional>
#include <stdexcept>

// OpenBLAS's own cblas.h declares these, but a cblas.h from another vendor may be
// found first; declaring them here keeps the bridge compiling against either.
extern "C" {
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
}

namespace graphjit {
namespace {

// How BLAS reads a 2-d view in place: in row-major order (elements of a row are
// adjacent) or column-major order, with `ld` the step between rows or columns.
struct MatrixLayout {
  bool row_major;
  std::int64_t ld;
};

std::optional<MatrixLayout> blas_layout(const Tensor& t, bool prefer_row_major) {
  const std::int64_t rows = t.shape(0), cols = t.shape(1);
  const std::int64_t s0 = t.strides()[0], s1 = t.strides()[1];
  // A length-1 axis is never stepped along, so its stride does not matter.
  const bool row_ok = (cols == 1 || s1 == 1) && (rows == 1 || s0 >= cols);
  const bool col_ok = (rows == 1 || s0 == 1) && (cols == 1 || s1 >= rows);
  const MatrixLayout row{true, rows == 1 ? cols : s0};
  const MatrixLayout col{false, cols == 1 ? rows : s1};
  std::optional<MatrixLayout> chosen;
  if (row_ok && (prefer_row_major || !col_ok)) chosen = row;
  else if (col_ok) chosen = col;
  if (chosen && chosen->ld > std::numeric_limits<blasint>::max()) return std::nullopt;
  return chosen;
}

void check_operand(const Tensor& t, const char* name, DType dtype) {
  if (!t.defined()) throw std::invalid_argument(fmt::format("gemm: {} is an undefined tensor", name));
  if (t.ndim() != 2)
    throw std::invalid_argument(fmt::format("gemm: {} has shape {}; gemm needs 2-d matrices", name, shape_str(t.shape())));
  if (!is_float(t.dtype()))
    throw std::invalid_argument(fmt::format("gemm: {} is {}; BLAS needs float32 or float64, convert with astype",
                                            name, dtype_name(t.dtype())));
  if (t.dtype() != dtype)
    throw std::invalid_argument(fmt::format("gemm: {} is {} but a is {}; give all operands one dtype", name,
                                            dtype_name(t.dtype()), dtype_name(dtype)));
}

// c = beta * c, for the product of (m, 0) and (0, n) matrices, which BLAS is not asked for.
void scale(Tensor& c, double beta) {
  if (beta == 1) return;
  if (beta == 0) return c.fill(0);
  for_each_index(c.shape(), [&](const std::vector<std::int64_t>& i) { c.set(i, beta * c.get(i)); });
}

// The num_threads option (GRAPHJIT_FLAGS) reaches BLAS on its first call;
// set_num_threads() changes it later.
void apply_configured_threads() {
  static const bool applied = [] {
    if (const int n = config().num_threads; n > 0) openblas_set_num_threads(n);
    return true;
  }();
  (void)applied;
}

}  // namespace

void gemm(bool trans_a, bool trans_b, double alpha, const Tensor& a, const Tensor& b, double beta, Tensor& c) {
  check_operand(a, "a", a.dtype());
  check_operand(b, "b", a.dtype());
  check_operand(c, "c", a.dtype());
  const std::int64_t m = a.shape(trans_a ? 1 : 0), k = a.shape(trans_a ? 0 : 1);
  const std::int64_t kb = b.shape(trans_b ? 1 : 0), n = b.shape(trans_b ? 0 : 1);
  if (k != kb || c.shape(0) != m || c.shape(1) != n)
    throw std::invalid_argument(fmt::format(
        "gemm: shapes do not match: a {}{}, b {}{}, c {}; need op(a) (m, k), op(b) (k, n) and c (m, n)",
        shape_str(a.shape()), trans_a ? " transposed" : "", shape_str(b.shape()), trans_b ? " transposed" : "",
        shape_str(c.shape())));
  if (std::max({m, n, k}) > std::numeric_limits<blasint>::max())
    throw std::invalid_argument(fmt::format("gemm: shapes a {}, b {} exceed the BLAS integer range",
                                            shape_str(a.shape()), shape_str(b.shape())));
  if (m == 0 || n == 0) return;
  if (k == 0) return scale(c, beta);
  apply_configured_threads();

  // BLAS writes c in place only when it can address it and reads of a and b
  // cannot see the writes; otherwise compute into a fresh matrix and copy back.
  const auto c_layout = blas_layout(c, true);
  if (!c_layout || c.shares_storage_with(a) || c.shares_storage_with(b)) {
    Tensor out = beta == 0 ? Tensor::empty(c.shape(), c.dtype()) : c.copy();
    gemm(trans_a, trans_b, alpha, a, b, beta, out);
    c.assign(out);
    return;
  }

  // c's order is the call's order; an operand stored in the other order is its
  // own transpose in this one, so its transpose flag flips instead of copying.
  const bool row_major = c_layout->row_major;
  struct Operand {
    Tensor tensor;
    CBLAS_TRANSPOSE trans;
    blasint ld;
  };
  auto prepare = [&](const Tensor& x, bool trans) {
    Tensor in_place = x;
    auto layout = blas_layout(x, row_major);
    if (!layout) {
      in_place = x.copy();  // contiguous, which BLAS always reads
      layout = blas_layout(in_place, row_major);
    }
    const bool flipped = trans != (layout->row_major != row_major);
    return Operand{in_place, flipped ? CblasTrans : CblasNoTrans, static_cast<blasint>(layout->ld)};
  };
  const Operand pa = prepare(a, trans_a), pb = prepare(b, trans_b);
  const CBLAS_ORDER order = row_major ? CblasRowMajor : CblasColMajor;
  const auto ldc = static_cast<blasint>(c_layout->ld);
  const auto bm = static_cast<blasint>(m), bn = static_cast<blasint>(n), bk = static_cast<blasint>(k);
  if (c.dtype() == DType::float64)
    cblas_dgemm(order, pa.trans, pb.trans, bm, bn, bk, alpha, pa.tensor.data<double>(), pa.ld,
                pb.tensor.data<double>(), pb.ld, beta, c.data<double>(), ldc);
  else
    cblas_sgemm(order, pa.trans, pb.trans, bm, bn, bk, static_cast<float>(alpha), pa.tensor.data<float>(), pa.ld,
                pb.tensor.data<float>(), pb.ld, static_cast<float>(beta), c.data<float>(), ldc);
}

void set_blas_threads(int n) {
  if (n < 1) throw std::invalid_argument(fmt::format("set_blas_threads: {} threads requested; use at least 1", n));
  openblas_set_num_threads(n);
}

int blas_threads() { return openblas_get_num_threads(); }

}  // namespace graphjit
