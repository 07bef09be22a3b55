// The importer on small models built in C++: one test per op and version
// difference, each checking the canonical IR attributes the lowering
// produces (ONNX defaults applied, negative axes resolved, auto_pad turned
// into pads, constant operands folded) and the resulting static shapes.

#include <cmath>
#include <limits>

#include "import_test_util.h"
#include "onnx_builder.h"

namespace anet::test {
namespace {

using Ints = std::vector<int64_t>;
using onnx::TensorProto;

std::vector<float> iota_floats(size_t n) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i)
    v[i] = static_cast<float>(i) * 0.5f;
  return v;
}

// x[N,3,8,8] -> conv(3x3, pad 1) -> relu -> maxpool(2) -> flatten -> gemm -> softmax.
ModelBuilder tiny_net(int64_t opset = 13, int64_t ir_version = 7) {
  ModelBuilder b(opset, ir_version);
  b.input("x", {kSymbolic, 3, 8, 8});
  b.initializer("conv1.w", {4, 3, 3, 3}, iota_floats(108));
  b.initializer("conv1.b", {4}, {1, 2, 3, 4});
  b.initializer("fc.w", {10, 64}, iota_floats(640));
  b.initializer("fc.b", {10}, iota_floats(10));
  b.node("Conv", {"x", "conv1.w", "conv1.b"}, {"c1"}, "conv1")
      .ints("kernel_shape", {3, 3})
      .ints("pads", {1, 1, 1, 1});
  b.node("Relu", {"c1"}, {"r1"}, "relu1");
  b.node("MaxPool", {"r1"}, {"p1"}, "pool1").ints("kernel_shape", {2, 2}).ints("strides", {2, 2});
  b.node("Flatten", {"p1"}, {"f"}, "flatten");
  b.node("Gemm", {"f", "fc.w", "fc.b"}, {"logits"}, "fc").i("transB", 1);
  b.node("Softmax", {"logits"}, {"prob"}, "softmax");
  b.output("prob", {kSymbolic, 10});
  return b;
}

TEST(ImportModel, TinyNetBecomesVerifiedIr) {
  ModelBuilder b = tiny_net();
  ImportOptions opts;
  opts.batch = 5;
  auto m = b.import(opts);
  ASSERT_TRUE(m.ok()) << m.error().message;
  const Graph &g = m->graph;
  EXPECT_TRUE(verify(g).ok());
  EXPECT_EQ(m->opset, 13);
  EXPECT_EQ(m->onnx_bytes, b.bytes());
  ASSERT_EQ(g.inputs.size(), 1u);
  EXPECT_EQ(g.value(g.inputs[0]).name, "x");
  EXPECT_EQ(g.type(g.inputs[0]).shape, (Shape{5, 3, 8, 8}));
  ASSERT_EQ(g.outputs.size(), 1u);
  EXPECT_EQ(g.value(g.outputs[0]).name, "prob");
  EXPECT_EQ(g.type(g.outputs[0]).shape, (Shape{5, 10}));
  EXPECT_EQ(type_of(g, "c1").shape, (Shape{5, 4, 8, 8}));
  EXPECT_EQ(type_of(g, "p1").shape, (Shape{5, 4, 4, 4}));
  EXPECT_EQ(type_of(g, "f").shape, (Shape{5, 64}));

  std::vector<std::string> names;
  for (const Node &n : g.nodes)
    names.push_back(n.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"conv1", "relu1", "pool1", "flatten", "fc", "softmax"}));

  std::vector<std::string> params;
  for (ValueId p : g.params())
    params.push_back(g.value(p).name);
  EXPECT_EQ(params, (std::vector<std::string>{"conv1.w", "conv1.b", "fc.w", "fc.b"}));
  ASSERT_EQ(m->weights.size(), 4u);
  EXPECT_EQ(m->weights.at("conv1.w"), iota_floats(108));
  EXPECT_EQ(m->weights.at("conv1.b"), (std::vector<float>{1, 2, 3, 4}));

  const Node &conv = only(g, OpKind::Conv);
  EXPECT_EQ(conv.attrs.ints("kernel_shape"), (Ints{3, 3}));
  EXPECT_EQ(conv.attrs.ints("strides"), (Ints{1, 1}));
  EXPECT_EQ(conv.attrs.ints("pads"), (Ints{1, 1, 1, 1}));
  EXPECT_EQ(conv.attrs.ints("dilations"), (Ints{1, 1}));
  EXPECT_EQ(conv.attrs.i("group"), 1);
  const Node &gemm = only(g, OpKind::Gemm);
  EXPECT_EQ(gemm.attrs.f("alpha"), 1.0f);
  EXPECT_EQ(gemm.attrs.f("beta"), 1.0f);
  EXPECT_EQ(gemm.attrs.i("transA"), 0);
  EXPECT_EQ(gemm.attrs.i("transB"), 1);
  EXPECT_EQ(only(g, OpKind::Softmax).attrs.i("axis"), 1);
  EXPECT_EQ(only(g, OpKind::Flatten).attrs.i("axis"), 1);
  EXPECT_EQ(only(g, OpKind::MaxPool).attrs.i("ceil_mode"), 0);
}

