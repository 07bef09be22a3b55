// The cpu device's thread pool: every index of a loop runs exactly once, on
// a valid worker, for any size and grain, also with several callers at once,
// and whether the workers are still spinning or asleep when a loop starts.

#include "runtime/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

namespace anet {
namespace {

struct Count {
  std::vector<std::atomic<int>> hits;
  std::atomic<int> bad_worker{0};
  int workers;
  Count(long n, int w) : hits(static_cast<size_t>(n)), workers(w) {}
};

void count(void *ctx, long begin, long end, int worker) {
  auto &c = *static_cast<Count *>(ctx);
  if (worker < 0 || worker >= c.workers || begin >= end)
    ++c.bad_worker;
  for (long i = begin; i < end; ++i)
    ++c.hits[static_cast<size_t>(i)];
}

TEST(ThreadPool, EveryIndexRunsOnce) {
  for (int workers : {1, 2, 3, 8}) {
    ThreadPool pool(workers);
    EXPECT_EQ(pool.workers(), workers);
    for (long n : {0L, 1L, 7L, 100L, 1001L})
      for (long grain : {1L, 3L, 64L, 5000L}) {
        Count c(n, workers);
        pool.parallel_for(n, grain, &count, &c);
        for (long i = 0; i < n; ++i)
          ASSERT_EQ(c.hits[static_cast<size_t>(i)], 1)
              << "workers " << workers << " n " << n << " grain " << grain << " index " << i;
        EXPECT_EQ(c.bad_worker, 0);
      }
  }
}

TEST(ThreadPool, CallersFromSeveralThreadsTakeTurns) {
  ThreadPool pool(3);
  std::vector<std::thread> callers;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t)
    callers.emplace_back([&] {
      for (int rep = 0; rep < 50; ++rep) {
        Count c(257, 3);
        pool.parallel_for(257, 2, &count, &c);
        for (auto &h : c.hits)
          if (h != 1)
            ++failures;
      }
    });
  for (auto &t : callers)
    t.join();
  EXPECT_EQ(failures, 0);
}

// Loops back to back find the workers spinning; loops after a pause longer
// than the spin find them asleep. Both run every index once, and a pool
// whose workers sleep shuts down.
TEST(ThreadPool, LoopsFindTheWorkersSpinningOrAsleep) {
  for (int workers : {2, 4}) {
    ThreadPool pool(workers);
    for (int rep = 0; rep < 40; ++rep) {
      if (rep % 4 == 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      Count c(97, workers);
      pool.parallel_for(97, 1, &count, &c);
      for (auto &h : c.hits)
        ASSERT_EQ(h, 1) << "workers " << workers << " loop " << rep;
      EXPECT_EQ(c.bad_worker, 0);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

} // namespace
} // namespace anet
