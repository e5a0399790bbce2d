#include <graphjit/runtime/blas.hpp>
#include <graphjit/runtime/config.hpp>
#include <graphjit/threads.hpp>

#include "compiler/exec/thread_pool.hpp"

#include <stdexcept>
#include <string>

namespace graphjit {

void set_num_threads(int n) {
  if (n < 1) throw std::invalid_argument("set_num_threads: n must be at least 1, got " + std::to_string(n));
  config().num_threads = n;
  set_blas_threads(n);
  exec::ThreadPool::global().set_max_threads(n);
}

}  // namespace graphjit
