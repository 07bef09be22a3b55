#pragma once
/// The CPU device's workers: a fixed pool of threads that runs parallel
/// loops for JIT-compiled kernels (codegen/cpu/kernels/abi.h). The calling
/// thread is worker 0 and works too; loops from several callers take turns.
/// Between loops a worker spins briefly before it sleeps, and so does the
/// caller waiting for the workers: a program's nodes run loop after loop,
/// and waking a sleeping thread costs tens of microseconds (more in a VM).

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "codegen/cpu/kernels/abi.h"

namespace anet {

class ThreadPool {
public:
  /// A pool of `workers` workers (at least 1): the caller and workers - 1
  /// threads.
  explicit ThreadPool(int workers);
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  int workers() const { return static_cast<int>(threads_.size()) + 1; }

  /// Runs fn(ctx, begin, end, worker) over [0, n) in slices of at least
  /// `grain` iterations, each worker taking the next slice until none is
  /// left; returns when all have finished. A worker index is used by one
  /// slice at a time.
  void parallel_for(long n, long grain, anet_task_fn fn, void *ctx);

  /// parallel_for in the form anet_cpu_rt expects (`pool` is a ThreadPool).
  static void run_for(void *pool, long n, long grain, anet_task_fn fn, void *ctx);

private:
  void work(int worker);
  void run_slices(int worker);

  std::vector<std::thread> threads_;
  std::mutex call_mutex_; ///< one loop at a time

  std::mutex mutex_; ///< guards generation_'s changes and stop_ for sleepers
  std::condition_variable wake_;
  std::condition_variable done_;
  std::atomic<uint64_t> generation_{0};
  bool stop_ = false;

  // The loop being run.
  anet_task_fn fn_ = nullptr;
  void *ctx_ = nullptr;
  long n_ = 0;
  long slice_ = 1;
  std::atomic<long> next_{0};
  std::atomic<int> pending_{0}; ///< workers still in the current loop
};

} // namespace anet
