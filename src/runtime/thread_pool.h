// One pool for the whole run. parallel_for hands out task indices to the calling thread and the
// workers; it allocates nothing and takes no lock per call, so it can run a few hundred times per
// decoded token.
//
// Completion is counted in finished tasks, not in workers that checked in: when a worker is not
// scheduled (a busy machine, more threads than cores), the caller runs the remaining tasks itself
// and returns without waiting for that worker to wake up. A worker can only claim a task of the
// job it woke for (the job generation and the next task index share one atomic word), so a late
// worker never runs a task of a newer job with an old job's function.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace bitnet {

// All hardware threads (at least 1).
int default_thread_count();

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);  // n_threads includes the calling thread
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Runs fn(task, thread_index) for task in [0, n_tasks), spread over all threads; returns when all
  // are done. fn must not throw (kernels do not); not reentrant.
  template <class Fn>
  void parallel_for(int64_t n_tasks, Fn&& fn) {
    if (n_tasks <= 0) return;
    if (n_threads_ == 1 || n_tasks == 1) {
      for (int64_t t = 0; t < n_tasks; ++t) fn(t, 0);
      return;
    }
    run(n_tasks, [](void* ctx, int64_t task, int thread) { (*static_cast<Fn*>(ctx))(task, thread); },
        &fn);
  }

 private:
  using TaskFn = void (*)(void* ctx, int64_t task, int thread);
  // Two slots: job g lives in slot g & 1, so publishing job g+1 never touches a job that a late
  // worker may still be claiming from.
  struct Job {
    std::atomic<TaskFn> fn{nullptr};
    std::atomic<void*> ctx{nullptr};
    std::atomic<int64_t> n_tasks{0};
  };
  static constexpr int kGenShift = 32;

  void run(int64_t n_tasks, TaskFn fn, void* ctx);
  void worker_loop(int thread_index);
  void work(uint64_t generation, int thread_index);
  void wake_sleepers();

  int n_threads_;
  int spin_iterations_ = 0;
  std::vector<std::thread> workers_;
  Job jobs_[2];
  alignas(64) std::atomic<uint64_t> state_{0};  // generation << 32 | next task index
  alignas(64) std::atomic<int64_t> done_{0};    // finished tasks of the current job
  std::atomic<bool> stop_{false};
  // Sleep path: sleepers_ is read by run() after publishing (seq_cst on both sides), so a worker
  // either sees the new generation or is counted and gets notified.
  std::mutex sleep_mutex_;
  std::condition_variable wake_;
  std::atomic<int> sleepers_{0};
};

}  // namespace bitnet
