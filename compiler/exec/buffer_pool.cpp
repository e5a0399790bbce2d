#include "compiler/exec/buffer_pool.hpp"

#include <algorithm>
#include <utility>

namespace graphjit::exec {

BufferPool& BufferPool::process() {
  // Never destroyed: executors of functions that outlive main's locals give
  // their buffers back during static destruction.
  static BufferPool* pool = new BufferPool();
  return *pool;
}

std::shared_ptr<Storage> BufferPool::take(std::size_t bytes) {
  bytes = std::max<std::size_t>(bytes, 1);
  {
    std::lock_guard lock(mutex_);
    auto it = idle_.lower_bound(bytes);
    if (it != idle_.end() && it->first / 2 <= bytes) {
      std::shared_ptr<Storage> buffer = std::move(it->second);
      idle_.erase(it);
      --stats_.idle_buffers;
      stats_.idle_bytes -= buffer->bytes();
      return buffer;
    }
    ++stats_.created;
  }
  // Outside the lock: a large block takes a while to map. Not zero-filled: a
  // buffer holds the last call's values anyway, so no step may count on zeros.
  return std::make_shared<Storage>(bytes, Storage::Fill::none);
}

void BufferPool::give(std::shared_ptr<Storage> buffer) {
  if (!buffer) return;
  std::lock_guard lock(mutex_);
  if (stats_.idle_bytes + buffer->bytes() > kMaxIdleBytes) return;  // freed as `buffer` goes
  ++stats_.idle_buffers;
  stats_.idle_bytes += buffer->bytes();
  const std::size_t bytes = buffer->bytes();
  idle_.emplace(bytes, std::move(buffer));
}

BufferPool::Stats BufferPool::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace graphjit::exec