TEST(ImportModel, SymbolicBatchDefaultsToOne) {
  auto m = tiny_net().import();
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->graph.type(m->graph.inputs[0]).shape, (Shape{1, 3, 8, 8}));
}

TEST(ImportModel, UnknownBatchDimWithoutDimParamTakesBatch) {
  ModelBuilder b = tiny_net();
  b.proto()
      .mutable_graph()
      ->mutable_input(0)
      ->mutable_type()
      ->mutable_tensor_type()
      ->mutable_shape()
      ->mutable_dim(0)
      ->clear_dim_param();
  ImportOptions opts;
  opts.batch = 3;
  auto m = b.import(opts);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->graph.type(m->graph.inputs[0]).shape, (Shape{3, 3, 8, 8}));
}

TEST(ImportModel, FixedBatchIsKept) {
  ModelBuilder b(13);
  b.input("x", {2, 3});
  b.node("Relu", {"x"}, {"y"});
  b.output("y", {2, 3});
  ImportOptions opts;
  opts.batch = 7;
  auto m = b.import(opts);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(type_of(m->graph, "y").shape, (Shape{2, 3}));
  EXPECT_EQ(m->graph.nodes[0].name, "Relu_0"); // unnamed nodes get op_index
}

// Opsets 18 to 21 and IR versions 9 and 10 are newer than the installed ONNX
// library; they import on the strength of our own shape rules.
TEST(ImportModel, NewerOpsetsAndIrVersionsImport) {
  for (auto [opset, ir] : {std::pair{18, 8}, {19, 9}, {20, 9}, {21, 10}}) {
    auto m = tiny_net(opset, ir).import();
    ASSERT_TRUE(m.ok()) << "opset " << opset << ": " << m.error().message;
    EXPECT_EQ(m->opset, opset);
    EXPECT_EQ(type_of(m->graph, "prob").shape, (Shape{1, 10}));
  }
}

TEST(ImportModel, OldStyleInitializersListedAsInputsAreParams) {
  ModelBuilder b(9, 3);
  b.input("x", {1, 4});
  b.input("w", {3, 4});
  b.input("bias", {3});
  b.input("shape", {2}, TensorProto::INT64);
  b.initializer("w", {3, 4}, iota_floats(12));
  b.initializer("bias", {3}, {1, 2, 3});
  b.int_initializer("shape", {2}, {3, 1});
  b.node("Gemm", {"x", "w", "bias"}, {"y"}).i("transB", 1);
  b.node("Reshape", {"y", "shape"}, {"z"});
  b.output("z", {3, 1});
  auto m = b.import();
  ASSERT_TRUE(m.ok()) << m.error().message;
  const Graph &g = m->graph;
  ASSERT_EQ(g.inputs.size(), 1u);
  EXPECT_EQ(g.value(g.inputs[0]).name, "x");
  EXPECT_EQ(g.value(*g.find_value("w")).kind, ValueKind::Param);
  // The int64 shape feeds only Reshape's constant operand: not a weight.
  EXPECT_FALSE(g.find_value("shape").has_value());
  EXPECT_EQ(m->weights.count("shape"), 0u);
  EXPECT_EQ(only(g, OpKind::Reshape).attrs.ints("shape"), (Ints{3, 1}));
}

TEST(ImportConv, AutoPadSameUpperLowerAndValid) {
  struct Case {
    const char *auto_pad;
    Ints pads;
    Shape out;
  };
  // Input 7x7, kernel 4x4, stride 2: SAME output 4x4 needs 3 padding rows.
  for (const Case &c : {Case{"SAME_UPPER", {1, 1, 2, 2}, {1, 2, 4, 4}},
                        Case{"SAME_LOWER", {2, 2, 1, 1}, {1, 2, 4, 4}},
                        Case{"VALID", {0, 0, 0, 0}, {1, 2, 2, 2}}}) {
    ModelBuilder b(11);
    b.input("x", {1, 3, 7, 7});
    b.initializer("w", {2, 3, 4, 4}, iota_floats(96));
    b.node("Conv", {"x", "w"}, {"y"}, "conv").s("auto_pad", c.auto_pad).ints("strides", {2, 2});
    b.output("y");
    auto m = b.import();
    ASSERT_TRUE(m.ok()) << c.auto_pad << ": " << m.error().message;
    const Node &conv = only(m->graph, OpKind::Conv);
    EXPECT_EQ(conv.attrs.ints("pads"), c.pads) << c.auto_pad;
    EXPECT_EQ(conv.attrs.ints("kernel_shape"), (Ints{4, 4})) << "defaults to the weight's size";
    EXPECT_EQ(conv.inputs.size(), 2u) << "no bias";
    EXPECT_EQ(type_of(m->graph, "y").shape, c.out) << c.auto_pad;
  }
}

