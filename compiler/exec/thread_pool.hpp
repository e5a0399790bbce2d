// The threads that large kernels split their loops over.
//
// Started once, on first use (creating threads per kernel call would cost more
// than small kernels take). Between jobs the workers spin for a few tens of
// microseconds, because the kernels of one function call come in quick
// succession, and then sleep. config().num_threads (flag num_threads) caps
// how many threads kernels use (default: all hardware threads).
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace graphjit::exec {

class ThreadPool {
 public:
  // One thread per hardware thread, the caller counted as one of them.
  static ThreadPool& global();

  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }
  // How many pieces work should be cut into: size(), or less if capped.
  int concurrency() const { return std::min(size(), max_threads_.load(std::memory_order_relaxed)); }
  void set_max_threads(int n) { max_threads_.store(std::max(1, n)); }

  // Runs task(0), ..., task(n-1), the caller taking part, and returns when all
  // are done. A call made while the pool is busy (from another thread, or from
  // inside a task) runs its tasks on the calling thread alone.
  void run(int n, const std::function<void(int)>& task);

 private:
  struct Job {
    const std::function<void(int)>* task;
    int n;
    std::atomic<int> next{0};    // the next task index to claim
    std::atomic<int> done{0};    // tasks finished
    std::atomic<int> active{0};  // workers that joined and have not left
  };

  void work_loop();
  static void claim_tasks(Job& job);

  std::atomic<int> max_threads_;
  std::vector<std::thread> workers_;
  std::mutex busy_;  // held by the thread whose job the pool is running
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<std::uint64_t> generation_{0};  // bumped for each job
  Job* job_ = nullptr;                        // guarded by mutex_
  bool stop_ = false;                         // guarded by mutex_
};

}  // namespace graphjit::exec
