#include "frontend/ops/pooled_gemm.hpp"

#include "compiler/exec/thread_pool.hpp"

#include <graphjit/runtime/blas.hpp>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <vector>

namespace graphjit::ir {

SingleThreadedBlas::SingleThreadedBlas() : threads_(blas_threads()) {
  if (threads_ != 1) set_blas_threads(1);
}

SingleThreadedBlas::~SingleThreadedBlas() {
  if (threads_ != 1) set_blas_threads(threads_);
}

namespace {

// Below this many multiply-adds a product runs on one thread (OpenBLAS's
// own threshold for threading a gemm).
constexpr std::int64_t min_split_work = std::int64_t{1} << 18;

// Whether the operands are the 2-d matrices of matching shapes graphjit::gemm
// takes; anything else goes to it whole, for its error message.
bool well_formed(bool trans_a, bool trans_b, const Tensor& a, const Tensor& b, const Tensor& c) {
  if (!a.defined() || !b.defined() || !c.defined() || a.ndim() != 2 || b.ndim() != 2 || c.ndim() != 2) return false;
  const std::int64_t k = a.shape(trans_a ? 0 : 1);
  return c.shape(0) == a.shape(trans_a ? 1 : 0) && c.shape(1) == b.shape(trans_b ? 0 : 1) &&
         k == b.shape(trans_b ? 1 : 0) && is_float(a.dtype()) && a.dtype() == b.dtype() && a.dtype() == c.dtype();
}

// Rows [first, last) of op(x), as a view of x.
Tensor op_rows(const Tensor& x, bool transposed, std::int64_t first, std::int64_t last) {
  return x.slice(transposed ? 1 : 0, first, last);
}

}  // namespace

void pooled_gemm(bool trans_a, bool trans_b, double alpha, const Tensor& a, const Tensor& b, double beta, Tensor& c) {
  exec::ThreadPool& pool = exec::ThreadPool::global();
  if (!well_formed(trans_a, trans_b, a, b, c) || pool.concurrency() <= 1)
    return gemm(trans_a, trans_b, alpha, a, b, beta, c);
  const std::int64_t m = c.shape(0), n = c.shape(1), k = a.shape(trans_a ? 0 : 1);
  const bool by_rows = m >= n;
  const std::int64_t length = by_rows ? m : n;
  const int pieces = m * n * k < min_split_work || c.shares_storage_with(a) || c.shares_storage_with(b)
                         ? 1
                         : static_cast<int>(std::min<std::int64_t>(pool.concurrency(), length));
  SingleThreadedBlas one_thread;
  if (pieces <= 1) return gemm(trans_a, trans_b, alpha, a, b, beta, c);
  // An error inside a piece (BLAS's integer range) must reach the caller, not end a pool thread.
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(pieces));
  pool.run(pieces, [&](int piece) {
    const std::int64_t first = length * piece / pieces, last = length * (piece + 1) / pieces;
    try {
      // A block of c's columns is op(a) times the same block of op(b)'s columns.
      Tensor block = c.slice(by_rows ? 0 : 1, first, last);
      if (by_rows) gemm(trans_a, trans_b, alpha, op_rows(a, trans_a, first, last), b, beta, block);
      else gemm(trans_a, trans_b, alpha, a, op_rows(b, !trans_b, first, last), beta, block);
    } catch (...) {
      errors[static_cast<std::size_t>(piece)] = std::current_exception();
    }
  });
  for (const std::exception_ptr& error : errors)
    if (error) std::rethrow_exception(error);
}

}  // namespace graphjit::ir