TEST(ImportConv, GroupsDilationsAndAsymmetricPads) {
  ModelBuilder b(13);
  b.input("x", {2, 4, 10, 10});
  b.initializer("w", {6, 2, 3, 3}, iota_floats(108));
  b.initializer("b", {6}, iota_floats(6));
  b.node("Conv", {"x", "w", "b"}, {"y"})
      .i("group", 2)
      .ints("dilations", {2, 1})
      .ints("pads", {0, 1, 2, 3})
      .ints("strides", {1, 2});
  b.output("y");
  auto m = b.import();
  ASSERT_TRUE(m.ok()) << m.error().message;
  const Node &conv = only(m->graph, OpKind::Conv);
  EXPECT_EQ(conv.attrs.i("group"), 2);
  EXPECT_EQ(conv.attrs.ints("dilations"), (Ints{2, 1}));
  EXPECT_EQ(conv.attrs.ints("pads"), (Ints{0, 1, 2, 3}));
  // H: (10 + 0 + 2 - 5) / 1 + 1 = 8; W: (10 + 1 + 3 - 3) / 2 + 1 = 6.
  EXPECT_EQ(type_of(m->graph, "y").shape, (Shape{2, 6, 8, 6}));
}

TEST(ImportPool, MaxPoolCeilModeDilationsAndStorageOrder) {
  ModelBuilder b(12);
  b.input("x", {1, 1, 5, 5});
  b.node("MaxPool", {"x"}, {"y"})
      .ints("kernel_shape", {2, 2})
      .ints("strides", {2, 2})
      .i("ceil_mode", 1)
      .ints("dilations", {1, 1})
      .i("storage_order", 1);
  b.output("y", {1, 1, 3, 3});
  auto m = b.import();
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(only(m->graph, OpKind::MaxPool).attrs.i("ceil_mode"), 1);
}

TEST(ImportPool, SamePaddingClearsCeilMode) {
  ModelBuilder b(12);
  b.input("x", {1, 1, 6, 6});
  b.node("MaxPool", {"x"}, {"y"})
      .ints("kernel_shape", {3, 3})
      .ints("strides", {2, 2})
      .s("auto_pad", "SAME_UPPER")
      .i("ceil_mode", 1);
  b.output("y", {1, 1, 3, 3});
  auto m = b.import();
  ASSERT_TRUE(m.ok()) << m.error().message;
  const Node &pool = only(m->graph, OpKind::MaxPool);
  EXPECT_EQ(pool.attrs.ints("pads"), (Ints{0, 0, 1, 1}));
  EXPECT_EQ(pool.attrs.i("ceil_mode"), 0);
}

TEST(ImportPool, AveragePoolCountIncludePad) {
  ModelBuilder b(19, 9);
  b.input("x", {1, 2, 6, 6});
  b.node("AveragePool", {"x"}, {"y"})
      .ints("kernel_shape", {3, 3})
      .ints("pads", {1, 1, 1, 1})
      .ints("dilations", {2, 2})
      .i("count_include_pad", 1);
  b.node("GlobalAveragePool", {"y"}, {"z"});
  b.output("z", {1, 2, 1, 1});
  auto m = b.import();
  ASSERT_TRUE(m.ok()) << m.error().message;
  const Node &pool = only(m->graph, OpKind::AveragePool);
  EXPECT_EQ(pool.attrs.i("count_include_pad"), 1);
  EXPECT_EQ(pool.attrs.i("ceil_mode"), 0);
  EXPECT_EQ(pool.attrs.ints("dilations"), (Ints{2, 2}));
  EXPECT_EQ(type_of(m->graph, "y").shape, (Shape{1, 2, 4, 4}));
}

TEST(ImportLrn, DefaultsAndPaperConstants) {
  ModelBuilder b(13);
  b.input("x", {1, 8, 4, 4});
  b.node("LRN", {"x"}, {"a"}).i("size", 3);
  b.node("LRN", {"a"}, {"y"}).i("size", 5).f("alpha", 5e-4f).f("beta", 0.75f).f("bias", 2.0f);
  b.output("y");
  auto m = b.import();
  ASSERT_TRUE(m.ok()) << m.error().message;
  auto lrns = nodes_of(m->graph, OpKind::LRN);
  ASSERT_EQ(lrns.size(), 2u);
  EXPECT_EQ(lrns[0]->attrs.f("alpha"), 1e-4f);
  EXPECT_EQ(lrns[0]->attrs.f("beta"), 0.75f);
  EXPECT_EQ(lrns[0]->attrs.f("bias"), 1.0f);
  EXPECT_EQ(lrns[0]->attrs.i("size"), 3);
  EXPECT_EQ(lrns[1]->attrs.f("alpha"), 5e-4f);
  EXPECT_EQ(lrns[1]->attrs.f("bias"), 2.0f);
}

