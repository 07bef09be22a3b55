// Numerical equivalence of the passes: the program after the inference
// pipeline (canonicalise, dead-code, fuse, partition, insert-transfers),
// run by the executor on 1, 2 or 4 logical devices with either partition
// strategy, gives the outputs of the untouched program. The criterion of
// the passes issue: max relative difference < 1e-6.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "passes/passes.h"
#include "runtime/device.h"
#include "runtime/executor.h"
#include "tests/passes/ir_builder.h"

namespace anet {
namespace {

// Random weights with the paper's scale, biases 0.1 so ReLUs stay alive.
WeightStore random_weights(const Graph &g, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.f, 0.01f);
  WeightStore w;
  for (ValueId id : g.params()) {
    const Value &v = g.value(id);
    std::vector<float> data(static_cast<size_t>(v.type.numel()));
    bool bias = v.type.rank() == 1;
    for (float &x : data)
      x = bias ? 0.1f : normal(rng);
    w[v.name] = std::move(data);
  }
  return w;
}

std::vector<Tensor> run(const Graph &g, const WeightStore &w, const Tensor &input, int devices) {
  std::vector<std::unique_ptr<Device>> owned;
  std::vector<Device *> ptrs;
  for (int i = 0; i < devices; ++i) {
    owned.push_back(make_reference_device());
    ptrs.push_back(owned.back().get());
  }
  auto ex = Executor::create(g, w, ptrs);
  EXPECT_TRUE(ex.ok()) << ex.error().message;
  if (!ex.ok())
    return {};
  auto out = ex->run({input});
  EXPECT_TRUE(out.ok()) << out.error().message;
  return out.ok() ? std::move(*out) : std::vector<Tensor>{};
}

double max_relative_difference(const Tensor &a, const Tensor &b) {
  double diff = 0, scale = 0;
  for (size_t i = 0; i < a.data.size(); ++i) {
    diff = std::max(diff, std::fabs(static_cast<double>(a.data[i]) - b.data[i]));
    scale = std::max(scale, std::fabs(static_cast<double>(b.data[i])));
  }
  return diff / scale;
}

struct Variant {
  int devices;
  const char *partition;
};

class Equivalence : public ::testing::TestWithParam<Variant> {};

TEST_P(Equivalence, PaperAlexNetAfterThePipeline) {
  const Variant &v = GetParam();
  Graph original = testing::paper_alexnet_ir(2);
  WeightStore weights = random_weights(original, 3);
  Tensor input(original.type(original.inputs[0]));
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> pixel(-128.f, 128.f);
  for (float &x : input.data)
    x = pixel(rng);
  std::vector<Tensor> expected = run(original, weights, input, 1);
  ASSERT_EQ(expected.size(), 2u);

  Graph g = testing::paper_alexnet_ir(2);
  PassContext ctx;
  ctx.devices = v.devices;
  ctx.partition = v.partition;
  auto changed = run_pipeline(g, inference_pipeline(), ctx);
  ASSERT_TRUE(changed.ok()) << changed.error().message;
  std::vector<Tensor> got = run(g, weights, input, v.devices);
  ASSERT_EQ(got.size(), 2u);
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].type, expected[i].type);
    double rel = max_relative_difference(got[i], expected[i]);
    std::printf("devices=%d partition=%s output %zu: max relative difference %.3g\n", v.devices,
                v.partition, i, rel);
    EXPECT_LT(rel, 1e-6);
  }
  // The logits must be far from uniform, or the comparison proves little.
  float lo = *std::min_element(expected[0].data.begin(), expected[0].data.end());
  float hi = *std::max_element(expected[0].data.begin(), expected[0].data.end());
  EXPECT_GT(hi - lo, 0.1f) << "degenerate logits";
}

INSTANTIATE_TEST_SUITE_P(Devices, Equivalence,
                         ::testing::Values(Variant{1, "model"}, Variant{2, "model"},
                                           Variant{2, "data"}, Variant{4, "model"}),
                         [](const auto &info) {
                           return std::to_string(info.param.devices) + "_" + info.param.partition;
                         });

} // namespace
} // namespace anet
