// alexnet-mini trained on the device under test (ANET_TEST_DEVICE: emu in
// CI, label emu; cuda on a GPU, label gpu, skipped where there is none):
// 20 steps on one fixed batch drive the loss down (the last five steps' mean
// a quarter below the first step's at least, with dropout on); one step on 2
// logical devices gives the weights one step on 1 does (and, with two GPUs,
// three steps over both give those of three on one); steps replayed from
// a recording (a CUDA graph) give the bits steps launched node by node do;
// and one step equals the cpu device's, or the reference kernels' in a build
// without LLVM (max relative difference < 1e-4).

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "ir/program_names.h"
#include "runtime/device.h"
#include "runtime/executor.h"
#ifdef ANET_WITH_CUDA
#include "runtime/nccl.h"
#endif
#include "tests/models/built_program.h"

#ifndef ANET_TEST_DEVICE
#define ANET_TEST_DEVICE "emu"
#endif

namespace anet {
namespace {

constexpr int64_t kBatch = 8;

/// alexnet-mini's train_step over `devices` logical devices, its weights,
/// and a fixed batch (random images, labels, lr 0.01, step 1).
struct Training {
  Graph graph;
  WeightStore weights;
  std::vector<Tensor> inputs;

  /// Sets the step input (dropout masks and the update follow it).
  void set_step(int step) {
    for (size_t i = 0; i < graph.inputs.size(); ++i)
      if (graph.value(graph.inputs[i]).name == kStepName)
        inputs[i].data[0] = static_cast<float>(step);
  }
};

Training training(int devices) {
  models::BuildOptions opts;
  opts.seed = 7;
  PassContext ctx;
  ctx.training = true;
  ctx.devices = devices;
  ctx.momentum = 0.9f;
  ctx.weight_decay = 0.0005f;
  ImportedModel imported = test::built_program("alexnet-mini", opts, kBatch, ctx);
  Training t{std::move(imported.graph), std::move(imported.weights), {}};
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> pixel(-1.f, 1.f);
  for (ValueId v : t.graph.inputs) {
    Tensor x(t.graph.type(v));
    const std::string &name = t.graph.value(v).name;
    for (float &e : x.data)
      e = name == kLabelsName         ? static_cast<float>(rng() % 10)
          : name == kLearningRateName ? 0.01f
          : name == kStepName         ? 1.f
                                      : pixel(rng);
    t.inputs.push_back(std::move(x));
  }
  return t;
}

/// The device, or null (and the test skipped) where a GPU is missing.
std::unique_ptr<Device> device_or_skip(const std::string &name, const DeviceOptions &options = {}) {
  auto d = make_device(name, options);
  if (!d.ok()) {
    EXPECT_EQ(name, "cuda") << d.error().message;
    return nullptr;
  }
  return std::move(*d);
}

float loss_of(const Graph &g, const std::vector<Tensor> &outputs) {
  for (size_t i = 0; i < g.outputs.size(); ++i)
    if (g.value(g.outputs[i]).name == kLossName)
      return outputs[i].data[0];
  ADD_FAILURE() << "train_step has no loss output";
  return NAN;
}

double max_relative_difference(const WeightStore &a, const WeightStore &b) {
  double worst = 0;
  for (const auto &[name, values] : a) {
    const std::vector<float> &other = b.at(name);
    double scale = 0;
    for (float v : values)
      scale = std::max(scale, static_cast<double>(std::fabs(v)));
    for (size_t i = 0; i < values.size(); ++i)
      worst = std::max(worst, std::fabs(static_cast<double>(values[i]) - other[i]) /
                                  std::max(scale, 1e-12));
  }
  return worst;
}

/// Steps 1 to 3 of `t` on `device`: their losses, and the weights after.
void three_steps(Training t, Device &device, std::vector<float> &losses, WeightStore &after) {
  auto exec = Executor::create(t.graph, t.weights, device);
  ASSERT_TRUE(exec.ok()) << exec.error().message;
  for (int step = 1; step <= 3; ++step) {
    t.set_step(step);
    auto out = exec->run(t.inputs);
    ASSERT_TRUE(out.ok()) << out.error().message;
    losses.push_back(loss_of(t.graph, *out));
  }
  ASSERT_TRUE(exec->read_weights(after).ok());
}

TEST(DeviceTraining, TwentyStepsOnOneBatchDriveTheLossDown) {
  auto device = device_or_skip(ANET_TEST_DEVICE);
  if (!device)
    GTEST_SKIP() << "no " ANET_TEST_DEVICE " device here";
  Training t = training(1);
  auto exec = Executor::create(t.graph, t.weights, *device);
  ASSERT_TRUE(exec.ok()) << exec.error().message;
  std::vector<float> losses;
  for (int step = 1; step <= 20; ++step) {
    t.set_step(step);
    auto out = exec->run(t.inputs);
    ASSERT_TRUE(out.ok()) << out.error().message;
    losses.push_back(loss_of(t.graph, *out));
    ASSERT_TRUE(std::isfinite(losses.back())) << "step " << step;
  }
  std::printf("%s: loss %.4f after step 1, %.4f after step 20\n", ANET_TEST_DEVICE, losses.front(),
              losses.back());
  // With dropout on, one step's loss over 8 images is noisy (a step near
  // the end may be 0.4 above its neighbours): judge the last five steps.
  const float first5 = losses[0] + losses[1] + losses[2] + losses[3] + losses[4];
  const float last5 = losses[15] + losses[16] + losses[17] + losses[18] + losses[19];
  EXPECT_LT(last5 / 5, 0.75f * losses.front());
  EXPECT_LT(last5, first5);
}

TEST(DeviceTraining, TwoLogicalDevicesStepLikeOne) {
  auto device = device_or_skip(ANET_TEST_DEVICE);
  if (!device)
    GTEST_SKIP() << "no " ANET_TEST_DEVICE " device here";
  WeightStore after[2];
  for (int devices : {1, 2}) {
    Training t = training(devices);
    auto exec = Executor::create(t.graph, t.weights, *device);
    ASSERT_TRUE(exec.ok()) << exec.error().message;
    ASSERT_TRUE(exec->run(t.inputs).ok());
    ASSERT_TRUE(exec->read_weights(after[devices - 1]).ok());
  }
  const double d = max_relative_difference(after[0], after[1]);
  std::printf("%s: 2 logical devices against 1, weights max relative difference %g\n",
              ANET_TEST_DEVICE, d);
  EXPECT_LT(d, 1e-4);
}

TEST(DeviceTraining, ReplayedStepsEqualLaunchedSteps) {
  DeviceOptions launched_options;
  launched_options.graphs = false;
  auto recording = device_or_skip(ANET_TEST_DEVICE);
  auto launching = device_or_skip(ANET_TEST_DEVICE, launched_options);
  if (!recording || !launching)
    GTEST_SKIP() << "no " ANET_TEST_DEVICE " device here";
  ASSERT_TRUE(recording->records()) << "the device under test records no launches";
  ASSERT_FALSE(launching->records());
  // Two logical devices: the recording holds both lanes and their waits.
  WeightStore after[2];
  std::vector<float> losses[2];
  Device *devices[2] = {recording.get(), launching.get()};
  for (int k = 0; k < 2; ++k)
    ASSERT_NO_FATAL_FAILURE(three_steps(training(2), *devices[k], losses[k], after[k]));
  // A replay that ran nothing, or ran stale arguments, would leave the
  // weights and losses of step 1.
  EXPECT_EQ(losses[0], losses[1]);
  EXPECT_NE(losses[0][0], losses[0][2]);
  EXPECT_EQ(max_relative_difference(after[0], after[1]), 0.0);
}

#ifdef ANET_WITH_CUDA
// Two logical devices on two GPUs, their Transfers through NCCL (recorded
// in the CUDA graph like kernels): three steps give the weights and losses
// of three steps on one GPU. Runs where the driver sees two GPUs.
TEST(DeviceTraining, TwoGpusStepLikeOneGpu) {
  if (std::string(ANET_TEST_DEVICE) != "cuda")
    GTEST_SKIP() << "two GPUs: the cuda device only";
  DeviceOptions two;
  two.gpus = {0, 1};
  auto pair = make_device("cuda", two);
  if (!pair.ok())
    GTEST_SKIP() << "needs two GPUs: " << pair.error().message;
  if (auto nccl = nccl::library(); !nccl.ok())
    GTEST_SKIP() << "needs NCCL: " << nccl.error().message;
  auto one = device_or_skip("cuda");
  ASSERT_TRUE(one);
  WeightStore after[2];
  std::vector<float> losses[2];
  Device *devices[2] = {one.get(), pair->get()};
  for (int k = 0; k < 2; ++k)
    ASSERT_NO_FATAL_FAILURE(three_steps(training(k + 1), *devices[k], losses[k], after[k]));
  const double d = max_relative_difference(after[0], after[1]);
  std::printf("cuda: 2 GPUs against 1, weights max relative difference %g after 3 steps\n", d);
  EXPECT_LT(d, 1e-4);
  for (int step = 0; step < 3; ++step)
    EXPECT_NEAR(losses[0][step], losses[1][step], 1e-4 * std::fabs(losses[0][step])) << step;
}
#endif

// The oracle: the cpu device, or the reference kernels where anet is built
// without LLVM (the GPU machine).
#ifdef ANET_WITH_LLVM
constexpr const char *kOracle = "cpu";
#else
constexpr const char *kOracle = "cpu-ref";
#endif

TEST(DeviceTraining, StepEqualsTheCpuDevicesStep) {
  auto device = device_or_skip(ANET_TEST_DEVICE);
  if (!device)
    GTEST_SKIP() << "no " ANET_TEST_DEVICE " device here";
  auto cpu = make_device(kOracle);
  ASSERT_TRUE(cpu.ok()) << cpu.error().message;
  WeightStore after[2];
  Device *devices[2] = {device.get(), cpu->get()};
  for (int k = 0; k < 2; ++k) {
    Training t = training(1);
    auto exec = Executor::create(t.graph, t.weights, *devices[k]);
    ASSERT_TRUE(exec.ok()) << exec.error().message;
    ASSERT_TRUE(exec->run(t.inputs).ok());
    ASSERT_TRUE(exec->read_weights(after[k]).ok());
  }
  const double d = max_relative_difference(after[0], after[1]);
  std::printf("%s against %s: weights max relative difference %g after one step\n",
              ANET_TEST_DEVICE, kOracle, d);
  EXPECT_LT(d, 1e-4);
}

} // namespace
} // namespace anet