TEST(ImportGemm, OptionalCTransposesAndScalars) {
  ModelBuilder b(11);
  b.input("a", {4, 3});
  b.initializer("b", {5, 4}, iota_floats(20));
  b.initializer("c", {5}, iota_floats(5));
  b.node("Gemm", {"a", "b"}, {"y"}, "no_c").i("transA", 1).i("transB", 1).f("alpha", 2.0f);
  b.node("Gemm", {"a", "b", "c"}, {"z"}, "with_c").i("transA", 1).i("transB", 1).f("beta", 0.5f);
  b.output("y", {3, 5});
  b.output("z", {3, 5});
  auto m = b.import();
  ASSERT_TRUE(m.ok()) << m.error().message;
  auto gemms = nodes_of(m->graph, OpKind::Gemm);
  ASSERT_EQ(gemms.size(), 2u);
  EXPECT_EQ(gemms[0]->inputs.size(), 2u);
  EXPECT_EQ(gemms[0]->attrs.f("alpha"), 2.0f);
  EXPECT_EQ(gemms[0]->attrs.i("transA"), 1);
  EXPECT_EQ(gemms[1]->inputs.size(), 3u);
  EXPECT_EQ(gemms[1]->attrs.f("beta"), 0.5f);
}

TEST(ImportBinary, BroadcastingAndMatMul) {
  ModelBuilder b(14);
  b.input("x", {2, 3, 4});
  b.initializer("row", {4}, iota_floats(4));
  b.initializer("m", {4, 5}, iota_floats(20));
  b.node("Add", {"x", "row"}, {"a"});
  b.node("Sub", {"a", "row"}, {"s"});
  b.node("Mul", {"s", "x"}, {"p"});
  b.node("Div", {"p", "row"}, {"d"});
  b.node("MatMul", {"d", "m"}, {"y"});
  b.output("y", {2, 3, 5});
  auto m = b.import();
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->graph.nodes.size(), 5u);
  EXPECT_EQ(m->graph.value(*m->graph.find_value("row")).kind, ValueKind::Param);
}

TEST(ImportBinary, LegacyBroadcastAttributeIsRefused) {
  ModelBuilder b(18, 8);
  b.input("x", {2, 3});
  b.initializer("y", {3}, iota_floats(3));
  b.node("Add", {"x", "y"}, {"z"}, "add").i("broadcast", 1);
  b.output("z");
  EXPECT_TRUE(fails_with(b.import(), ExitCode::InvalidModel,
                         {"test.onnx: node 'add' (Add)", "'broadcast'", "opsets before 7"}));
}

TEST(ImportShapeOps, FlattenNegativeAxisAndTranspose) {
  ModelBuilder b(13);
  b.input("x", {2, 3, 4, 5});
  b.node("Flatten", {"x"}, {"f"}).i("axis", -1);
  b.node("Transpose", {"x"}, {"t"});
  b.node("Transpose", {"x"}, {"u"}).ints("perm", {0, 2, 3, 1});
  b.output("f", {24, 5});
  b.output("t", {5, 4, 3, 2});
  b.output("u", {2, 4, 5, 3});
  auto m = b.import();
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(only(m->graph, OpKind::Flatten).attrs.i("axis"), 3);
  auto t = nodes_of(m->graph, OpKind::Transpose);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0]->attrs.ints("perm"), (Ints{3, 2, 1, 0}));
  EXPECT_EQ(t[1]->attrs.ints("perm"), (Ints{0, 2, 3, 1}));
}

TEST(ImportShapeOps, ReshapeZeroAndMinusOne) {
  ModelBuilder b(13);
  b.input("x", {2, 3, 4});
  b.int_initializer("s1", {3}, {0, -1, 2});
  b.node("Reshape", {"x", "s1"}, {"y"});
  b.output("y", {2, 6, 2});
  auto m = b.import();
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(only(m->graph, OpKind::Reshape).attrs.ints("shape"), (Ints{2, 6, 2}));
}

TEST(ImportShapeOps, ReshapeAllowZeroKeepsZero) {
  ModelBuilder b(14);
  b.input("x", {0, 3});
  b.int_initializer("s", {2}, {3, 0});
  b.node("Reshape", {"x", "s"}, {"y"}).i("allowzero", 1);
  b.output("y", {3, 0});
  auto m = b.import();
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(only(m->graph, OpKind::Reshape).attrs.ints("shape"), (Ints{3, 0}));
}

TEST(ImportShapeOps, ReshapeShapeFromConstantNodeAndBoundInput) {
  ModelBuilder b(13);
  b.input("x", {2, 6});
  b.input("target", {2}, TensorProto::INT64);
  b.node("Constant", {}, {"c"}).t("value", int_tensor("", {2}, {-1, 4}));
  b.node("Reshape", {"x", "c"}, {"y"});
  b.node("Reshape", {"y", "target"}, {"z"});
  b.output("z", {4, 3});
  ImportOptions opts;
  opts.bind_inputs["target"] = Tensor(TensorType{DType::F32, {2}}, {4, 3});
  auto m = b.import(opts);
  ASSERT_TRUE(m.ok()) << m.error().message;
  auto r = nodes_of(m->graph, OpKind::Reshape);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0]->attrs.ints("shape"), (Ints{3, 4}));
  EXPECT_EQ(r[1]->attrs.ints("shape"), (Ints{4, 3}));
  EXPECT_TRUE(m->graph.inputs.size() == 1 && m->graph.value(m->graph.inputs[0]).name == "x")
      << "a bound input is not a graph input";
}

