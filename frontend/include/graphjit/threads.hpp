// How many threads compiled functions use: BLAS calls and large fused kernels.
#pragma once

namespace graphjit {

// Caps both OpenBLAS's threads and the fused kernels' thread pool at n
// (n >= 1), at once, and records it as config().num_threads. The default is
// the num_threads flag, or every hardware thread.
void set_num_threads(int n);

}  // namespace graphjit
