/// End-to-end tests of training with the built tools: a run resumed from a
/// checkpoint ends bit for bit like an uninterrupted one; SIGINT and SIGTERM
/// leave a checkpoint a run resumes from; `anetrun eval` and `anetrun infer`
/// with a checkpoint; `anetrun export` writes a model onnxruntime runs like
/// anet. The error paths are in train_errors_test.cpp.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <numeric>
#include <optional>
#include <regex>
#include <thread>

#include <nlohmann/json.hpp>

#include "runtime/io/npy.h"
#include "runtime/train/checkpoint.h"
#include "tests/tools/train_fixtures.h"

namespace anet {
namespace {

using testing::anetc;
using testing::anetrun;
using testing::contains;
using testing::RunResult;
using testing::ScratchDir;

/// `dir`/step-<8 digits>.ckpt, as CheckpointDir names them.
std::string checkpoint_path(const std::string &dir, int64_t step) {
  return CheckpointDir(dir, 1).path_for(step);
}

/// `args` followed by `more`.
std::vector<std::string> concat(std::vector<std::string> args,
                                const std::vector<std::string> &more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

/// The checkpoint at `path` (failing the test when it cannot be read).
Checkpoint must_read(const std::string &path) {
  auto c = read_checkpoint(path);
  EXPECT_TRUE(c.ok()) << c.error().message;
  return c.ok() ? std::move(*c) : Checkpoint{};
}

/// Each JSON line of a metrics log by its "step".
std::map<int64_t, nlohmann::json> records_by_step(const std::string &jsonl) {
  std::map<int64_t, nlohmann::json> records;
  for (const std::string &line : testing::read_lines(jsonl)) {
    nlohmann::json j = nlohmann::json::parse(line);
    const auto step = j.at("step").get<int64_t>();
    EXPECT_TRUE(records.emplace(step, std::move(j)).second) << "step " << step << " twice";
  }
  return records;
}

/// Expects the same names and bit-identical values in both stores.
void expect_bitwise_equal(const WeightStore &a, const WeightStore &b) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto &[name, values] : a) {
    auto it = b.find(name);
    ASSERT_NE(it, b.end()) << name;
    ASSERT_EQ(values.size(), it->second.size()) << name;
    EXPECT_EQ(std::memcmp(values.data(), it->second.data(), values.size() * sizeof(float)), 0)
        << name << " differs";
  }
}

/// Builds alexnet-mini, compiles it for training at batch 2 with the
/// paper's initialisation (the model's own diverges at the default learning
/// rate on 0-255 pixels) and writes a tiny IDX dataset, once for the whole
/// suite. Statistics caches go under the suite's own $HOME.
class TrainCli : public ::testing::Test {
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

  /// The flags every training run here shares: the suite's plan and data,
  /// validation on two images, no ten-crop validation at the end.
  static std::vector<std::string> train_args(const std::vector<std::string> &more) {
    return concat({"train", path("train.plan"), "--data", path("idx"), "--val-limit", "2",
                   "--no-final-ten-crop"},
                  more);
  }

  /// The checkpoint of one epoch of training (4 steps) with validation and
  /// the final ten-crop validation, logged in trained-log; trained on first
  /// use.
  static const std::string &trained_checkpoint() {
    static const std::string checkpoint = [] {
      RunResult r =
          anetrun({"train", path("train.plan"), "--data", path("idx"), "--epochs", "1", "--seed",
                   "3", "--checkpoint-dir", path("trained"), "--log-dir", path("trained-log")});
      EXPECT_EQ(r.exit_code, 0) << r.err;
      return checkpoint_path(path("trained"), 4);
    }();
    return checkpoint;
  }