TEST(ImportShapeOps, ConcatNegativeAxis) {
  ModelBuilder b(13);
  b.input("a", {2, 3});
  b.input("b", {2, 5});
  b.node("Concat", {"a", "b", "a"}, {"y"}).i("axis", -1);
  b.output("y", {2, 11});
  auto m = b.import();
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(only(m->graph, OpKind::Concat).attrs.i("axis"), 1);
}

TEST(ImportSplit, AttributeBeforeOpset13) {
  ModelBuilder b(11);
  b.input("x", {2, 6});
  b.node("Split", {"x"}, {"a", "b"}).i("axis", -1).ints("split", {2, 4});
  b.output("a", {2, 2});
  b.output("b", {2, 4});
  auto m = b.import();
  ASSERT_TRUE(m.ok()) << m.error().message;
  const Node &s = only(m->graph, OpKind::Split);
  EXPECT_EQ(s.attrs.i("axis"), 1);
  EXPECT_EQ(s.attrs.ints("split"), (Ints{2, 4}));
}

TEST(ImportSplit, InputFromOpset13AndEqualDefault) {
  ModelBuilder b(13);
  b.input("x", {6, 2});
  b.int_initializer("sizes", {3}, {1, 2, 3});
  b.node("Split", {"x", "sizes"}, {"a", "b", "c"});
  b.node("Split", {"x"}, {"d", "e"});
  b.output("c", {3, 2});
  b.output("e", {3, 2});
  auto m = b.import();
  ASSERT_TRUE(m.ok()) << m.error().message;
  auto s = nodes_of(m->graph, OpKind::Split);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0]->attrs.ints("split"), (Ints{1, 2, 3}));
  EXPECT_EQ(s[1]->attrs.ints("split"), (Ints{3, 3}));
}

TEST(ImportSplit, NumOutputsFromOpset18WithUnevenLastChunk) {
  ModelBuilder b(18, 8);
  b.input("x", {7});
  b.node("Split", {"x"}, {"a", "b", "c"}).i("num_outputs", 3);
  b.output("a", {3});
  b.output("c", {1});
  auto m = b.import();
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(only(m->graph, OpKind::Split).attrs.ints("split"), (Ints{3, 3, 1}));
}

TEST(ImportSplit, UnequalDefaultSplitIsRefused) {
  ModelBuilder b(13);
  b.input("x", {7});
  b.node("Split", {"x"}, {"a", "b"}, "split");
  b.output("a");
  EXPECT_TRUE(fails_with(b.import(), ExitCode::InvalidModel,
                         {"node 'split' (Split)", "cannot be split into 2 equal parts"}));
}

TEST(ImportSlice, AttributesBeforeOpset10) {
  ModelBuilder b(9);
  b.input("x", {4, 6});
  b.node("Slice", {"x"}, {"y"})
      .ints("starts", {1, -4})
      .ints("ends", {1000, -1})
      .ints("axes", {0, 1});
  b.output("y", {3, 3});
  auto m = b.import();
  ASSERT_TRUE(m.ok()) << m.error().message;
  const Node &s = only(m->graph, OpKind::Slice);
  EXPECT_EQ(s.attrs.ints("starts"), (Ints{1, 2}));
  EXPECT_EQ(s.attrs.ints("ends"), (Ints{4, 5}));
  EXPECT_EQ(s.attrs.ints("steps"), (Ints{1, 1}));
}

TEST(ImportSlice, InputsWithClampingNegativeStepsAndDefaultAxes) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  ModelBuilder b(13);
  b.input("x", {5, 6, 7});
  b.int_initializer("starts", {2}, {kMax, 1});
  b.int_initializer("ends", {2}, {kMin, kMax});
  b.int_initializer("axes", {2}, {-1, 0});
  b.int_initializer("steps", {2}, {-2, 3});
  b.node("Slice", {"x", "starts", "ends", "axes", "steps"}, {"y"});
  b.int_initializer("s2", {1}, {-3});
  b.int_initializer("e2", {1}, {kMax});
  b.node("Slice", {"x", "s2", "e2"}, {"z"});
  b.output("y", {2, 6, 4});
  b.output("z", {3, 6, 7});
  auto m = b.import();
  ASSERT_TRUE(m.ok()) << m.error().message;
  auto s = nodes_of(m->graph, OpKind::Slice);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0]->attrs.ints("starts"), (Ints{1, 0, 6}));
  EXPECT_EQ(s[0]->attrs.ints("ends"), (Ints{5, 6, -1}));
  EXPECT_EQ(s[0]->attrs.ints("steps"), (Ints{3, 1, -2}));
  EXPECT_EQ(s[1]->attrs.ints("starts"), (Ints{2, 0, 0}));
  EXPECT_EQ(s[1]->attrs.ints("ends"), (Ints{5, 6, 7}));
}

