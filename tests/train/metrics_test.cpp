/// Tests of the metrics logs: the JSON-lines and CSV text written, flushing,
/// truncation, resuming after a step (equal to an uninterrupted run's
/// logs), torn and damaged lines, and I/O errors naming the file.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "runtime/train/metrics.h"
#include "tests/train/train_test_util.h"

namespace anet {
namespace {

using testing::read_bytes;
using testing::ScratchDir;

const std::vector<std::string> kColumns = {"step", "loss", "top1", "note"};

MetricsLog open_log(const std::string &dir, std::optional<int64_t> resume = std::nullopt,
                    std::vector<std::string> columns = kColumns) {
  auto log = MetricsLog::open(dir, "train", std::move(columns), resume);
  EXPECT_TRUE(log.ok()) << log.error().message;
  return std::move(log).value();
}

MetricRecord step_record(int64_t step) {
  return {{"step", step}, {"loss", 2.5 / static_cast<double>(step)}, {"top1", 0.125 * step}};
}

TEST(MetricsLog, WritesJsonLinesAndCsvFlushedPerRecord) {
  ScratchDir dir;
  MetricsLog log = open_log(dir.path());
  EXPECT_EQ(log.jsonl_path(), dir.file("train.jsonl"));
  EXPECT_EQ(log.csv_path(), dir.file("train.csv"));
  ASSERT_TRUE(log.append({{"step", 1}, {"loss", 2.5}, {"top1", 0.25}}).ok());
  ASSERT_TRUE(log.append({{"step", int64_t{2}}, {"loss", 0.1}, {"note", "a,b \"q\""}}).ok());
  // Read while the log is still open: every record is already flushed.
  EXPECT_EQ(read_bytes(log.jsonl_path()), "{\"step\":1,\"loss\":2.5,\"top1\":0.25}\n"
                                          "{\"step\":2,\"loss\":0.1,\"note\":\"a,b \\\"q\\\"\"}\n");
  EXPECT_EQ(read_bytes(log.csv_path()), "step,loss,top1,note\n"
                                        "1,2.5,0.25,\n"
                                        "2,0.1,,\"a,b \"\"q\"\"\"\n");
}

TEST(MetricsLog, NumbersReadBackExactlyAndNonFiniteOnesAreNull) {
  ScratchDir dir;
  MetricsLog log = open_log(dir.path());
  const double third = 1.0 / 3.0;
  ASSERT_TRUE(log.append({{"step", 3}, {"loss", third}, {"top1", 1e20}}).ok());
  ASSERT_TRUE(log.append({{"step", 4},
                          {"loss", std::numeric_limits<double>::quiet_NaN()},
                          {"top1", -std::numeric_limits<double>::infinity()}})
                  .ok());
  EXPECT_EQ(read_bytes(log.jsonl_path()),
            "{\"step\":3,\"loss\":0.3333333333333333,\"top1\":1e+20}\n"
            "{\"step\":4,\"loss\":null,\"top1\":null}\n");
  EXPECT_EQ(read_bytes(log.csv_path()),
            "step,loss,top1,note\n3,0.3333333333333333,1e+20,\n4,nan,-inf,\n");
  EXPECT_EQ(std::stod("0.3333333333333333"), third);
}

TEST(MetricsLog, OpeningWithoutResumeTruncates) {
  ScratchDir dir;
  {
    MetricsLog log = open_log(dir.path());
    ASSERT_TRUE(log.append(step_record(1)).ok());
  }
  MetricsLog log = open_log(dir.path());
  EXPECT_EQ(read_bytes(log.jsonl_path()), "");
  EXPECT_EQ(read_bytes(log.csv_path()), "step,loss,top1,note\n");
}

TEST(MetricsLog, ResumedLogsEqualAnUninterruptedRuns) {
  ScratchDir straight, resumed;
  {
    MetricsLog log = open_log(straight.path());
    for (int64_t step = 1; step <= 6; ++step)
      ASSERT_TRUE(log.append(step_record(step)).ok());
  }
  {
    // The interrupted run got to step 5 after its last checkpoint at 3.
    MetricsLog log = open_log(resumed.path());
    for (int64_t step = 1; step <= 5; ++step)
      ASSERT_TRUE(log.append(step_record(step)).ok());
  }
  {
    MetricsLog log = open_log(resumed.path(), 3);
    for (int64_t step = 4; step <= 6; ++step)
      ASSERT_TRUE(log.append(step_record(step)).ok());
  }
  EXPECT_EQ(read_bytes(resumed.file("train.jsonl")), read_bytes(straight.file("train.jsonl")));
  EXPECT_EQ(read_bytes(resumed.file("train.csv")), read_bytes(straight.file("train.csv")));
  EXPECT_NE(read_bytes(straight.file("train.csv")).find("\n6,"), std::string::npos);
}

TEST(MetricsLog, ResumeDropsATornLastLineAndBlankLines) {
  ScratchDir dir;
  testing::write_bytes(dir.file("train.jsonl"), "{\"step\":1,\"loss\":2}\n\n"
                                                "{\"step\":2,\"loss\":1}\n{\"step\":3,\"lo");
  MetricsLog log = open_log(dir.path(), 10);
  EXPECT_EQ(read_bytes(log.jsonl_path()), "{\"step\":1,\"loss\":2}\n{\"step\":2,\"loss\":1}\n");
  EXPECT_EQ(read_bytes(log.csv_path()), "step,loss,top1,note\n1,2,,\n2,1,,\n");
}

TEST(MetricsLog, ResumeRegeneratesTheCsvWithTheNewColumns) {
  ScratchDir dir;
  testing::write_bytes(dir.file("train.jsonl"),
                       "{\"step\":1,\"loss\":null,\"old\":true,\"note\":\"x\"}\n");
  testing::write_bytes(dir.file("train.csv"), "a,b\nstale,rows\n");
  MetricsLog log = open_log(dir.path(), 1, {"step", "note", "loss", "lr"});
  EXPECT_EQ(read_bytes(log.csv_path()), "step,note,loss,lr\n1,x,nan,\n");
}

TEST(MetricsLog, ResumeWithoutALogStartsEmpty) {
  ScratchDir dir;
  MetricsLog log = open_log(dir.file("new/dir"), 100);
  EXPECT_EQ(read_bytes(log.jsonl_path()), "");
  EXPECT_EQ(read_bytes(log.csv_path()), "step,loss,top1,note\n");
}

TEST(MetricsLog, ResumeRefusesALineThatIsNotARecord) {
  ScratchDir dir;
  for (const char *bad : {"not json\n", "[1]\n", "{\"loss\":1}\n", "{\"step\":\"3\"}\n"}) {
    testing::write_bytes(dir.file("train.jsonl"), std::string("{\"step\":1}\n") + bad);
    auto log = MetricsLog::open(dir.path(), "train", kColumns, 5);
    ASSERT_FALSE(log.ok()) << bad;
    EXPECT_EQ(log.error().code, ExitCode::IO);
    EXPECT_EQ(log.error().message, "cannot resume metrics log '" + dir.file("train.jsonl") +
                                       "': line 2 is not a JSON object with a numeric \"step\"");
    // The logs are left as they were.
    EXPECT_EQ(read_bytes(dir.file("train.jsonl")), std::string("{\"step\":1}\n") + bad);
  }
}

TEST(MetricsLog, UncreatableFilesAreIOErrorsNamingThem) {
  ScratchDir dir;
  testing::write_bytes(dir.file("plain"), "x");
  auto in_file = MetricsLog::open(dir.file("plain"), "train", kColumns);
  ASSERT_FALSE(in_file.ok());
  EXPECT_EQ(in_file.error().code, ExitCode::IO);
  EXPECT_EQ(in_file.error().message.rfind(
                "cannot create metrics directory '" + dir.file("plain") + "': ", 0),
            0u)
      << in_file.error().message;

  std::filesystem::create_directories(dir.file("logs/train.csv"));
  auto csv_is_dir = MetricsLog::open(dir.file("logs"), "train", kColumns);
  ASSERT_FALSE(csv_is_dir.ok());
  EXPECT_EQ(csv_is_dir.error().code, ExitCode::IO);
  EXPECT_EQ(csv_is_dir.error().message,
            "cannot replace metrics log '" + dir.file("logs/train.csv") + "': Is a directory");

  std::filesystem::create_directories(dir.file("resume/train.jsonl"));
  auto unreadable = MetricsLog::open(dir.file("resume"), "train", kColumns, 1);
  ASSERT_FALSE(unreadable.ok());
  EXPECT_EQ(unreadable.error().code, ExitCode::IO);
  EXPECT_EQ(unreadable.error().message.rfind(
                "cannot read metrics log '" + dir.file("resume/train.jsonl") + "': ", 0),
            0u)
      << unreadable.error().message;
}

// A full disk, simulated by a file size limit in a child process.
TEST(MetricsLog, AFailedWriteIsAnIOErrorNamingTheFile) {
  ScratchDir dir;
  auto child = testing::run_in_child([&]() -> std::string {
    MetricsLog log = open_log(dir.path());
    testing::limit_file_size(4096);
    for (int i = 0; i < 100; ++i) {
      Status s = log.append({{"step", i}, {"note", std::string(200, 'x')}});
      if (!s.ok())
        return std::to_string(static_cast<int>(s.error().code)) + "\n" + s.error().message;
    }
    return "wrote past the limit";
  });
  ASSERT_TRUE(child.exited);
  EXPECT_EQ(child.output,
            "74\ncannot write metrics log '" + dir.file("train.jsonl") + "': File too large");
}

} // namespace
} // namespace anet