  static ScratchDir *dir_;
};

ScratchDir *TrainCli::dir_ = nullptr;

// ---------------------------------------------------------------- resume

TEST_F(TrainCli, ResumedRunEndsBitwiseLikeAnUninterruptedOne) {
  // 4 steps an epoch: the resumed run crosses an epoch end (validation,
  // schedule) after resuming mid-epoch; alexnet-mini's dropout masks depend
  // on the step.
  auto args = [](const std::string &run, const std::string &steps) {
    return train_args({"--seed", "11", "--checkpoint-every", "3", "--log-every", "2", "--steps",
                       steps, "--checkpoint-dir", path(run + "-ckpt"), "--log-dir",
                       path(run + "-log")});
  };
  RunResult a = anetrun(args("whole", "6"));
  ASSERT_EQ(a.exit_code, 0) << a.err;
  RunResult first = anetrun(args("split", "3"));
  ASSERT_EQ(first.exit_code, 0) << first.err;
  RunResult second = anetrun(concat(args("split", "6"), {"--resume", "auto"}));
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_TRUE(
      contains(second.err, "resumed from " + checkpoint_path(path("split-ckpt"), 3) + " at step 3"))
      << second.err;

  for (int64_t step : {3, 4, 6}) {
    SCOPED_TRACE("step " + std::to_string(step));
    const Checkpoint whole = must_read(checkpoint_path(path("whole-ckpt"), step));
    const Checkpoint split = must_read(checkpoint_path(path("split-ckpt"), step));
    EXPECT_EQ(whole.step, step);
    EXPECT_EQ(split.step, step);
    EXPECT_EQ(whole.epoch, split.epoch);
    EXPECT_EQ(whole.batch, split.batch);
    expect_bitwise_equal(whole.weights, split.weights);
  }
  const Checkpoint end = must_read(checkpoint_path(path("whole-ckpt"), 6));
  const Checkpoint resumed_end = must_read(checkpoint_path(path("split-ckpt"), 6));
  EXPECT_EQ(end.state, resumed_end.state) << "schedule, best error and curves";
  // The comparison covers the optimizer: momentum buffers are there, and
  // training moved the weights.
  const Checkpoint middle = must_read(checkpoint_path(path("whole-ckpt"), 3));
  size_t momenta = 0, moved = 0;
  for (const auto &[name, values] : end.weights) {
    momenta += name.ends_with(".momentum");
    moved += middle.weights.at(name) != values;
  }
  EXPECT_GT(momenta, 0u);
  EXPECT_GT(moved, momenta) << "weights and their momentum change between steps 3 and 6";

  // The metrics of the steps both runs logged are the same (timings aside).
  for (const char *log : {"train.jsonl", "epochs.jsonl"}) {
    SCOPED_TRACE(log);
    auto whole = records_by_step(path("whole-log/") + log);
    auto split = records_by_step(path("split-log/") + log);
    size_t shared = 0;
    for (auto &[step, record] : whole) {
      auto it = split.find(step);
      if (it == split.end())
        continue;
      ++shared;
      for (const char *timing : {"step_images_per_s", "wait_fraction", "seconds"}) {
        record.erase(timing);
        it->second.erase(timing);
      }
      EXPECT_EQ(record, it->second) << "step " << step;
    }
    EXPECT_GE(shared, std::string(log) == "train.jsonl" ? 3u : 1u)
        << "steps 2, 4 and 6 (train), the epoch end at step 4 (epochs)";
  }
}

// ---------------------------------------------------------------- signals

/// Starts a long run, stops it with `sig` once it has logged two steps,
/// checks the exit code and the checkpoint of the step it reached, and
/// resumes from that checkpoint for two more steps.
void stop_and_resume(const std::string &name, int sig, int exit_code,
                     const std::vector<std::string> &train) {
  const std::string ckpt = name + "-ckpt", log = name + "-log";
  const std::vector<std::string> args =
      concat(train, {"--checkpoint-dir", ckpt, "--log-dir", log, "--log-every", "1"});
  testing::Child child(ANETRUN_PATH, concat(args, {"--steps", "1000000"}));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (child.running() && testing::read_lines(log + "/train.jsonl").size() < 2 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(child.running()) << "ended before the signal: " << child.wait().err;
  child.send(sig);
  const RunResult r = child.wait();
  ASSERT_EQ(r.signal, 0) << r.err;
  EXPECT_EQ(r.exit_code, exit_code) << r.err;
  // The report of the stop is the last thing the run writes.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.err, m,
                                std::regex("stopped by signal ([0-9]+) at step ([0-9]+); "
                                           "checkpoint ([^\n]+)\n")))
      << r.err;
  EXPECT_TRUE(r.err.ends_with(m[0].str())) << r.err;
  EXPECT_EQ(std::stoi(m[1]), sig);
  const int64_t step = std::stoll(m[2]);
  EXPECT_GE(step, 2);
  EXPECT_EQ(m[3], checkpoint_path(ckpt, step));
  const Checkpoint stopped = must_read(checkpoint_path(ckpt, step));
  EXPECT_EQ(stopped.step, step);
  auto latest = CheckpointDir(ckpt, 1).latest();
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ(**latest, checkpoint_path(ckpt, step)) << "the signal's checkpoint is the newest";

