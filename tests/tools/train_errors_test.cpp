/// The error paths of `anetrun train` and `anetrun export` with the built
/// tools: flags, plans without a train program, non-finite losses, corrupt,
/// empty, missing and mismatched datasets, a full disk under the checkpoint
/// directory, and checkpoints of another model. Each checks the exit code,
/// that the message names what is wrong, and what is left on disk.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <regex>

#include "ir/plan.h"
#include "runtime/train/checkpoint.h"
#include "runtime/train/trainer.h"
#include "tests/tools/train_fixtures.h"

namespace anet {
namespace {

using testing::anetc;
using testing::anetrun;
using testing::contains;
using testing::expect_failure;
using testing::RunResult;
using testing::ScratchDir;

namespace fs = std::filesystem;

/// Compiles alexnet-mini (grey, 10 classes) for training at batch 2 with the
/// paper's initialisation and writes a tiny IDX dataset, once for the whole
/// suite. Statistics caches go under the suite's own $HOME.
class TrainErrors : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = new ScratchDir;
    testing::prepare_training_suite(*dir_);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string path(const std::string &name) { return dir_->path(name); }

  /// alexnet-mini for RGB images of 4 classes, compiled for training at
  /// batch 2 on first use.
  static const std::string &rgb_plan() {
    static const std::string plan = [] {
      RunResult r = anetc({"model", "alexnet-mini", "-o", path("rgb.onnx"), "--channels", "3",
                           "--num-classes", "4"});
      EXPECT_EQ(r.exit_code, 0) << r.err;
      r = anetc({"compile", path("rgb.onnx"), "-o", path("rgb.plan"), "--mode", "train", "--batch",
                 "2", "--init", "paper"});
      EXPECT_EQ(r.exit_code, 0) << r.err;
      return path("rgb.plan");
    }();
    return plan;
  }

  /// alexnet-mini compiled without --mode train, on first use.
  static const std::string &infer_plan() {
    static const std::string plan = [] {
      RunResult r = anetc({"compile", path("mini.onnx"), "-o", path("infer.plan")});
      EXPECT_EQ(r.exit_code, 0) << r.err;
      return path("infer.plan");
    }();
    return plan;
  }

  /// `train` on the suite's plan and IDX data with `more` flags.
  static std::vector<std::string> train_args(std::vector<std::string> more) {
    std::vector<std::string> args = {"train", path("train.plan"), "--data", path("idx")};
    args.insert(args.end(), more.begin(), more.end());
    return args;
  }

