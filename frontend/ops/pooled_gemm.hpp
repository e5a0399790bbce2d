// BLAS products run on the kernel thread pool, so that a process has one set
// of worker threads, not two taking turns on the same cores (issue 7, item 6;
// the measurements are in docs/architecture.md, "the step's time beyond its
// GEMMs").
#pragma once

#include <graphjit/runtime/tensor.hpp>

namespace graphjit::ir {

// Holds BLAS to one thread while the kernel pool's threads each make their
// own gemms (BLAS's own threads would oversubscribe the cores and spin against
// the pool's), and restores the count after.
class SingleThreadedBlas {
 public:
  SingleThreadedBlas();
  ~SingleThreadedBlas();
  SingleThreadedBlas(const SingleThreadedBlas&) = delete;
  SingleThreadedBlas& operator=(const SingleThreadedBlas&) = delete;

 private:
  int threads_;
};

// graphjit::gemm (c = alpha op(a) op(b) + beta c), cut into one block of c's
// rows (or columns, when c is wider than tall) per pool thread, each a
// single-threaded BLAS call. Products too small to be worth cutting run as one
// single-threaded call; a c that shares memory with a or b is not cut.
void pooled_gemm(bool trans_a, bool trans_b, double alpha, const Tensor& a, const Tensor& b, double beta, Tensor& c);

}  // namespace graphjit::ir
