/// Tests of the stop signals with raise(): requests are recorded, the first
/// one wins, previous handlers come back, a second Ctrl-C kills (in a
/// forked child), and the exit statuses.

#include <gtest/gtest.h>

#include <csignal>

#include "runtime/train/signals.h"
#include "tests/train/train_test_util.h"

namespace anet {
namespace {

TEST(StopSignals, RecordsTheFirstStopRequest) {
  StopSignals stop;
  EXPECT_EQ(stop.requested(), 0);
  ASSERT_EQ(std::raise(SIGTERM), 0);
  EXPECT_EQ(stop.requested(), SIGTERM);
  ASSERT_EQ(std::raise(SIGTERM), 0); // a second SIGTERM changes nothing
  EXPECT_EQ(stop.requested(), SIGTERM);
}

TEST(StopSignals, RecordsSigint) {
  StopSignals stop;
  ASSERT_EQ(std::raise(SIGINT), 0);
  EXPECT_EQ(stop.requested(), SIGINT);
}

TEST(StopSignals, EachInstanceStartsWithNoRequest) {
  {
    StopSignals stop;
    ASSERT_EQ(std::raise(SIGINT), 0);
  }
  StopSignals stop;
  EXPECT_EQ(stop.requested(), 0);
}

volatile std::sig_atomic_t g_previous_handler_ran = 0;
void previous_handler(int) { g_previous_handler_ran = 1; }

TEST(StopSignals, RestoresThePreviousHandlers) {
  struct sigaction mine {
  }, saved_int{}, saved_term{};
  mine.sa_handler = previous_handler;
  sigemptyset(&mine.sa_mask);
  ASSERT_EQ(sigaction(SIGINT, &mine, &saved_int), 0);
  ASSERT_EQ(sigaction(SIGTERM, &mine, &saved_term), 0);
  {
    StopSignals stop;
    ASSERT_EQ(std::raise(SIGINT), 0);
    EXPECT_EQ(g_previous_handler_ran, 0);
  }
  ASSERT_EQ(std::raise(SIGINT), 0);
  EXPECT_EQ(g_previous_handler_ran, 1);
  g_previous_handler_ran = 0;
  ASSERT_EQ(std::raise(SIGTERM), 0);
  EXPECT_EQ(g_previous_handler_ran, 1);
  sigaction(SIGINT, &saved_int, nullptr);
  sigaction(SIGTERM, &saved_term, nullptr);
}

TEST(StopSignals, ASecondSigintQuitsAtOnce) {
  for (int first : {SIGINT, SIGTERM}) {
    auto child = testing::run_in_child([first]() -> std::string {
      StopSignals stop;
      std::raise(first);
      if (stop.requested() != first)
        return "the first signal was not recorded";
      std::raise(SIGINT);
      return "survived a second stop request";
    });
    EXPECT_FALSE(child.exited) << child.output;
    EXPECT_EQ(child.signal, SIGINT) << first;
  }
}

TEST(StopSignals, ExitCodesAre128PlusTheSignal) {
  EXPECT_EQ(StopSignals::exit_code_for(SIGINT), 130);
  EXPECT_EQ(StopSignals::exit_code_for(SIGTERM), 143);
}

} // namespace
} // namespace anet