  static ScratchDir *dir_;
};

ScratchDir *TrainErrors::dir_ = nullptr;

// ---------------------------------------------------------------- flags, plans

TEST_F(TrainErrors, StepsAndEpochsAreExclusive) {
  expect_failure(anetrun(train_args({"--steps", "2", "--epochs", "1"})), 2,
                 "give exactly one of --epochs and --steps");
  expect_failure(anetrun(train_args({})), 2, "give exactly one of --epochs and --steps");
}

TEST_F(TrainErrors, PlanWithoutTrainStepIsIncompatible) {
  expect_failure(anetrun({"train", infer_plan(), "--data", path("idx"), "--steps", "1"}), 4,
                 infer_plan() + ": the plan has no 'train_step' program");
}

TEST_F(TrainErrors, PreprocessingThatCannotHoldTheCropIsIncompatible) {
  // anetc never writes such a plan; an edited one is refused before any
  // image is cut.
  auto plan = read_plan_file(path("train.plan"));
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  plan->preprocess.resize = 20;
  plan->preprocess.pad = 1;
  ASSERT_TRUE(write_plan_file(*plan, path("small-patch.plan")).ok());
  const std::string small = path("small-patch.plan");
  const std::string why = "the preprocessing (resize 20, pad 1) cuts square crops of at most 22";
  expect_failure(anetrun({"train", small, "--data", path("idx"), "--steps", "1"}), 4,
                 small + ": train_step takes f32[2,1,28,28] crops; " + why);
  expect_failure(anetrun({"eval", small, "--data", path("idx")}), 4, why);
  expect_failure(anetrun({"eval", small, "--data", path("idx"), "--ten-crop"}), 4, why);
  testing::write_bytes(path("grey.png"),
                       testing::encode_png_rgb8(28, 28, std::vector<uint8_t>(28 * 28 * 3, 90)));
  expect_failure(anetrun({"infer", small, path("grey.png"), "--ten-crop"}), 4,
                 small + ": the plan's resize and pad make a patch smaller than its crop");
  expect_failure(anetrun({"infer", small, path("grey.png")}), 2,
                 "the resize to a shorter side of 20 pixels and its frame cannot hold the model's "
                 "28x28 input crop");
}

TEST_F(TrainErrors, MissingResumeCheckpointIsIoError) {
  expect_failure(anetrun(train_args({"--steps", "1", "--resume", path("absent.ckpt")})), 74,
                 path("absent.ckpt"));
}

TEST_F(TrainErrors, ResumeAutoNeedsACheckpointDir) {
  expect_failure(anetrun(train_args({"--steps", "1", "--resume", "auto"})), 2,
                 "--resume auto needs --checkpoint-dir");
}

TEST_F(TrainErrors, InferBatchSizesTheInferencePrograms) {
  RunResult r = anetc({"compile", path("mini.onnx"), "-o", path("ib.plan"), "--mode", "train",
                       "--batch", "4", "--infer-batch", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "input data f32[1,1,28,28]")) << r.out;
  r = anetc({"inspect", path("ib.plan")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "input  data f32[10,1,28,28]")) << r.out; // infer_tencrop
  EXPECT_TRUE(contains(r.out, "input  data f32[4,1,28,28]")) << r.out;  // train_step
  expect_failure(
      anetc({"compile", path("mini.onnx"), "-o", path("ib2.plan"), "--infer-batch", "1"}), 2,
      "--infer-batch needs --mode train");
}

TEST_F(TrainErrors, ResumeWithAnotherSeedIsRefused) {
  const std::string ckpt = path("seed-ckpt");
  RunResult r = anetrun(train_args({"--steps", "1", "--seed", "5", "--checkpoint-dir", ckpt,
                                    "--val-limit", "1", "--no-final-ten-crop"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_failure(
      anetrun(train_args({"--steps", "2", "--checkpoint-dir", ckpt, "--resume", "auto"})), 2,
      "this run was trained with --seed 5; resume it with the same seed (given 0)");
}

// ---------------------------------------------------------------- non-finite loss

TEST_F(TrainErrors, NonFiniteLossStopsWithTheLastGoodCheckpointIntact) {
  const std::string ckpt = path("nan-ckpt");
  RunResult r = anetrun(train_args({"--steps", "50", "--lr", "1e9", "--checkpoint-every", "1",
                                    "--checkpoint-dir", ckpt, "--val-limit", "1"}));
  expect_failure(r, 6, "training stopped at step ");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.err, m, std::regex("training stopped at step ([0-9]+) ")))
      << r.err;
  const int64_t step = std::stoll(m[1]);
  ASSERT_GE(step, 2) << "the first step's loss is the untrained model's";
  const std::string last_good = CheckpointDir(ckpt, 1).path_for(step - 1);
  EXPECT_TRUE(contains(r.err, "the last good checkpoint is " + last_good)) << r.err;
  auto c = read_checkpoint(last_good);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->step, step - 1);
  for (const auto &[name, values] : c->weights)
    EXPECT_TRUE(std::all_of(values.begin(), values.end(), [](float v) { return std::isfinite(v); }))
        << name << " in the last good checkpoint is not finite";
  auto latest = CheckpointDir(ckpt, 1).latest();
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ(**latest, last_good) << "nothing was saved for the non-finite step";
}

// ---------------------------------------------------------------- datasets

TEST_F(TrainErrors, CorruptImageIsSkippedWithAWarningNamingIt) {
  const std::string data = path("corrupt-data");
  testing::write_image_folder(data, 2, 3);
  const std::string bad = data + "/train/class1/1.png";
  auto bytes = testing::read_bytes(bad);
  bytes.resize(bytes.size() / 2);
  testing::write_bytes(bad, bytes);
  RunResult r = anetrun({"train", rgb_plan(), "--data", data, "--epochs", "1", "--val-limit", "2",
                         "--no-final-ten-crop"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "trained 3 steps (1 epochs)")) << r.out;
  // Once while training: by the batch of the epoch that skips it.
  const std::string warning = "warning: skipping " + bad + ": ";
  const size_t training = r.err.find("training " + rgb_plan());
  ASSERT_NE(training, std::string::npos) << r.err;
  size_t count = 0;
  for (size_t at = r.err.find(warning, training); at != std::string::npos;
       at = r.err.find(warning, at + 1))
    ++count;
  EXPECT_EQ(count, 1u) << "one warning an epoch: " << r.err;
}

TEST_F(TrainErrors, EmptyClassFolderIsDatasetError) {
  const std::string data = path("empty-class");
  testing::write_image_folder(data, 2, 2);
  for (const char *split : {"train", "val"})
    for (const auto &f : fs::directory_iterator(data + "/" + split + "/class1"))
      fs::remove(f.path());
  expect_failure(anetrun({"train", rgb_plan(), "--data", data, "--steps", "1"}), 5,
                 data + "/train/class1: empty class folder");
}

TEST_F(TrainErrors, MissingDatasetFolderIsDatasetError) {
  expect_failure(anetrun({"train", path("train.plan"), "--data", path("absent"), "--steps", "1"}),
                 5, path("absent") + ": no such dataset folder");
  expect_failure(anetrun(train_args({"--steps", "1", "--val-data", path("absent-val")})), 5,
                 path("absent-val") + ": no such dataset folder");
}

TEST_F(TrainErrors, ChannelMismatchIsDatasetError) {
  expect_failure(anetrun({"train", rgb_plan(), "--data", path("idx"), "--steps", "1"}), 5,
                 path("idx") + ": the images have 1 channels, the model takes 3");
}

// ---------------------------------------------------------------- full disk

TEST_F(TrainErrors, FullDiskKeepsTheLastGoodCheckpoint) {
  const std::string ckpt = path("full-ckpt");
  RunResult r = anetrun(train_args(
      {"--steps", "2", "--checkpoint-dir", ckpt, "--val-limit", "1", "--no-final-ten-crop"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string good = CheckpointDir(ckpt, 1).path_for(2);
  const auto before = testing::read_bytes(good);
  ASSERT_GT(before.size(), 64u * 1024) << "the limit below must be smaller than a checkpoint";

  // The same run again, fresh: its checkpoint replaces the good one's path,
  // but every write beyond 64 KiB fails.
  r = testing::anetrun_with_file_size_limit(
      64, train_args({"--steps", "2", "--checkpoint-dir", ckpt, "--val-limit", "1",
                      "--no-final-ten-crop"}));
  expect_failure(r, 74, good);
  EXPECT_EQ(testing::read_bytes(good), before) << "the good checkpoint was touched";
  std::vector<std::string> left;
  for (const auto &f : fs::directory_iterator(ckpt))
    left.push_back(f.path().filename().string());
  EXPECT_EQ(left, std::vector<std::string>{"step-00000002.ckpt"}) << "no temporary file remains";
  EXPECT_TRUE(read_checkpoint(good).ok());
}

// ---------------------------------------------------------------- export

TEST_F(TrainErrors, ExportRefusesACheckpointOfAnotherModel) {
  // What a run of the RGB plan would save: its fingerprint and weights.
  auto rgb = read_plan_file(rgb_plan());
  ASSERT_TRUE(rgb.ok()) << rgb.error().message;
  Checkpoint other;
  other.step = 1;
  other.plan_fingerprint = plan_fingerprint(*rgb);
  other.weights = rgb->weights;
  ASSERT_TRUE(write_checkpoint(other, path("rgb.ckpt")).ok());

  expect_failure(anetrun({"export", path("train.plan"), "--checkpoint", path("rgb.ckpt"), "-o",
                          path("x.onnx")}),
                 4, path("rgb.ckpt") + ": the checkpoint belongs to another train program");
  expect_failure(
      anetrun({"export", infer_plan(), "--checkpoint", path("rgb.ckpt"), "-o", path("x.onnx")}), 4,
      "it belongs to another model");
  expect_failure(anetrun({"export", path("train.plan"), "--checkpoint", path("absent.ckpt"), "-o",
                          path("x.onnx")}),
                 74, path("absent.ckpt"));
  EXPECT_FALSE(fs::exists(path("x.onnx")));
}

} // namespace
} // namespace anet
