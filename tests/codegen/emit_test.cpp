// The CPU kernel emitters without compiling: every op of the table has one,
// constants are written exactly, a golden body pins the format, and shapes
// the kernels cannot index are refused naming the node.

#include "codegen/cpu/emit.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdlib>

#include "tests/runtime/op_samples.h"

namespace anet::cpu {
namespace {

using test::one_node_program;
using test::op_sample;

TEST(CpuEmit, EveryOpHasAnEmitter) {
  for (int i = 0; i < kNumOps; ++i) {
    const auto op = static_cast<OpKind>(i);
    SCOPED_TRACE(std::string(op_name(op)));
    std::optional<test::OpSample> sample = op_sample(op);
    ASSERT_TRUE(sample.has_value());
    Graph g = one_node_program(sample->node, sample->inputs);
    auto body = emit_kernel(g, 0);
    ASSERT_TRUE(body.ok()) << body.error().message;
    EXPECT_EQ(body->rfind("struct P {\n", 0), 0u) << *body;
    EXPECT_NE(body->find("};\nANET_KERNEL("), std::string::npos) << *body;
  }
}

TEST(CpuEmit, FloatsAreWrittenExactly) {
  for (float v : {0.1f, -3.75f, 1e-38f, 3.4e38f, 0.0f, -0.0f, 1.0f / 3.0f}) {
    const std::string text = float_literal(v);
    ASSERT_EQ(text.back(), 'f') << text;
    const float back = std::strtof(text.substr(0, text.size() - 1).c_str(), nullptr);
    EXPECT_EQ(std::bit_cast<uint32_t>(back), std::bit_cast<uint32_t>(v)) << text;
  }
  EXPECT_EQ(float_literal(INFINITY), "__builtin_bit_cast(float, 0x7f800000u)");
  EXPECT_EQ(float_literal(-INFINITY), "__builtin_bit_cast(float, 0xff800000u)");
  EXPECT_EQ(float_literal(std::bit_cast<float>(0x7fc00001u)),
            "__builtin_bit_cast(float, 0x7fc00001u)");
}

// The format every kernel template reads; change on purpose only.
TEST(CpuEmit, GoldenBodyOfARelu) {
  Node relu = test::make_node(OpKind::Relu);
  Graph g = one_node_program(relu, {test::varied({2, 3})});
  auto body = emit_kernel(g, 0);
  ASSERT_TRUE(body.ok()) << body.error().message;
  EXPECT_EQ(*body, "struct P {\n"
                   "  static constexpr long n = 6;\n"
                   "  static constexpr long act = 1;\n"
                   "  static constexpr float act_min = 0x0p+0f;\n"
                   "  static constexpr float act_max = 0x0p+0f;\n"
                   "};\n"
                   "ANET_KERNEL(eltwise_unary)\n");
}

// Conv may pack its weights once when no run changes them: a param of an
// inference program, not an input, nor a param the program updates (SGD).
TEST(CpuEmit, ConvWeightsAreConstantOnlyWhenNoRunChangesThem) {
  std::optional<test::OpSample> sample = op_sample(OpKind::Conv);
  ASSERT_TRUE(sample.has_value());
  auto constant = [](const Graph &g) {
    auto body = emit_kernel(g, 0);
    EXPECT_TRUE(body.ok()) << body.error().message;
    return body.ok() && body->find("constant_weights = true") != std::string::npos;
  };
  EXPECT_FALSE(constant(one_node_program(sample->node, sample->inputs)));
  Graph g = one_node_program(sample->node, sample->inputs, {1});
  EXPECT_TRUE(constant(g));
  g.updates.emplace_back(g.nodes[0].inputs[1], g.nodes[0].outputs[0]);
  EXPECT_FALSE(constant(g));
}

TEST(CpuEmit, ClipWithCrossedBoundsClampsToTheUpperOne) {
  KernelSourceBuilder b;
  add_activation(b, Activation{OpKind::Clip, 2.f, -1.f});
  const std::string body = b.finish("t");
  EXPECT_NE(body.find("act_min = -0x1p+0f"), std::string::npos) << body;
  EXPECT_NE(body.find("act_max = -0x1p+0f"), std::string::npos) << body;
}

TEST(CpuEmit, OperandsBeyond32BitIndexingAreRefusedNamingTheNode) {
  Graph g;
  g.name = "huge";
  Node conv = test::make_node(OpKind::Conv);
  conv.name = "conv_huge";
  test::set_window(conv, {1, 1}, {1, 1}, {0, 0, 0, 0});
  conv.attrs.set("group", int64_t{1});
  const ValueId x =
      g.add_value("x", TensorType{DType::F32, {1024, 64, 256, 256}}, ValueKind::Input);
  const ValueId w = g.add_value("w", TensorType{DType::F32, {8, 64, 1, 1}}, ValueKind::Param);
  const ValueId y =
      g.add_value("y", TensorType{DType::F32, {1024, 8, 256, 256}}, ValueKind::Activation);
  conv.inputs = {x, w};
  conv.outputs = {y};
  g.add_node(conv);
  auto body = emit_kernel(g, 0);
  ASSERT_FALSE(body.ok());
  EXPECT_NE(body.error().message.find("node 'conv_huge': op Conv"), std::string::npos)
      << body.error().message;
}

} // namespace
} // namespace anet::cpu