TEST(ImportDropout, RatioAttributeBeforeOpset12AndUnusedMask) {
  ModelBuilder b(10);
  b.input("x", {2, 3});
  b.node("Dropout", {"x"}, {"y", "mask"}).f("ratio", 0.25f);
  b.output("y", {2, 3});
  auto m = b.import();
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(only(m->graph, OpKind::Dropout).attrs.f("ratio"), 0.25f);
  EXPECT_FALSE(m->graph.find_value("mask").has_value());
}

TEST(ImportDropout, RatioAndTrainingModeInputsFromOpset12) {
  ModelBuilder b(13);
  b.input("x", {2, 3});
  b.initializer("ratio", {}, {0.1f});
  TensorProto training;
  training.set_name("training");
  training.set_data_type(TensorProto::BOOL);
  training.add_int32_data(0);
  b.initializer(training);
  b.node("Dropout", {"x", "ratio", "training"}, {"y"}).i("seed", 7);
  b.node("Dropout", {"y"}, {"z"});
  b.output("z", {2, 3});
  auto m = b.import();
  ASSERT_TRUE(m.ok()) << m.error().message;
  auto d = nodes_of(m->graph, OpKind::Dropout);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0]->attrs.f("ratio"), 0.1f);
  EXPECT_EQ(d[1]->attrs.f("ratio"), 0.5f);
  EXPECT_TRUE(m->weights.empty()) << "ratio and training_mode are operands, not weights";
}

TEST(ImportSoftmax, Opset11CoercesTo2DThroughReshapes) {
  ModelBuilder b(11);
  b.input("x", {2, 3, 4});
  b.node("Softmax", {"x"}, {"y"}, "sm").i("axis", 1);
  b.node("LogSoftmax", {"x"}, {"z"}, "lsm").i("axis", 2);
  b.output("y", {2, 3, 4});
  b.output("z", {2, 3, 4});
  auto m = b.import();
  ASSERT_TRUE(m.ok()) << m.error().message;
  const Graph &g = m->graph;
  ASSERT_EQ(g.nodes.size(), 4u) << print_graph(g);
  EXPECT_EQ(g.nodes[0].op, OpKind::Reshape);
  EXPECT_EQ(g.nodes[0].attrs.ints("shape"), (Ints{2, 12}));
  EXPECT_EQ(g.nodes[1].op, OpKind::Softmax);
  EXPECT_EQ(g.nodes[1].name, "sm");
  EXPECT_EQ(g.nodes[1].attrs.i("axis"), 1);
  EXPECT_EQ(g.nodes[2].op, OpKind::Reshape);
  EXPECT_EQ(g.nodes[2].attrs.ints("shape"), (Ints{2, 3, 4}));
  EXPECT_EQ(g.value(g.nodes[2].outputs[0]).name, "y");
  // axis 2 is the last one: no coercion needed.
  EXPECT_EQ(g.nodes[3].op, OpKind::LogSoftmax);
  EXPECT_EQ(g.nodes[3].attrs.i("axis"), 2);
}

TEST(ImportSoftmax, Opset13UsesOneAxis) {
  ModelBuilder b(13);
  b.input("x", {2, 3, 4});
  b.node("Softmax", {"x"}, {"y"}).i("axis", -2);
  b.node("LogSoftmax", {"x"}, {"z"});
  b.output("y");
  b.output("z");
  auto m = b.import();
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(only(m->graph, OpKind::Softmax).attrs.i("axis"), 1);
  EXPECT_EQ(only(m->graph, OpKind::LogSoftmax).attrs.i("axis"), 2);
  EXPECT_EQ(m->graph.nodes.size(), 2u);
}

TEST(ImportBatchNorm, InferenceWithUnusedTrainingOutputs) {
  ModelBuilder b(9);
  b.input("x", {2, 3, 4, 4});
  for (const char *p : {"scale", "bias", "mean", "var"})
    b.initializer(p, {3}, {1, 2, 3});
  b.node("BatchNormalization", {"x", "scale", "bias", "mean", "var"},
         {"y", "running_mean", "running_var", "saved_mean", "saved_var"})
      .f("epsilon", 1e-3f)
      .f("momentum", 0.8f);
  b.output("y", {2, 3, 4, 4});
  auto m = b.import();
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(only(m->graph, OpKind::BatchNormalization).attrs.f("epsilon"), 1e-3f);
  EXPECT_EQ(m->weights.size(), 4u);
}

