#include "compiler/exec/thread_pool.hpp"

#include <algorithm>
#include <graphjit/runtime/config.hpp>

#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define GRAPHJIT_CPU_RELAX() _mm_pause()
#else
#define GRAPHJIT_CPU_RELAX() std::this_thread::yield()
#endif

namespace graphjit::exec {

namespace {
// How long an idle worker keeps polling before it sleeps: long enough to catch
// the next kernel of a training step, short enough not to steal a core from
// BLAS for long.
constexpr auto spin_time = std::chrono::microseconds(50);
}  // namespace

ThreadPool& ThreadPool::global() {
  // Never destroyed: joining threads during static destruction can deadlock.
  // The options are checked before any thread starts: a bad value throws here
  // on every use, and must not leave a started pool behind each time.
  static ThreadPool* pool = [] {
    check_config(config());
    const int hardware = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    auto* p = new ThreadPool(hardware);
    if (const int cap = config().num_threads; cap > 0) p->set_max_threads(cap);
    return p;
  }();
  return *pool;
}

ThreadPool::ThreadPool(int threads) : max_threads_(threads) {
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { work_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::claim_tasks(Job& job) {
  for (int i = job.next.fetch_add(1); i < job.n; i = job.next.fetch_add(1)) {
    (*job.task)(i);
    job.done.fetch_add(1, std::memory_order_release);
  }
}

void ThreadPool::run(int n, const std::function<void(int)>& task) {
  std::unique_lock busy(busy_, std::try_to_lock);
  if (n <= 1 || workers_.empty() || !busy.owns_lock()) {
    for (int i = 0; i < n; ++i) task(i);
    return;
  }
  Job job;
  job.task = &task;
  job.n = n;
  {
    std::lock_guard lock(mutex_);
    job_ = &job;
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  claim_tasks(job);
  while (job.done.load(std::memory_order_acquire) < n) GRAPHJIT_CPU_RELAX();
  {
    std::lock_guard lock(mutex_);
    job_ = nullptr;
  }
  // `job` lives on this stack frame: wait until no worker still looks at it.
  while (job.active.load(std::memory_order_acquire) > 0) GRAPHJIT_CPU_RELAX();
}

void ThreadPool::work_loop() {
  std::uint64_t seen = generation_.load();
  for (;;) {
    const auto spin_until = std::chrono::steady_clock::now() + spin_time;
    for (int polls = 0; generation_.load(std::memory_order_acquire) == seen; ++polls) {
      GRAPHJIT_CPU_RELAX();
      if (polls % 64 == 63 && std::chrono::steady_clock::now() > spin_until) {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return generation_.load() != seen; });
        break;
      }
    }
    Job* job;
    {
      std::lock_guard lock(mutex_);
      if (stop_) return;
      seen = generation_.load();
      job = job_;
      if (!job) continue;  // that job is already finished
      job->active.fetch_add(1);
    }
    claim_tasks(*job);
    job->active.fetch_sub(1, std::memory_order_release);
  }
}

}  // namespace graphjit::exec
