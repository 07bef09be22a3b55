// The paper's initialisation over imported programs, whole and partitioned.

#include "models/paper_init.h"

#include <gtest/gtest.h>

#include <cmath>

#include "frontend/onnx_import.h"
#include "models/alexnet.h"
#include "passes/passes.h"

namespace anet::models {
namespace {

ImportedModel mini(int devices) {
  auto model = build_model("alexnet-mini", BuildOptions{});
  EXPECT_TRUE(model.ok());
  ImportOptions opts;
  opts.batch = 2;
  auto imported = import_onnx_bytes(model->SerializeAsString(), "", "alexnet-mini", opts);
  EXPECT_TRUE(imported.ok()) << imported.error().message;
  PassContext ctx;
  ctx.devices = devices;
  EXPECT_TRUE(run_pipeline(imported->graph, inference_pipeline(), ctx).ok());
  return std::move(*imported);
}

double stddev(const std::vector<float> &v) {
  double sum = 0, sq = 0;
  for (float x : v) {
    sum += x;
    sq += static_cast<double>(x) * x;
  }
  const double n = static_cast<double>(v.size());
  return std::sqrt(sq / n - (sum / n) * (sum / n));
}

class PaperInit : public ::testing::TestWithParam<int> {};

TEST_P(PaperInit, WeightsAndBiasesFollowThePaper) {
  ImportedModel m = mini(GetParam());
  ASSERT_TRUE(paper_init(m.graph, m.weights, 7).ok());
  for (const char *layer : {"conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"}) {
    const std::string name = layer;
    EXPECT_NEAR(stddev(m.weights.at(name + ".weight")), 0.01, 0.002) << name;
    const bool one =
        name == "conv2" || name == "conv4" || name == "conv5" || name == "fc6" || name == "fc7";
    for (float b : m.weights.at(name + ".bias"))
      ASSERT_EQ(b, one ? 1.f : 0.f) << name;
  }
}

TEST_P(PaperInit, IsAFunctionOfTheSeedAndNotOfThePartition) {
  ImportedModel a = mini(1), b = mini(GetParam()), c = mini(1);
  ASSERT_TRUE(paper_init(a.graph, a.weights, 7).ok());
  ASSERT_TRUE(paper_init(b.graph, b.weights, 7).ok());
  ASSERT_TRUE(paper_init(c.graph, c.weights, 8).ok());
  EXPECT_EQ(a.weights, b.weights);
  EXPECT_NE(a.weights.at("conv1.weight"), c.weights.at("conv1.weight"));
}

INSTANTIATE_TEST_SUITE_P(Devices, PaperInit, ::testing::Values(1, 2));

TEST(PaperInitErrors, RefusesAParamWithoutStoredWeights) {
  ImportedModel m = mini(1);
  m.weights.erase("fc8.bias");
  Status s = paper_init(m.graph, m.weights, 0);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ExitCode::InvalidModel);
  EXPECT_NE(s.error().message.find("'fc8.bias'"), std::string::npos) << s.error().message;
}

} // namespace
} // namespace anet::models