TEST(ImportBatchNorm, TrainingModeAndUsedTrainingOutputsAreRefused) {
  ModelBuilder b(15, 8);
  b.input("x", {2, 3});
  for (const char *p : {"scale", "bias", "mean", "var"})
    b.initializer(p, {3}, {1, 2, 3});
  b.node("BatchNormalization", {"x", "scale", "bias", "mean", "var"}, {"y"}, "bn")
      .i("training_mode", 1);
  b.output("y");
  EXPECT_TRUE(fails_with(b.import(), ExitCode::InvalidModel,
                         {"node 'bn' (BatchNormalization)", "training_mode=1"}));

  ModelBuilder c(9);
  c.input("x", {2, 3});
  for (const char *p : {"scale", "bias", "mean", "var"})
    c.initializer(p, {3}, {1, 2, 3});
  c.node("BatchNormalization", {"x", "scale", "bias", "mean", "var"}, {"y", "rm", "rv", "sm", "sv"},
         "bn");
  c.output("y");
  c.output("rm");
  EXPECT_TRUE(fails_with(c.import(), ExitCode::InvalidModel,
                         {"node 'bn' (BatchNormalization)", "'rm'", "inference outputs"}));
}

TEST(ImportElementwise, ReluSigmoidTanhIdentity) {
  ModelBuilder b(14);
  b.input("x", {3});
  b.node("Relu", {"x"}, {"a"});
  b.node("Sigmoid", {"a"}, {"b"});
  b.node("Tanh", {"b"}, {"c"});
  b.node("Identity", {"c"}, {"d"});
  b.output("d", {3});
  auto m = b.import();
  ASSERT_TRUE(m.ok()) << m.error().message;
  std::vector<OpKind> ops;
  for (const Node &n : m->graph.nodes)
    ops.push_back(n.op);
  EXPECT_EQ(ops,
            (std::vector<OpKind>{OpKind::Relu, OpKind::Sigmoid, OpKind::Tanh, OpKind::Identity}));
}

TEST(ImportConstant, AllNumericFormsBecomeConstantsOrOperands) {
  ModelBuilder b(13);
  b.input("x", {2, 3});
  b.node("Constant", {}, {"t"}).t("value", float_tensor("", {3}, {1, 2, 3}));
  b.node("Constant", {}, {"f"}).f("value_float", 4.0f);
  b.node("Constant", {}, {"fs"}).floats("value_floats", {5, 6, 7});
  b.node("Constant", {}, {"i"}).i("value_int", 0);
  b.node("Constant", {}, {"is"}).ints("value_ints", {3, 2});
  b.node("Constant", {}, {"unused"}).f("value_float", 9.0f);
  b.node("Add", {"x", "t"}, {"a"});
  b.node("Mul", {"a", "f"}, {"m"});
  b.node("Sub", {"m", "fs"}, {"s"});
  b.node("Reshape", {"s", "is"}, {"r"});
  b.node("Unsqueeze", {"r", "i"}, {"u"});
  b.output("u", {1, 3, 2});
  auto m = b.import();
  ASSERT_TRUE(m.ok()) << m.error().message;
  const Graph &g = m->graph;
  auto data = [&](const char *name) { return g.constants.at(*g.find_value(name)); };
  EXPECT_EQ(g.value(*g.find_value("t")).kind, ValueKind::Constant);
  EXPECT_EQ(data("t"), (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(data("f"), (std::vector<float>{4}));
  EXPECT_EQ(type_of(g, "f").shape, Shape{});
  EXPECT_EQ(data("fs"), (std::vector<float>{5, 6, 7}));
  EXPECT_FALSE(g.find_value("is").has_value()) << "int constants feeding operands are folded";
  EXPECT_FALSE(g.find_value("unused").has_value());
  EXPECT_EQ(only(g, OpKind::Unsqueeze).attrs.ints("axes"), (Ints{0}));
}

TEST(ImportConstant, IntegerConstantAsDataIsRefused) {
  ModelBuilder b(13);
  b.input("x", {2});
  b.node("Constant", {}, {"k"}).ints("value_ints", {1, 2});
  b.node("Add", {"x", "k"}, {"y"}, "add");
  b.output("y");
  EXPECT_TRUE(fails_with(b.import(), ExitCode::InvalidModel,
                         {"test.onnx: node 'add' (Add)", "'k'", "INT64", "only FLOAT"}));
}

TEST(ImportClip, AttributesBeforeOpset11DefaultToInfinity) {
  ModelBuilder b(10);
  b.input("x", {4});
  b.node("Clip", {"x"}, {"a"}).f("min", -1.0f);
  b.node("Clip", {"a"}, {"y"}).f("max", 2.0f);
  b.output("y");
  auto m = b.import();
  ASSERT_TRUE(m.ok()) << m.error().message;
  auto c = nodes_of(m->graph, OpKind::Clip);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0]->attrs.f("min"), -1.0f);
  EXPECT_EQ(c[0]->attrs.f("max"), std::numeric_limits<float>::infinity());
  EXPECT_EQ(c[1]->attrs.f("min"), -std::numeric_limits<float>::infinity());
  EXPECT_EQ(c[1]->attrs.f("max"), 2.0f);
}