  const RunResult resumed =
      anetrun(concat(args, {"--steps", std::to_string(step + 2), "--resume", "auto"}));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_TRUE(contains(resumed.err, "resumed from " + checkpoint_path(ckpt, step) + " at step " +
                                        std::to_string(step)))
      << resumed.err;
  EXPECT_EQ(must_read(checkpoint_path(ckpt, step + 2)).step, step + 2);
  const auto records = records_by_step(log + "/train.jsonl");
  EXPECT_EQ(records.size(), static_cast<size_t>(step + 2)) << "one record a step, none twice";
}

TEST_F(TrainCli, SigintCheckpointsAndTheRunResumes) {
  stop_and_resume(path("sigint"), SIGINT, 130, train_args({"--seed", "5"}));
}

TEST_F(TrainCli, SigtermCheckpointsAndTheRunResumes) {
  stop_and_resume(path("sigterm"), SIGTERM, 143, train_args({"--seed", "6"}));
}

// ---------------------------------------------------------------- eval, infer

/// The parsed stdout of an anetrun run that must succeed.
nlohmann::json json_of(const std::vector<std::string> &args) {
  RunResult r = anetrun(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json::object();
}

TEST_F(TrainCli, EvalWithTheCheckpointReproducesTheTrainersValidation) {
  const std::string checkpoint = trained_checkpoint();
  // The epoch's validation and the final ten-crop one, both at step 4.
  std::optional<nlohmann::json> centre, ten;
  for (const std::string &line : testing::read_lines(path("trained-log/epochs.jsonl"))) {
    auto j = nlohmann::json::parse(line);
    (j.contains("val_top1_error") ? centre : ten) = j;
  }
  ASSERT_TRUE(centre && ten) << "the epoch's validation and the final ten-crop one";

  for (bool ten_crop : {false, true}) {
    SCOPED_TRACE(ten_crop ? "ten crops" : "centre crop");
    std::vector<std::string> args = {"eval",         path("train.plan"), "--data", path("idx"),
                                     "--checkpoint", checkpoint,         "--json"};
    if (ten_crop)
      args.push_back("--ten-crop");
    const nlohmann::json j = json_of(args);
    EXPECT_EQ(j["examples"], 4);
    EXPECT_EQ(j["ten_crop"], ten_crop);
    const double top1 = j["top1_error_pct"].get<double>(), top5 = j["top5_error_pct"].get<double>();
    EXPECT_LE(top5, top1);
    const nlohmann::json &logged = ten_crop ? *ten : *centre;
    const std::string prefix = ten_crop ? "val_tencrop_" : "val_";
    EXPECT_DOUBLE_EQ(top1, 100 * logged[prefix + "top1_error"].get<double>());
    EXPECT_DOUBLE_EQ(top5, 100 * logged[prefix + "top5_error"].get<double>());
  }
  RunResult r = anetrun(
      {"eval", path("train.plan"), "--data", path("idx"), "--checkpoint", checkpoint, "--limit=2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "2 images, centre crop): top-1 error ")) << r.out;
}

/// The rows of a [N, K] .npy output, each checked to be a probability row.
void expect_probability_rows(const std::string &npy, int64_t rows) {
  auto t = read_npy(npy);
  ASSERT_TRUE(t.ok()) << t.error().message;
  ASSERT_EQ(t->type.shape, (Shape{rows, 10}));
  for (int64_t r = 0; r < rows; ++r) {
    const auto row = t->data.begin() + r * 10;
    EXPECT_NEAR(std::accumulate(row, row + 10, 0.0), 1.0, 1e-5) << npy << " row " << r;
    EXPECT_TRUE(std::all_of(row, row + 10, [](float p) { return p >= 0 && p <= 1; })) << npy;
  }
}

TEST_F(TrainCli, InferWithTheCheckpointRanksProbabilities) {
  const std::string checkpoint = trained_checkpoint();
  std::vector<uint8_t> rgb;
  for (uint8_t v : testing::class_picture(2, 50))
    rgb.insert(rgb.end(), {v, v, v});
  testing::write_bytes(path("digit.png"), testing::encode_png_rgb8(28, 28, rgb));

  RunResult ten = anetrun({"infer", path("train.plan"), path("digit.png"), "--checkpoint",
                           checkpoint, "--ten-crop", "--output", path("ten.npy")});
  ASSERT_EQ(ten.exit_code, 0) << ten.err;
  EXPECT_TRUE(contains(ten.out, path("digit.png") + "\n")) << ten.out;
  for (const char *rank : {" 1. prob ", " 5. prob "})
    EXPECT_TRUE(contains(ten.out, rank)) << ten.out;
  expect_probability_rows(path("ten.npy"), 1);

  RunResult centre = anetrun({"infer", path("train.plan"), path("digit.png"), "--checkpoint",
                              checkpoint, "--output", path("centre.npy")});
  ASSERT_EQ(centre.exit_code, 0) << centre.err;
  expect_probability_rows(path("centre.npy"), 1);
}

// ---------------------------------------------------------------- export

TEST_F(TrainCli, ExportedModelRunsInOnnxRuntimeLikeAnet) {
  const std::string checkpoint = trained_checkpoint();
  RunResult r = anetrun(
      {"export", path("train.plan"), "--checkpoint", checkpoint, "-o", path("trained.onnx")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "wrote " + path("trained.onnx"))) << r.out;
  const std::string check =
      std::string(ANET_PYTHON) +
      " -c \"import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), "
      "full_check=True)\" " +
      path("trained.onnx");
  EXPECT_EQ(std::system(check.c_str()), 0) << "ONNX's checker refuses the export: " << check;

  Tensor input(TensorType{DType::F32, {1, 1, 28, 28}});
  const std::vector<uint8_t> picture = testing::class_picture(3, 77);
  for (size_t i = 0; i < input.data.size(); ++i)
    input.data[i] = static_cast<float>(picture[i]) - 60.0f;
  ASSERT_TRUE(write_npy(path("input.npy"), input).ok());
  r = anetrun({"infer", path("train.plan"), path("input.npy"), "--checkpoint", checkpoint,
               "--output", path("anet.npy")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = anetrun({"infer", path("train.plan"), path("input.npy"), "--output", path("untrained.npy")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string cmd = std::string(ANET_PYTHON) + " " + ANET_ORT_RUN + " " +
                          path("trained.onnx") + " " + path("input.npy") + " " + path("ort");
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "onnxruntime failed: " << cmd;

  auto ours = read_npy(path("anet.npy")), theirs = read_npy(path("ort0.npy")),
       untrained = read_npy(path("untrained.npy"));
  ASSERT_TRUE(ours.ok() && theirs.ok() && untrained.ok());
  ASSERT_EQ(ours->type.shape, theirs->type.shape);
  double diff = 0, scale = 0, moved = 0;
  for (size_t i = 0; i < ours->data.size(); ++i) {
    diff = std::max(diff, std::fabs(static_cast<double>(ours->data[i]) - theirs->data[i]));
    scale = std::max(scale, std::fabs(static_cast<double>(theirs->data[i])));
    moved = std::max(moved, std::fabs(static_cast<double>(ours->data[i]) - untrained->data[i]));
  }
  ASSERT_GT(scale, 0);
  EXPECT_LT(diff / scale, 1e-4) << "max relative difference to onnxruntime";
  EXPECT_GT(moved, 1e-4) << "the exported weights are the trained ones, not the plan's";
}

} // namespace
} // namespace anet
