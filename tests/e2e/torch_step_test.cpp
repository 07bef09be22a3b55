// One training step against PyTorch: alexnet-mini's train_step (forward,
// softmax cross-entropy, the generated backward graph, the paper's SGD
// update) on one and on two logical devices, compared with autograd in
// PyTorch (Debian's python3-torch, tests/e2e/torch_step.py) from the same
// weights and batch, dropout off. Criteria: the updated weights within a
// max relative difference of 1e-4 (the issue's), and, much stricter in
// effect, the update itself (w' - w, which the weights' size would
// otherwise hide) within 1e-3 of its largest magnitude per tensor.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>
#include <tuple>

#include <unistd.h>

#include "frontend/onnx_import.h"
#include "models/alexnet.h"
#include "passes/passes.h"
#include "runtime/device.h"
#include "runtime/executor.h"
#include "runtime/io/npy.h"

namespace anet {
namespace {

namespace fs = std::filesystem;

constexpr float kLr = 0.01f, kWeightDecay = 0.0005f;
constexpr int64_t kBatch = 8;

/// Logical devices, and the device they run on.
using Setup = std::tuple<int, std::string>;

class TorchStep : public ::testing::TestWithParam<Setup> {};

TEST_P(TorchStep, MatchesPyTorch) {
  const auto &[devices, device_name] = GetParam();
  fs::path dir = fs::temp_directory_path() / ("anet_torch_step_" + std::to_string(devices) + "_" +
                                              device_name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string model_path = (dir / "model.onnx").string();
  models::BuildOptions opts;
  opts.seed = 3;
  auto model = models::build_model("alexnet-mini", opts);
  ASSERT_TRUE(model.ok()) << model.error().message;
  ASSERT_TRUE(models::write_model(*model, model_path).ok());

  ImportOptions io;
  io.batch = kBatch;
  auto imported = import_onnx_file(model_path, io);
  ASSERT_TRUE(imported.ok()) << imported.error().message;
  Graph &g = imported->graph;
  PassContext ctx;
  ctx.training = true;
  ctx.devices = devices;
  ctx.momentum = 0.9f;
  ctx.weight_decay = kWeightDecay;
  ctx.disabled = {"training-mode"}; // dropout off: Dropout stays the identity
  auto compiled = run_pipeline(g, training_pipeline(), ctx);
  ASSERT_TRUE(compiled.ok()) << compiled.error().message;

  std::mt19937 rng(5);
  std::uniform_real_distribution<float> uniform(-1.f, 1.f);
  std::uniform_int_distribution<int> klass(0, 9);
  std::vector<Tensor> inputs;
  Tensor data, labels;
  for (ValueId v : g.inputs) {
    Tensor t(g.type(v));
    const std::string &name = g.value(v).name;
    if (name == "labels") {
      for (float &x : t.data)
        x = static_cast<float>(klass(rng));
      labels = t;
    } else if (name == "lr") {
      t.data[0] = kLr;
    } else {
      for (float &x : t.data)
        x = uniform(rng);
      data = t;
    }
    inputs.push_back(std::move(t));
  }
  ASSERT_TRUE(write_npy((dir / "input.npy").string(), data).ok());
  ASSERT_TRUE(write_npy((dir / "labels.npy").string(), labels).ok());

  auto device = make_device(device_name);
  if (!device.ok() && device_name == "cuda")
    GTEST_SKIP() << device.error().message; // no GPU here: visibly skipped
  ASSERT_TRUE(device.ok()) << device.error().message;
  auto exec = Executor::create(g, imported->weights, **device);
  ASSERT_TRUE(exec.ok()) << exec.error().message;
  auto out = exec->run(inputs);
  ASSERT_TRUE(out.ok()) << out.error().message;
  WeightStore trained;
  ASSERT_TRUE(exec->read_weights(trained).ok());

  const std::string command = std::string(ANET_SYSTEM_PYTHON) + " " + ANET_TORCH_STEP + " " +
                              model_path + " " + (dir / "input.npy").string() + " " +
                              (dir / "labels.npy").string() + " " + std::to_string(kLr) + " " +
                              std::to_string(kWeightDecay) + " " + (dir / "torch").string();
  ASSERT_EQ(std::system(command.c_str()), 0)
      << command << "\n(needs Debian's python3-torch and python3-onnx: tools/setup.sh)";

  auto torch_loss = read_npy((dir / "torch" / "loss.npy").string());
  ASSERT_TRUE(torch_loss.ok()) << torch_loss.error().message;
  EXPECT_NEAR((*out)[0].data[0], torch_loss->data[0], 1e-5 * std::fabs(torch_loss->data[0]));
  std::cout << "  loss: anet " << (*out)[0].data[0] << ", PyTorch " << torch_loss->data[0] << "\n";

  for (const auto &[name, before] : imported->weights) {
    auto expected = read_npy((dir / "torch" / (name + ".npy")).string());
    ASSERT_TRUE(expected.ok()) << expected.error().message;
    const std::vector<float> &ours = trained.at(name);
    ASSERT_EQ(ours.size(), expected->data.size()) << name;
    double max_w = 0, max_dw = 0, err = 0, err_dw = 0;
    for (size_t i = 0; i < ours.size(); ++i) {
      const double theirs = expected->data[i], dw = theirs - before[i];
      max_w = std::max(max_w, std::fabs(theirs));
      max_dw = std::max(max_dw, std::fabs(dw));
      err = std::max(err, std::fabs(ours[i] - theirs));
      err_dw = std::max(err_dw, std::fabs((ours[i] - before[i]) - dw));
    }
    std::cout << "  " << name << ": weights max relative difference " << err / max_w << ", update "
              << err_dw / max_dw << "\n";
    EXPECT_LT(err / max_w, 1e-4) << name;
    EXPECT_LT(err_dw / max_dw, 1e-3) << name << ": the update differs";
    EXPECT_GT(max_dw, 0) << name << ": no update";
  }
}

INSTANTIATE_TEST_SUITE_P(Devices, TorchStep,
                         ::testing::Combine(::testing::Values(1, 2),
                                            ::testing::ValuesIn(device_names())),
                         [](const auto &info) {
                           std::string device = std::get<1>(info.param);
                           std::replace(device.begin(), device.end(), '-', '_');
                           return std::to_string(std::get<0>(info.param)) + "_devices_on_" + device;
                         });

} // namespace
} // namespace anet
