#include "runtime/thread_pool.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define BITNET_CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define BITNET_CPU_RELAX() asm volatile("yield")
#else
#define BITNET_CPU_RELAX() ((void)0)
#endif

namespace bitnet {

int default_thread_count() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 4 : int(n);
}

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads < 1 ? 1 : n_threads) {
  // Spinning only pays when every thread has a core of its own; oversubscribed, it starves the
  // thread that holds the work.
  const unsigned hw = std::thread::hardware_concurrency();
  spin_iterations_ = hw != 0 && unsigned(n_threads_) > hw ? 0 : (1 << 14);
  workers_.reserve(n_threads_ - 1);
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true);
  state_.fetch_add(uint64_t(1) << kGenShift);  // wakes spinning workers
  wake_sleepers();
  for (auto& w : workers_) w.join();
}

void ThreadPool::wake_sleepers() {
  if (sleepers_.load() == 0) return;
  std::lock_guard<std::mutex> lock(sleep_mutex_);
  wake_.notify_all();
}

void ThreadPool::work(uint64_t generation, int thread_index) {
  Job& job = jobs_[generation & 1];
  for (;;) {
    uint64_t s = state_.load(std::memory_order_acquire);
    if ((s >> kGenShift) != generation) return;  // a newer job: ours is finished
    const int64_t task = int64_t(s & 0xFFFFFFFFu);
    // A stale n_tasks (slot reused two jobs later) only makes the CAS below fail.
    if (task >= job.n_tasks.load(std::memory_order_relaxed)) return;
    if (!state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel)) continue;
    // Claimed: the job cannot complete (and its slot cannot be reused) until done_ counts this task.
    job.fn.load(std::memory_order_relaxed)(job.ctx.load(std::memory_order_relaxed), task, thread_index);
    done_.fetch_add(1, std::memory_order_release);
  }
}

void ThreadPool::run(int64_t n_tasks, TaskFn fn, void* ctx) {
  const uint64_t generation = (state_.load(std::memory_order_relaxed) >> kGenShift) + 1;
  Job& job = jobs_[generation & 1];
  job.fn.store(fn, std::memory_order_relaxed);
  job.ctx.store(ctx, std::memory_order_relaxed);
  job.n_tasks.store(n_tasks, std::memory_order_relaxed);
  done_.store(0, std::memory_order_relaxed);
  state_.store(generation << kGenShift);  // publishes the job (seq_cst: pairs with sleepers_)
  wake_sleepers();
  work(generation, 0);
  int spins = 0;
  while (done_.load(std::memory_order_acquire) != n_tasks) {
    if (++spins < spin_iterations_) BITNET_CPU_RELAX();
    else std::this_thread::yield();
  }
}

void ThreadPool::worker_loop(int thread_index) {
  uint64_t seen = 0;  // the constructor's generation: a job published before we ran is still new
  for (;;) {
    int spins = 0;
    uint64_t now;
    while ((now = state_.load(std::memory_order_acquire) >> kGenShift) == seen) {
      if (++spins < spin_iterations_) {
        BITNET_CPU_RELAX();
      } else {
        std::unique_lock<std::mutex> lock(sleep_mutex_);
        sleepers_.fetch_add(1);
        wake_.wait(lock, [&] { return (state_.load() >> kGenShift) != seen; });
        sleepers_.fetch_sub(1);
      }
    }
    seen = now;
    if (stop_.load(std::memory_order_acquire)) return;
    work(now, thread_index);
  }
}

}  // namespace bitnet
