#include <gtest/gtest.h>

#include "ir/graph.h"

namespace anet {
namespace {

Node conv_node(int64_t k, int64_t stride, int64_t pad, int64_t group) {
  Node n;
  n.op = OpKind::Conv;
  n.name = "conv";
  n.outputs = {0};
  n.attrs.set("kernel_shape", std::vector<int64_t>{k, k});
  n.attrs.set("strides", std::vector<int64_t>{stride, stride});
  n.attrs.set("pads", std::vector<int64_t>{pad, pad, pad, pad});
  n.attrs.set("dilations", std::vector<int64_t>{1, 1});
  n.attrs.set("group", group);
  return n;
}

TensorType f32(Shape s) { return TensorType{DType::F32, std::move(s)}; }

TEST(ShapeRules, AlexNetConv1) {
  auto out = infer_shapes(conv_node(11, 4, 0, 1), {f32({1, 3, 227, 227}), f32({96, 3, 11, 11})});
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ((*out)[0].shape, (Shape{1, 96, 55, 55}));
}

TEST(ShapeRules, GroupedConvChecksChannels) {
  auto out = infer_shapes(conv_node(5, 1, 2, 2), {f32({1, 96, 27, 27}), f32({256, 96, 5, 5})});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message.find("node 'conv' (Conv)"), std::string::npos);
  EXPECT_NE(out.error().message.find("channels"), std::string::npos);
}

TEST(ShapeRules, ZeroStrideIsRefused) {
  auto out = infer_shapes(conv_node(3, 0, 0, 1), {f32({1, 3, 8, 8}), f32({4, 3, 3, 3})});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message.find("stride"), std::string::npos);
}

TEST(ShapeRules, KernelLargerThanInputIsRefused) {
  auto out = infer_shapes(conv_node(11, 1, 0, 1), {f32({1, 3, 8, 8}), f32({4, 3, 11, 11})});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message.find("larger than"), std::string::npos);
}

TEST(ShapeRules, OverlappingPoolCeilMode) {
  Node n;
  n.op = OpKind::MaxPool;
  n.name = "pool";
  n.outputs = {0};
  n.attrs.set("kernel_shape", std::vector<int64_t>{3, 3});
  n.attrs.set("strides", std::vector<int64_t>{2, 2});
  n.attrs.set("pads", std::vector<int64_t>{0, 0, 0, 0});
  n.attrs.set("dilations", std::vector<int64_t>{1, 1});
  n.attrs.set("ceil_mode", int64_t{0});
  auto out = infer_shapes(n, {f32({1, 96, 55, 55})});
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ((*out)[0].shape, (Shape{1, 96, 27, 27}));
  n.attrs.set("ceil_mode", int64_t{1});
  out = infer_shapes(n, {f32({1, 96, 56, 56})});
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ((*out)[0].shape, (Shape{1, 96, 28, 28}));
}

TEST(ShapeRules, BroadcastAndMismatch) {
  Node n;
  n.op = OpKind::Add;
  n.name = "add";
  n.outputs = {0};
  auto ok = infer_shapes(n, {f32({2, 3, 4}), f32({3, 1})});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)[0].shape, (Shape{2, 3, 4}));
  EXPECT_FALSE(infer_shapes(n, {f32({2, 3}), f32({4})}).ok());
}

TEST(ShapeRules, AbsurdDimensionsAreRefused) {
  Node n;
  n.op = OpKind::Relu;
  n.name = "relu";
  n.outputs = {0};
  auto out = infer_shapes(n, {f32({int64_t{1} << 40, int64_t{1} << 40})});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message.find("too large"), std::string::npos);
}

TEST(Verifier, CatchesUseBeforeDefinition) {
  Graph g;
  g.name = "g";
  ValueId x = g.add_value("x", f32({4}), ValueKind::Input);
  ValueId a = g.add_value("a", f32({4}), ValueKind::Activation);
  ValueId b = g.add_value("b", f32({4}), ValueKind::Activation);
  g.add_node(Node{OpKind::Relu, "r2", {a}, {b}, {}, 0});
  g.add_node(Node{OpKind::Relu, "r1", {x}, {a}, {}, 0});
  g.outputs = {b};
  Status s = verify(g);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("before it is defined"), std::string::npos);
  std::swap(g.nodes[0], g.nodes[1]);
  EXPECT_TRUE(verify(g).ok());
}

} // namespace
} // namespace anet
