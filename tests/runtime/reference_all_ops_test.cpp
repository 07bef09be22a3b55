// Every op of ir/ops.def has a reference kernel that runs: directly, and as a
// one-node program through the reference device and the executor, which must
// give the same numbers.

#include <cmath>

#include "runtime/device.h"
#include "runtime/executor.h"
#include "tests/runtime/op_samples.h"

namespace anet::test {
namespace {

// A program with one node: its inputs are program inputs, its outputs the
// program's outputs.
Graph one_node_program(const OpSample &sample) {
  Graph g;
  g.name = std::string(op_name(sample.node.op));
  Node node = sample.node;
  node.inputs.clear();
  std::vector<TensorType> in_types;
  for (size_t i = 0; i < sample.inputs.size(); ++i) {
    in_types.push_back(sample.inputs[i].type);
    node.inputs.push_back(g.add_value("x" + std::to_string(i), in_types.back(), ValueKind::Input));
  }
  auto out_types = infer_shapes(sample.node, in_types);
  EXPECT_TRUE(out_types.ok()) << out_types.error().message;
  node.outputs.clear();
  for (size_t i = 0; out_types.ok() && i < out_types->size(); ++i)
    node.outputs.push_back(
        g.add_value("y" + std::to_string(i), (*out_types)[i], ValueKind::Activation));
  g.outputs = node.outputs;
  g.add_node(std::move(node));
  return g;
}

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

    Graph program = one_node_program(*sample);
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
