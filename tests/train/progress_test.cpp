/// Tests of the progress display with a fake clock: the terminal line and
/// its redraw rate, plain lines at an interval and at the end, unknown
/// totals, resumed work, and terminal detection.

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "runtime/train/progress.h"

namespace anet {
namespace {

/// A clock the test moves by hand.
struct FakeClock {
  double now = 1000.0;
  ProgressOptions options(std::string unit = "img") {
    ProgressOptions o;
    o.unit = std::move(unit);
    o.clock = [this] { return now; };
    return o;
  }
};

TEST(Progress, TerminalLineIsRedrawnInPlaceAtMostTenTimesASecond) {
  FakeClock clock;
  std::ostringstream out;
  ProgressOptions o = clock.options();
  o.bar_width = 10;
  Progress p("train", 1000, out, /*terminal=*/true, o);
  clock.now += 2;
  p.update(100, {{"loss", "2.303"}});
  EXPECT_EQ(out.str(), "\rtrain [=>        ]  10.0% 100/1000 50.0 img/s ETA 0:18  loss 2.303");
  out.str("");
  clock.now += 0.0625;
  p.update(101);
  EXPECT_EQ(out.str(), ""); // too soon
  clock.now += 0.0625;
  p.update(400, {{"loss", "1.5"}, {"top1", "40%"}});
  EXPECT_EQ(out.str(),
            "\rtrain [====>     ]  40.0% 400/1000 188 img/s ETA 0:03  loss 1.5  top1 40%");
  out.str("");
  clock.now += 1;
  p.update(500);
  // The shorter line blanks out the rest of the longer one.
  EXPECT_EQ(out.str(),
            "\rtrain [=====>    ]  50.0% 500/1000 160 img/s ETA 0:03" + std::string(20, ' '));
  out.str("");
  clock.now += 3.1;
  p.update(1000);
  out.str("");
  p.finish({{"loss", "0.9"}});
  EXPECT_EQ(out.str(), "\rtrain [==========] 100.0% 1000/1000 161 img/s in 0:06  loss 0.9\n");
}

TEST(Progress, PlainLinesComeEveryIntervalAndAtTheEnd) {
  FakeClock clock;
  std::ostringstream out;
  Progress p("eval", 200, out, /*terminal=*/false, clock.options());
  for (int i = 1; i <= 9; ++i) {
    clock.now += 1;
    p.update(i * 10);
  }
  EXPECT_EQ(out.str(), ""); // 9 s: nothing yet
  clock.now += 1;
  p.update(100, {{"top5", "0.2"}});
  EXPECT_EQ(out.str(), "eval 100/200 (50.0%) 10.0 img/s ETA 0:10  top5 0.2\n");
  clock.now += 5;
  p.update(150);
  EXPECT_EQ(out.str(), "eval 100/200 (50.0%) 10.0 img/s ETA 0:10  top5 0.2\n");
  clock.now += 2.5;
  p.update(200);
  p.finish({{"top5", "0.18"}});
  EXPECT_EQ(out.str(), "eval 100/200 (50.0%) 10.0 img/s ETA 0:10  top5 0.2\n"
                       "eval 200/200 (100.0%) 11.4 img/s in 0:18  top5 0.18\n");
}

TEST(Progress, PlainIntervalIsConfigurable) {
  FakeClock clock;
  std::ostringstream out;
  ProgressOptions o = clock.options("batch");
  o.plain_interval_s = 2;
  Progress p("stats", 0, out, /*terminal=*/false, o);
  clock.now += 2;
  p.update(7);
  EXPECT_EQ(out.str(), "stats 7 batch 3.50 batch/s\n");
}

TEST(Progress, UnknownTotalHasNoBarPercentageOrEta) {
  FakeClock clock;
  std::ostringstream out;
  Progress p("scan", 0, out, /*terminal=*/true, clock.options("file"));
  clock.now += 4000;
  p.update(123456);
  EXPECT_EQ(out.str(), "\rscan 123456 file 30.9 file/s");
  out.str("");
  p.finish();
  EXPECT_EQ(out.str(), "\rscan 123456 file 30.9 file/s in 1:06:40\n");
}

TEST(Progress, RateCountsOnlyWorkDoneSinceAResume) {
  FakeClock clock;
  std::ostringstream out;
  ProgressOptions o = clock.options();
  o.initial = 5000;
  Progress p("train", 10000, out, /*terminal=*/false, o);
  clock.now += 10;
  p.update(5100);
  EXPECT_EQ(out.str(), "train 5100/10000 (51.0%) 10.0 img/s ETA 8:10\n");
}

TEST(Progress, NoRateBeforeAnyWork) {
  FakeClock clock;
  std::ostringstream out;
  Progress p("train", 10, out, /*terminal=*/true, clock.options());
  p.update(0);
  EXPECT_EQ(out.str(), "\rtrain [                        ]   0.0% 0/10 -- img/s");
}

TEST(Progress, DestructionEndsAnUnfinishedTerminalLine) {
  FakeClock clock;
  std::ostringstream out;
  {
    Progress p("train", 10, out, /*terminal=*/true, clock.options());
    clock.now += 1;
    p.update(3);
  }
  EXPECT_EQ(out.str().back(), '\n');
  std::ostringstream plain;
  { Progress p("train", 10, plain, /*terminal=*/false, clock.options()); }
  EXPECT_EQ(plain.str(), "");
}

TEST(Progress, DetectsTerminals) {
  std::FILE *file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  EXPECT_FALSE(is_terminal(file));
  std::fclose(file);
  // A pseudo-terminal's far end is a terminal.
  int master = ::posix_openpt(O_RDWR | O_NOCTTY);
  ASSERT_GE(master, 0);
  ASSERT_EQ(::grantpt(master), 0);
  ASSERT_EQ(::unlockpt(master), 0);
  std::FILE *tty = std::fopen(::ptsname(master), "w");
  ASSERT_NE(tty, nullptr);
  EXPECT_TRUE(is_terminal(tty));
  std::fclose(tty);
  ::close(master);
}

} // namespace
} // namespace anet
