// The bridge to the system BLAS (OpenBLAS): matrix products on tensors.
#pragma once

#include <graphjit/runtime/tensor.hpp>

namespace graphjit {

// c = alpha * op(a) @ op(b) + beta * c, where op(x) is x or its transpose.
// a, b and c are 2-d float32 or float64 tensors of one dtype; op(a) is (m, k),
// op(b) is (k, n) and c is (m, n). Views BLAS can read in place (unit stride
// along rows or along columns) are passed as they are, others are copied first.
// c is written in place, through a temporary when it cannot be (or aliases a or b).
// With beta == 0 the old contents of c are ignored, NaNs included.
void gemm(bool trans_a, bool trans_b, double alpha, const Tensor& a, const Tensor& b, double beta, Tensor& c);

// The number of threads BLAS calls use; n must be at least 1.
void set_blas_threads(int n);
int blas_threads();

}  // namespace graphjit
