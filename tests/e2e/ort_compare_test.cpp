// Whole models against onnxruntime: each model builder's network is
// imported, compiled by the inference pipeline for two logical devices (the
// paper's split: fusion, partitioning, transfers, memory planning), run with
// the reference kernels, and compared with onnxruntime on the same input.
// The criterion is max |a - b| / max |b| < 1e-4 for every output (logits and
// probabilities).

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "frontend/onnx_import.h"
#include "models/alexnet.h"
#include "passes/passes.h"
#include "runtime/device.h"
#include "runtime/executor.h"
#include "runtime/io/npy.h"

namespace anet {
namespace {

namespace fs = std::filesystem;

struct Case {
  const char *model;
  float input_scale; // inputs are uniform in [-scale, scale]
  const char *device = "cpu-ref";
};

class OrtCompare : public ::testing::TestWithParam<Case> {};

double max_abs(const std::vector<float> &v) {
  double m = 0;
  for (float x : v)
    m = std::max(m, std::fabs(static_cast<double>(x)));
  return m;
}

TEST_P(OrtCompare, MatchesOnnxRuntime) {
  const Case &c = GetParam();
  fs::path dir = fs::temp_directory_path() / ("anet_ort_" + std::string(c.model) + "_" + c.device +
                                              "_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string model_path = (dir / "model.onnx").string();

  models::BuildOptions opts;
  opts.seed = 7;
  opts.batch = 2;
  auto model = models::build_model(c.model, opts);
  ASSERT_TRUE(model.ok()) << model.error().message;
  ASSERT_TRUE(models::write_model(*model, model_path).ok());

  auto imported = import_onnx_file(model_path, ImportOptions{});
  ASSERT_TRUE(imported.ok()) << imported.error().message;
  Graph &g = imported->graph;
  const Graph as_imported = g;
  PassContext ctx;
  ctx.devices = 2;
  auto compiled = run_pipeline(g, inference_pipeline(), ctx);
  ASSERT_TRUE(compiled.ok()) << compiled.error().message;

  Tensor input(g.type(g.inputs[0]));
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> uniform(-c.input_scale, c.input_scale);
  for (float &x : input.data)
    x = uniform(rng);
  std::string input_path = (dir / "input.npy").string();
  ASSERT_TRUE(write_npy(input_path, input).ok());

  auto device = make_device(c.device);
  ASSERT_TRUE(device.ok()) << device.error().message;
  auto exec = Executor::create(g, imported->weights, **device);
  ASSERT_TRUE(exec.ok()) << exec.error().message;
  auto ours = exec->run({input});
  ASSERT_TRUE(ours.ok()) << ours.error().message;

  // The two-device program computes what the imported one does on one
  // device (the passes issue's criterion: max relative difference < 1e-6).
  auto single = Executor::create(as_imported, imported->weights, **device);
  ASSERT_TRUE(single.ok()) << single.error().message;
  auto one_device = single->run({input});
  ASSERT_TRUE(one_device.ok()) << one_device.error().message;
  ASSERT_EQ(one_device->size(), ours->size());
  for (size_t i = 0; i < ours->size(); ++i) {
    const Tensor &a = (*ours)[i], &b = (*one_device)[i];
    double diff = 0;
    for (size_t k = 0; k < a.data.size(); ++k)
      diff = std::max(diff, std::fabs(static_cast<double>(a.data[k]) - b.data[k]));
    double rel = diff / max_abs(b.data);
    std::printf("%s output %zu: 2 devices against 1, max relative difference %.3g\n", c.model, i,
                rel);
    EXPECT_LT(rel, 1e-6) << c.model << " output " << i;
  }

  std::string prefix = (dir / "ort_out").string();
  std::string cmd = std::string(ANET_PYTHON) + " " + ANET_ORT_RUN + " " + model_path + " " +
                    input_path + " " + prefix;
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "onnxruntime oracle failed: " << cmd;

  ASSERT_EQ(ours->size(), g.outputs.size());
  for (size_t i = 0; i < ours->size(); ++i) {
    auto theirs = read_npy(prefix + std::to_string(i) + ".npy");
    ASSERT_TRUE(theirs.ok()) << theirs.error().message;
    const Tensor &a = (*ours)[i];
    ASSERT_EQ(a.type.shape, theirs->type.shape) << "output " << i;
    double max_diff = 0;
    for (size_t k = 0; k < a.data.size(); ++k)
      max_diff = std::max(max_diff, std::fabs(static_cast<double>(a.data[k]) - theirs->data[k]));
    double scale = max_abs(theirs->data);
    ASSERT_GT(scale, 0) << "output " << i << " is all zeros: the comparison would prove nothing";
    double rel = max_diff / scale;
    std::printf("%s output %zu '%s': max|a-b| = %.3g, max|b| = %.3g, ratio = %.3g\n", c.model, i,
                g.value(g.outputs[i]).name.c_str(), max_diff, scale, rel);
    EXPECT_LT(rel, 1e-4) << c.model << " output " << i;
  }
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(
    Models, OrtCompare,
    ::testing::Values(Case{"alexnet", 128.f}, Case{"alexnet-caffe", 128.f},
                      Case{"alexnet-torchvision", 2.f}, Case{"alexnet-mini", 2.f}
#ifdef ANET_WITH_LLVM
                      ,
                      Case{"alexnet", 128.f, "cpu"}, Case{"alexnet-torchvision", 2.f, "cpu"},
                      Case{"alexnet-mini", 2.f, "cpu"}, Case{"alexnet", 128.f, "emu"},
                      Case{"alexnet-mini", 2.f, "emu"}
#endif
                      ),
    [](const auto &info) {
      std::string n = info.param.model + std::string("_on_") + info.param.device;
      std::replace(n.begin(), n.end(), '-', '_');
      return n;
    });

} // namespace
} // namespace anet
