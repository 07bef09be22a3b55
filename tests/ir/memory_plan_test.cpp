#include <gtest/gtest.h>

#include "ir/memory_plan.h"
#include "passes/passes.h"
#include "tests/passes/ir_builder.h"

namespace anet {
namespace {

TEST(MemoryPlan, AlexNetReusesMemoryAndIsSound) {
  for (int devices : {1, 2}) {
    Graph g = testing::paper_alexnet_ir(8);
    PassContext ctx;
    ctx.devices = devices;
    ASSERT_TRUE(run_pipeline(g, inference_pipeline(), ctx).ok());
    MemoryPlan plan = plan_memory(g);
    Status s = check_memory_plan(g, plan);
    ASSERT_TRUE(s.ok()) << s.error().message;
    ASSERT_EQ(plan.arena_bytes.size(), static_cast<size_t>(devices));
    for (int d = 0; d < devices; ++d) {
      std::printf("devices=%d device %d: %lld bytes planned, %lld unplanned\n", devices, d,
                  static_cast<long long>(plan.arena_bytes[d]),
                  static_cast<long long>(plan.unplanned_bytes[d]));
      EXPECT_LT(plan.arena_bytes[d] * 2, plan.unplanned_bytes[d]);
    }
  }
}

TEST(MemoryPlan, CheckerCatchesOverlappingLiveValues) {
  Graph g = testing::paper_alexnet_ir(1);
  PassContext ctx;
  ASSERT_TRUE(run_pipeline(g, inference_pipeline(), ctx).ok());
  MemoryPlan plan = plan_memory(g);
  // Put conv2's output on top of conv1's pooled output, which conv2 reads.
  ValueId pool1 = *g.find_value("pool1"), conv2 = *g.find_value("relu2");
  plan.offset[static_cast<size_t>(conv2)] = plan.offset[static_cast<size_t>(pool1)];
  Status s = check_memory_plan(g, plan);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("live together"), std::string::npos) << s.error().message;
}

TEST(MemoryPlan, ReshapeIsAView) {
  testing::IrBuilder b("view");
  ValueId x = b.input("x", {2, 3, 4, 4});
  ValueId r = b.relu("r", x);
  ValueId f = b.flatten("f", r);
  ValueId y = b.relu("y", f);
  Graph g = b.finish({y});
  PassContext ctx;
  ASSERT_TRUE(run_pipeline(g, inference_pipeline(), ctx).ok());
  MemoryPlan plan = plan_memory(g);
  ASSERT_TRUE(check_memory_plan(g, plan).ok());
  // r, its flattened view and y (in place over the dying view) share one
  // buffer; only the input needs another.
  EXPECT_EQ(plan.arena_bytes[0], 2 * 2 * 3 * 4 * 4 * 4);
}

} // namespace
} // namespace anet
