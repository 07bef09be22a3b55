// The CPU device's thread pool. Workers sleep on a condition variable
// between loops; a loop hands out slices through an atomic counter, so
// uneven slices balance themselves, and the caller waits until every worker
// has checked in, so no worker still reads the loop's state after it returns.

#include "runtime/thread_pool.h"

#include <algorithm>
#include <cassert>
#include <chrono>

namespace anet {
namespace {

/// How long a worker, or the caller, spins before it sleeps.
constexpr auto kSpin = std::chrono::microseconds(100);

/// Spins until done() or kSpin has passed; returns done().
template <class Done> bool spin_until(const Done &done) {
  const auto until = std::chrono::steady_clock::now() + kSpin;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (done())
        return true;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
    if (std::chrono::steady_clock::now() >= until)
      return done();
  }
}

} // namespace

ThreadPool::ThreadPool(int workers) {
  assert(workers >= 1 && "a pool needs a worker");
  for (int w = 1; w < workers; ++w)
    threads_.emplace_back([this, w] { work(w); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (std::thread &t : threads_)
    t.join();
}

void ThreadPool::run_slices(int worker) {
  for (long begin; (begin = next_.fetch_add(slice_)) < n_;)
    fn_(ctx_, begin, std::min(begin + slice_, n_), worker);
}

void ThreadPool::work(int worker) {
  uint64_t seen = 0;
  for (;;) {
    if (spin_until([&] { return generation_.load(std::memory_order_acquire) != seen; })) {
      seen = generation_.load(std::memory_order_acquire);
    } else {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || generation_.load() != seen; });
      if (stop_)
        return;
      seen = generation_.load();
    }
    run_slices(worker);
    if (pending_.fetch_sub(1) == 1) {
      std::lock_guard lock(mutex_);
      done_.notify_one();
    }
  }
}

void ThreadPool::parallel_for(long n, long grain, anet_task_fn fn, void *ctx) {
  if (n <= 0)
    return;
  grain = std::max(grain, 1L);
  if (threads_.empty() || n <= grain) {
    fn(ctx, 0, n, 0);
    return;
  }
  std::lock_guard call(call_mutex_);
  // Several slices per worker balance uneven work; never below the grain.
  const long per_slice = (n + 4L * workers() - 1) / (4L * workers());
  fn_ = fn;
  ctx_ = ctx;
  n_ = n;
  slice_ = std::max(grain, per_slice);
  next_ = 0;
  pending_ = static_cast<int>(threads_.size());
  {
    std::lock_guard lock(mutex_);
    ++generation_;
  }
  wake_.notify_all();
  run_slices(0);
  if (spin_until([&] { return pending_.load(std::memory_order_acquire) == 0; }))
    return;
  std::unique_lock lock(mutex_);
  done_.wait(lock, [&] { return pending_.load() == 0; });
}

void ThreadPool::run_for(void *pool, long n, long grain, anet_task_fn fn, void *ctx) {
  static_cast<ThreadPool *>(pool)->parallel_for(n, grain, fn, ctx);
}

} // namespace anet
