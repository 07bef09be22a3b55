#include <gtest/gtest.h>

#include <map>
#include <set>

#include "passes/passes.h"
#include "tests/passes/ir_builder.h"

namespace anet {
namespace {

// Which layers read across devices, and how many bytes, for the paper's
// AlexNet on two devices: the paper says conv3 and the fully connected
// layers communicate (plus the image, which both devices get, and LRN's
// channel halos).
TEST(Partition, PaperAlexNetCommunicatesWhereThePaperSays) {
  Graph g = testing::paper_alexnet_ir(1);
  PassContext ctx;
  ctx.devices = 2;
  auto changed = run_pipeline(g, inference_pipeline(), ctx);
  ASSERT_TRUE(changed.ok()) << changed.error().message;
  ASSERT_TRUE(g.explicit_transfers);

  std::map<std::string, int64_t> bytes_into; // reading layer -> bytes
  auto consumers = g.consumers();
  for (const Node &n : g.nodes) {
    if (n.op != OpKind::Transfer)
      continue;
    for (NodeId r : consumers[static_cast<size_t>(n.outputs[0])]) {
      std::string layer = g.nodes[static_cast<size_t>(r)].name;
      layer = layer.substr(0, layer.find_first_of("@/"));
      bytes_into[layer] += g.type(n.outputs[0]).bytes();
    }
  }
  std::set<std::string> layers;
  for (const auto &[layer, bytes] : bytes_into)
    layers.insert(layer);
  // relu1/relu2 are fused into conv1/conv2, so the halos are read by the
  // LRN layers norm1 and norm2; prob gathers fc8's halves on device 0.
  EXPECT_EQ(layers, (std::set<std::string>{"conv1", "norm1", "norm2", "conv3", "fc6", "fc7", "fc8",
                                           "prob"}))
      << ::testing::PrintToString(bytes_into);
}

TEST(Partition, EveryNodeIsOnADeviceAndWeightsAreSliced) {
  Graph g = testing::paper_alexnet_ir(1);
  PassContext ctx;
  ctx.devices = 2;
  ASSERT_TRUE(run_pipeline(g, inference_pipeline(), ctx).ok());
  int per_device[2] = {0, 0};
  for (const Node &n : g.nodes)
    ++per_device[n.device];
  EXPECT_GT(per_device[1], 10);
  // conv2 is grouped: each device holds half its filters.
  auto w0 = g.find_value("conv2.weight@0");
  ASSERT_TRUE(w0.has_value());
  EXPECT_EQ(g.type(*w0).shape, (Shape{128, 48, 5, 5}));
  EXPECT_EQ(g.param_slices.at(*w0).source, "conv2.weight");
  auto fc6 = g.find_value("fc6.weight@1");
  ASSERT_TRUE(fc6.has_value());
  EXPECT_EQ(g.param_slices.at(*fc6).offset, 2048);
}

TEST(Partition, DataParallelSplitsTheBatch) {
  Graph g = testing::paper_alexnet_ir(4);
  PassContext ctx;
  ctx.devices = 2;
  ctx.partition = "data";
  auto changed = run_pipeline(g, inference_pipeline(), ctx);
  ASSERT_TRUE(changed.ok()) << changed.error().message;
  EXPECT_TRUE(g.param_slices.empty());
  int transfers = 0;
  for (const Node &n : g.nodes)
    transfers += n.op == OpKind::Transfer;
  // The batch half goes out to device 1, and its halves of both outputs
  // (logits and prob) come back.
  EXPECT_EQ(transfers, 3);
}

TEST(Partition, RefusesBadDeviceCounts) {
  Graph g = testing::paper_alexnet_ir(1);
  PassContext ctx;
  ctx.devices = 0;
  auto r = run_pipeline(g, inference_pipeline(), ctx);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ExitCode::Usage);
}

} // namespace
} // namespace anet
