/// Tests of tools/infer_inputs.h: top-k ranking, softmax detection, and how
/// INPUT files become samples.

#include <gtest/gtest.h>

#include <cmath>

#include "runtime/io/npy.h"
#include "tests/tools/fixtures.h"
#include "tools/infer_inputs.h"

namespace anet::cli {
namespace {

TEST(TopK, OrdersByValueThenIndex) {
  const std::vector<float> v = {0.1f, 0.5f, NAN, 0.5f, 0.9f};
  const auto top = top_k(v, 4);
  ASSERT_EQ(top.size(), 4u);
  EXPECT_EQ(top[0].index, 4);
  EXPECT_EQ(top[1].index, 1);
  EXPECT_EQ(top[2].index, 3);
  EXPECT_EQ(top[3].index, 0);
  EXPECT_EQ(top_k(v, 99).size(), 5u);
  EXPECT_EQ(top_k(v, 99).back().index, 2) << "NaN ranks last";
}

TEST(SoftmaxOutput, SeenThroughIdentity) {
  Graph g;
  const TensorType t{DType::F32, {1, 4}};
  const ValueId x = g.add_value("x", t, ValueKind::Input);
  const ValueId p = g.add_value("p", t, ValueKind::Activation);
  const ValueId q = g.add_value("q", t, ValueKind::Activation);
  const ValueId r = g.add_value("r", t, ValueKind::Activation);
  g.inputs = {x};
  Node softmax;
  softmax.op = OpKind::Softmax;
  softmax.inputs = {x};
  softmax.outputs = {p};
  g.add_node(softmax);
  Node identity;
  identity.op = OpKind::Identity;
  identity.inputs = {p};
  identity.outputs = {q};
  g.add_node(identity);
  Node relu;
  relu.op = OpKind::Relu;
  relu.inputs = {x};
  relu.outputs = {r};
  g.add_node(relu);
  EXPECT_TRUE(is_softmax_output(g, p));
  EXPECT_TRUE(is_softmax_output(g, q));
  EXPECT_FALSE(is_softmax_output(g, r));
  EXPECT_FALSE(is_softmax_output(g, x));
}

TEST(LoadSamples, NpyBatchesSplitAndImagesNeedImageInputs) {
  testing::ScratchDir dir;
  Tensor t(TensorType{DType::F32, {2, 2, 3}});
  for (size_t i = 0; i < t.data.size(); ++i)
    t.data[i] = static_cast<float>(i);
  ASSERT_TRUE(write_npy(dir.path("t.npy"), t).ok());
  auto samples = load_samples({dir.path("t.npy")}, Preprocess{}, Shape{2, 3});
  ASSERT_TRUE(samples.ok()) << samples.error().message;
  ASSERT_EQ(samples->size(), 2u);
  EXPECT_EQ((*samples)[1].label, dir.path("t.npy") + "[1]");
  EXPECT_EQ((*samples)[1].values, (std::vector<float>{6, 7, 8, 9, 10, 11}));

  auto whole = load_samples({dir.path("t.npy")}, Preprocess{}, Shape{2, 2, 3});
  ASSERT_TRUE(whole.ok()) << whole.error().message;
  EXPECT_EQ(whole->size(), 1u);

  testing::write_bytes(dir.path("i.png"), testing::encode_png_rgb8(1, 1, {1, 2, 3}));
  auto image = load_samples({dir.path("i.png")}, Preprocess{}, Shape{10});
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.error().code, ExitCode::Usage);
}

} // namespace
} // namespace anet::cli
