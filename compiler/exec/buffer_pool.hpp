// Step buffers that compiled functions lend each other between calls.
//
// A function's pooled buffers (plan_memory's) go back here when its call
// ends, and the next call of any function takes them again: the seed's
// `valid` and `test` functions, one graph over 10,000 rows each, share one
// set of buffers instead of keeping two. A call still allocates nothing in
// steady state, and idle buffers stay mapped, because page faults are what a
// fresh buffer costs; past a cap on idle bytes a returned buffer is freed.
#pragma once

#include <graphjit/runtime/tensor.hpp>

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>

namespace graphjit::exec {

class BufferPool {
 public:
  // The one pool of the process.
  static BufferPool& process();

  // The smallest idle buffer of at least `bytes` and at most twice that (a
  // small value must not pin a large block), else a new one.
  std::shared_ptr<Storage> take(std::size_t bytes);
  // A buffer no value lives in any more.
  void give(std::shared_ptr<Storage> buffer);

  struct Stats {
    std::size_t idle_buffers = 0;
    std::size_t idle_bytes = 0;
    std::size_t created = 0;  // buffers take() had to allocate, ever
  };
  Stats stats() const;

  static constexpr std::size_t kMaxIdleBytes = std::size_t{1} << 30;

 private:
  mutable std::mutex mutex_;
  std::multimap<std::size_t, std::shared_ptr<Storage>> idle_;  // by size
  Stats stats_;
};

}  // namespace graphjit::exec