TEST(ImportClip, OptionalInputsFromOpset11) {
  ModelBuilder b(13);
  b.input("x", {4});
  b.initializer("lo", {}, {0.0f});
  b.initializer("hi", {}, {6.0f});
  b.node("Clip", {"x", "lo", "hi"}, {"a"});
  b.node("Clip", {"a", "", "hi"}, {"y"});
  b.output("y");
  auto m = b.import();
  ASSERT_TRUE(m.ok()) << m.error().message;
  auto c = nodes_of(m->graph, OpKind::Clip);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0]->attrs.f("min"), 0.0f);
  EXPECT_EQ(c[0]->attrs.f("max"), 6.0f);
  EXPECT_EQ(c[1]->attrs.f("min"), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(m->weights.empty());
}

TEST(ImportPad, AttributesBeforeOpset11) {
  ModelBuilder b(10);
  b.input("x", {1, 2, 3, 3});
  b.node("Pad", {"x"}, {"y"}).ints("pads", {0, 0, 1, 2, 0, 0, 1, 0}).f("value", 1.5f);
  b.output("y", {1, 2, 5, 5});
  auto m = b.import();
  ASSERT_TRUE(m.ok()) << m.error().message;
  const Node &pad = only(m->graph, OpKind::Pad);
  EXPECT_EQ(pad.attrs.ints("pads"), (Ints{0, 0, 1, 2, 0, 0, 1, 0}));
  EXPECT_EQ(pad.attrs.s("mode"), "constant");
  EXPECT_EQ(pad.attrs.f("value"), 1.5f);
}

TEST(ImportPad, InputsFromOpset11AndAxesFromOpset18) {
  ModelBuilder b(18, 8);
  b.input("x", {2, 4, 4});
  b.int_initializer("pads", {4}, {1, 2, 0, 3});
  b.int_initializer("axes", {2}, {-1, 1});
  b.node("Pad", {"x", "pads", "", "axes"}, {"y"}).s("mode", "reflect");
  b.int_initializer("all", {6}, {0, 1, 1, 0, -1, 0});
  b.initializer("v", {}, {7.0f});
  b.node("Pad", {"x", "all", "v"}, {"z"}).s("mode", "constant");
  b.output("y", {2, 9, 5});
  b.output("z", {2, 4, 5});
  auto m = b.import();
  ASSERT_TRUE(m.ok()) << m.error().message;
  auto p = nodes_of(m->graph, OpKind::Pad);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0]->attrs.ints("pads"), (Ints{0, 2, 1, 0, 3, 0}));
  EXPECT_EQ(p[0]->attrs.s("mode"), "reflect");
  EXPECT_EQ(p[1]->attrs.ints("pads"), (Ints{0, 1, 1, 0, -1, 0}));
  EXPECT_EQ(p[1]->attrs.f("value"), 7.0f);
}

TEST(ImportPad, WrapModeIsUnsupported) {
  ModelBuilder b(19, 9);
  b.input("x", {2, 4});
  b.int_initializer("pads", {4}, {0, 1, 0, 1});
  b.node("Pad", {"x", "pads"}, {"y"}, "pad").s("mode", "wrap");
  b.output("y");
  EXPECT_TRUE(fails_with(b.import(), ExitCode::InvalidModel,
                         {"test.onnx: node 'pad' (Pad)", "mode 'wrap' is not supported"}));
}

TEST(ImportSqueeze, AxesAttributeInputAndDefault) {
  ModelBuilder b(11);
  b.input("x", {1, 3, 1, 2});
  b.node("Squeeze", {"x"}, {"a"}).ints("axes", {-2});
  b.node("Squeeze", {"x"}, {"b"});
  b.node("Unsqueeze", {"b"}, {"c"}).ints("axes", {-1, 0});
  b.output("a", {1, 3, 2});
  b.output("b", {3, 2});
  b.output("c", {1, 3, 2, 1});
  auto m = b.import();
  ASSERT_TRUE(m.ok()) << m.error().message;
  auto sq = nodes_of(m->graph, OpKind::Squeeze);
  ASSERT_EQ(sq.size(), 2u);
  EXPECT_EQ(sq[0]->attrs.ints("axes"), (Ints{2}));
  EXPECT_EQ(sq[1]->attrs.ints("axes"), (Ints{0, 2}));
  EXPECT_EQ(only(m->graph, OpKind::Unsqueeze).attrs.ints("axes"), (Ints{0, 3}));

  ModelBuilder c(13);
  c.input("x", {1, 3, 1});
  c.int_initializer("axes", {1}, {0});
  c.int_initializer("uaxes", {2}, {1, -1});
  c.node("Squeeze", {"x", "axes"}, {"a"});
  c.node("Unsqueeze", {"a", "uaxes"}, {"b"});
  c.output("b", {3, 1, 1, 1});
  auto n = c.import();
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(only(n->graph, OpKind::Squeeze).attrs.ints("axes"), (Ints{0}));
  EXPECT_EQ(only(n->graph, OpKind::Unsqueeze).attrs.ints("axes"), (Ints{1, 3}));
}

} // namespace
} // namespace anet::test
