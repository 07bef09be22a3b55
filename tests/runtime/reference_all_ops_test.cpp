// Every op of ir/ops.def has a reference kernel that runs: directly, and as a
// one-node program through the reference device and the executor, which must
// give the same numbers.

#include <cmath>

#include "runtime/device.h"
#include "runtime/executor.h"
#include "tests/runtime/op_samples.h"

namespace anet::test {
namespace {

TEST(RefAllOps, EveryOpHasAKernelThatRuns) {
  std::unique_ptr<Device> device = make_reference_device();
  for (int i = 0; i < kNumOps; ++i) {
    auto op = static_cast<OpKind>(i);
    SCOPED_TRACE(std::string(op_name(op)));
    ASSERT_NE(ref_kernel(op), nullptr);
    std::optional<OpSample> sample = op_sample(op);
    ASSERT_TRUE(sample.has_value()) << "no sample for this op in tests/runtime/op_samples.h";

    auto direct = run_reference(sample->node, sample->inputs);
    ASSERT_TRUE(direct.ok()) << direct.error().message;
    for (const Tensor &t : *direct)
      for (float v : t.data)
        EXPECT_TRUE(std::isfinite(v));

    Graph program = one_node_program(sample->node, sample->inputs);
    auto ex = Executor::create(program, {}, *device);
    ASSERT_TRUE(ex.ok()) << ex.error().message;
    auto outputs = ex->run(sample->inputs);
    ASSERT_TRUE(outputs.ok()) << outputs.error().message;
    ASSERT_EQ(outputs->size(), direct->size());
    for (size_t k = 0; k < outputs->size(); ++k) {
      EXPECT_EQ((*outputs)[k].type, (*direct)[k].type);
      EXPECT_EQ((*outputs)[k].data, (*direct)[k].data);
    }
  }
}

} // namespace
} // namespace anet::test
