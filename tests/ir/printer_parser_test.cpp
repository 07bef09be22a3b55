// The IR text: printing is deterministic and readable, parsing a print
// gives back the same graph (ids, attributes and float bits included), and
// every parse error points at the line and column at fault.

#include <gtest/gtest.h>

#include <charconv>
#include <cstring>
#include <random>

#include "ir/parser.h"
#include "ir/printer.h"
#include "tests/ir/ir_samples.h"

namespace anet {
namespace {

using testing::all_ops_graph;
using testing::attrs;
using testing::expect_same_graph;
using testing::GraphBuilder;
using testing::small_net_graph;

// Prints, parses, and checks the parse equals `g` and prints identically.
void expect_round_trip(const Graph &g) {
  std::string text = print_graph(g);
  auto parsed = parse_graph(text);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message << "\n" << text;
  expect_same_graph(g, *parsed);
  EXPECT_EQ(print_graph(*parsed), text);
}

TEST(IrText, SmallNetPrintsAsDocumented) {
  EXPECT_EQ(print_graph(small_net_graph()),
            R"(graph small {
  input %data: f32[2,3,11,11]
  param %conv1.w: f32[4,3,3,3]
  param %conv1.b: f32[4]
  %conv1: f32[2,4,5,5] = Conv(%data, %conv1.w, %conv1.b) {dilations=[1,1], group=1, kernel_shape=[3,3], pads=[0,0,0,0], strides=[2,2]}
  %relu1: f32[2,4,5,5] = Relu(%conv1)
  %flat: f32[2,100] = Flatten(%relu1) {axis=1}
  param %fc.w: f32[5,100]
  param %fc.b: f32[5]
  %fc: f32[2,5] = Gemm(%flat, %fc.w, %fc.b) {alpha=1.0, beta=1.0, transA=0, transB=1}
  %prob: f32[2,5] = Softmax(%fc) {axis=1}
  output %prob
}
)");
}

TEST(IrText, AllOpsRoundTrip) {
  Graph g = all_ops_graph();
  ASSERT_TRUE(verify(g).ok()) << verify(g).error().message;
  expect_round_trip(g);
}

TEST(IrText, SampleCoversEveryOp) {
  Graph g = all_ops_graph();
  std::vector<bool> seen(kNumOps, false);
  for (const Node &n : g.nodes)
    seen[static_cast<size_t>(n.op)] = true;
  for (int op = 0; op < kNumOps; ++op)
    EXPECT_TRUE(seen[static_cast<size_t>(op)])
        << op_name(static_cast<OpKind>(op)) << " is missing from all_ops_graph()";
}

TEST(IrText, AllOpsTextShowsEachFeature) {
  std::string text = print_graph(all_ops_graph());
  for (const char *expected : {
           "graph \"all ops\" {\n",
           "param %\"conv1/w:0\": f32[6,2,3,3]\n",
           "const %k: f32[6,1,1] = [0.1, -0.0, inf, -inf, 1e-45, 3.4028235e+38]\n",
           "= Conv(%data, %\"conv1/w:0\", %conv.b) {dilations=[1,1], group=2, "
           "kernel_shape=[3,3], pads=[1,1,1,1], strides=[1,1]} device=1\n",
           "= Clip(%tanh) {max=6.0, min=-inf}\n",
           "%\"half a\": f32[1,2], %half.b: f32[1,4] = Split(%cat) {axis=1, empty_floats=floats[], "
           "empty_ints=[], note=\"tab\\there \\\"quoted\\\" back\\\\slash \\x01 line\\nend\", "
           "split=[2,4], \"weird key\"=[0.5,-inf,nan,1e-38]} name=\"split0\"\n",
           "= Pad(%\"half a\") {mode=\"reflect\", pads=[0,1,0,1], value=0.0}\n",
           "param %gemm.w@0: f32[3,6] from \"gemm.w\" [6,6] axis 0 offset 3\n",
           "activation=\"Clip\", activation_max=6.0, activation_min=0.0",
           "%to1: f32[1,4] = Transfer(%pad) {kind=\"copy\"} device=1\n",
           "state \"conv.b.momentum\"\n  update %bn.mean = %bnt.mean\n  update %bn.var = "
           "%bnt.var\n  update %conv.b = %conv.b/new\n  update %conv.b.momentum = "
           "%conv.b.momentum/new\n",
           "output %prob\n  output %to1\n  output %slice\n  output %loss\n}\n",
       })
    EXPECT_NE(text.find(expected), std::string::npos) << expected << "\nnot in\n" << text;
}

TEST(IrText, ValuesOutOfDefinitionOrderKeepTheirIds) {
  // Ids: 0 y (produced by the node), 1 x, 2 dead (never produced), 3 w.
  Graph g;
  g.name = "order";
  ValueId y = g.add_value("y", {DType::F32, {2, 3}}, ValueKind::Activation);
  ValueId x = g.add_value("x", {DType::F32, {2, 3}}, ValueKind::Input);
  g.add_value("dead", {DType::F32, {1}}, ValueKind::Activation);
  ValueId w = g.add_value("w", {DType::F32, {2, 3}}, ValueKind::Param);
  Node n;
  n.op = OpKind::Add;
  n.name = "add";
  n.inputs = {x, w};
  n.outputs = {y};
  g.add_node(n);
  g.outputs = {y};
  ASSERT_TRUE(verify(g).ok());
  std::string text = print_graph(g);
  EXPECT_EQ(text, R"(graph order {
  value %y: f32[2,3]
  input %x: f32[2,3]
  value %dead: f32[1]
  param %w: f32[2,3]
  %y: f32[2,3] = Add(%x, %w) name="add"
  output %y
}
)");
  expect_round_trip(g);
}

TEST(IrText, NodeOutputsOutOfOrderRoundTrip) {
  GraphBuilder b;
  ValueId x = b.input("x", {1, 4});
  auto parts =
      b.node(OpKind::Split, {x},
             attrs({{"axis", int64_t{1}}, {"split", std::vector<int64_t>{1, 3}}}), {"a", "b"});
  // Swap the outputs' ids: the node now defines id 2 before id 1.
  std::swap(b.g.nodes[0].outputs[0], b.g.nodes[0].outputs[1]);
  std::swap(b.g.values[1].type, b.g.values[2].type);
  b.g.outputs = {parts[0], parts[1]};
  ASSERT_TRUE(verify(b.g).ok()) << verify(b.g).error().message;
  expect_round_trip(b.g);
}

TEST(IrText, CallOrderOfInputsRoundTrips) {
  GraphBuilder b;
  ValueId x = b.input("x", {2});
  ValueId y = b.input("y", {2});
  b.g.outputs = {b.node1(OpKind::Sub, {x, y}, {}, "d")};
  b.g.inputs = {y, x};
  std::string text = print_graph(b.g);
  EXPECT_NE(text.find("  inputs %y, %x\n"), std::string::npos) << text;
  expect_round_trip(b.g);
}

TEST(IrText, FloatsRoundTripExactly) {
  std::mt19937 rng(1234);
  for (int i = 0; i < 200000; ++i) {
    uint32_t bits = rng();
    float f;
    std::memcpy(&f, &bits, 4);
    std::string s = format_float(f);
    EXPECT_NE(s.find_first_of(".ein"), std::string::npos) << s;
    float back = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), back);
    ASSERT_EQ(ec, std::errc()) << s;
    ASSERT_EQ(end, s.data() + s.size()) << s;
    ASSERT_TRUE(testing::same_float(f, back)) << s << " from bits " << bits;
  }
  EXPECT_EQ(format_float(1.0f), "1.0");
  EXPECT_EQ(format_float(-0.0f), "-0.0");
  EXPECT_EQ(format_float(0.1f), "0.1");
  EXPECT_EQ(format_float(1e10f), "1e+10");
  EXPECT_EQ(format_float(std::numeric_limits<float>::infinity()), "inf");
  EXPECT_EQ(format_float(-std::numeric_limits<float>::infinity()), "-inf");
  EXPECT_EQ(format_float(-std::numeric_limits<float>::quiet_NaN()), "nan");
}

TEST(IrText, NamesAreQuotedOnlyWhenNeeded) {
  EXPECT_EQ(name_text("conv1.w"), "conv1.w");
  EXPECT_EQ(name_text("a/b-c+d_e"), "a/b-c+d_e");
  EXPECT_EQ(name_text("w:0"), "\"w:0\"");
  EXPECT_EQ(name_text(""), "\"\"");
  EXPECT_EQ(name_text("a b"), "\"a b\"");
  EXPECT_EQ(quote_string("q\"\\\n\r\t\x7f\x1f\xc3\xa9"),
            "\"q\\\"\\\\\\n\\r\\t\\x7f\\x1f\xc3\xa9\"");
}

TEST(IrText, HandWrittenTextWithInferredTypesAndComments) {
  auto g = parse_graph(R"(# a pass test's input
graph t {
  input %x: f32[1,2,4,4]   # NCHW
  %y = Relu(%x)
  %z: f32[1,32] = Flatten(%y) {axis=1} device=3 name="flat"
  const %"odd \"name\"": f32[] = [2]
  %w = Mul(%z, %"odd \"name\"")
  output %w
})");
  ASSERT_TRUE(g.ok()) << g.error().message;
  EXPECT_EQ(g->type(*g->find_value("y")).shape, (Shape{1, 2, 4, 4}));
  EXPECT_EQ(g->type(*g->find_value("w")).shape, (Shape{1, 32}));
  EXPECT_EQ(g->nodes[1].name, "flat");
  EXPECT_EQ(g->nodes[1].device, 3);
  EXPECT_EQ(g->nodes[2].name, "w");
  EXPECT_EQ(g->constants.at(*g->find_value("odd \"name\"")), std::vector<float>{2.0f});
}

TEST(IrText, ParsedListsKeepTheirType) {
  auto g = parse_graph(R"(graph t {
  input %x: f32[2]
  %y = Identity(%x) {a=[1,2], c=floats[1,2], d=[], e=floats[], f=1, g=1.0, h=-inf, i="s"}
  output %y
})");
  ASSERT_TRUE(g.ok()) << g.error().message;
  const Attrs &a = g->nodes[0].attrs;
  EXPECT_NE(a.get_if<std::vector<int64_t>>("a"), nullptr);
  EXPECT_EQ(a.floats("c"), (std::vector<float>{1.0f, 2.0f}));
  EXPECT_TRUE(a.ints("d").empty());
  EXPECT_TRUE(a.floats("e").empty());
  EXPECT_EQ(a.i("f"), 1);
  EXPECT_EQ(a.f("g"), 1.0f);
  EXPECT_EQ(a.f("h"), -std::numeric_limits<float>::infinity());
  EXPECT_EQ(a.s("i"), "s");
}

struct BadText {
  const char *text;
  int line, column;
  const char *says;
};

class IrTextErrors : public ::testing::TestWithParam<BadText> {};

TEST_P(IrTextErrors, PointAtTheProblem) {
  const BadText &bad = GetParam();
  auto g = parse_graph(bad.text);
  ASSERT_FALSE(g.ok()) << bad.text;
  EXPECT_EQ(g.error().code, ExitCode::InvalidModel);
  std::string where =
      "line " + std::to_string(bad.line) + ", column " + std::to_string(bad.column) + ": ";
  EXPECT_EQ(g.error().message.rfind(where, 0), 0u) << g.error().message;
  EXPECT_NE(g.error().message.find(bad.says), std::string::npos) << g.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    All, IrTextErrors,
    ::testing::Values(
        BadText{"", 1, 1, "expected 'graph'"},
        BadText{"graph g {\n  input %x: f32[2]\n  %y = Foo(%x)\n  output %y\n}", 3, 8,
                "unknown op 'Foo'"},
        BadText{"graph g {\n  input %x: f32[2]\n  %y = Relu(%q)\n  output %y\n}", 3, 13,
                "unknown value '%q'"},
        BadText{"graph g {\n  input %x: f32[2]\n  param %x: f32[2]\n  output %x\n}", 3, 9,
                "'%x' is already defined at line 2"},
        BadText{"graph g {\n  input %x: f32[2]\n  %y: f32[3] = Relu(%x)\n  output %y\n}", 3, 3,
                "'%y' is declared f32[3] but Relu computes f32[2]"},
        BadText{"graph g {\n  input %x: f32[1,3,8,8]\n  param %w: f32[4,2,3,3]\n"
                "  %y = Conv(%x, %w) {dilations=[1,1], group=1, kernel_shape=[3,3], "
                "pads=[0,0,0,0], strides=[1,1]}\n  output %y\n}",
                4, 8, "node 'y' (Conv): input has 3 channels"},
        BadText{"graph g {\n  input %x: f32[2]\n  %y = Add(%x, %z)\n  %z = Relu(%x)\n"
                "  output %y\n}",
                3, 16, "'%z' is used before the node that defines it (line 4)"},
        BadText{"graph g {\n  input %x: f32[2]\n  %y = Identity(%x) {a=[1, 2.5]}\n  output %y\n}",
                3, 24, "list mixes integers and floats"},
        BadText{"graph g {\n  input %x: f32[2]\n  %y = Identity(%x) {a=\"abc}\n  output %y\n}", 3,
                24, "unterminated string"},
        BadText{"graph g {\n  input %x: f32[2]\n  %y = Identity(%x) {a=\"a\\qb\"}\n}", 3, 26,
                "unknown escape"},
        BadText{"graph g {\n  input %x: f32[2] $\n}", 2, 20, "unexpected character \"$\""},
        BadText{"graph g {\n  const %c: f32[3] = [1, 2]\n  output %c\n}", 2, 22,
                "has 2 values, its type f32[3] needs 3"},
        BadText{"graph g {\n  input %x: f32[2]\n}", 3, 1, "has no outputs"},
        BadText{"graph g {\n  input %x: f32[2]\n  output %x\n} extra", 4, 3,
                "unexpected 'extra' after the graph's '}'"},
        BadText{"graph g {\n  input %x: f32[2,-1]\n  output %x\n}", 2, 13,
                "shape [2,-1] is negative or too large"},
        BadText{"graph g {\n  input %x: f32[99999999999999999999]\n  output %x\n}", 2, 17,
                "expected a dimension (an integer)"},
        BadText{"graph g {\n  input %x: f32[2]\n  %y = Clip(%x) {min=1e50, max=1.0}\n"
                "  output %y\n}",
                3, 22, "expected an attribute value"},
        BadText{"graph g {\n  input %x: f32[2] = [1, 2]\n  output %x\n}", 2, 20,
                "only a const has data"},
        BadText{"graph g {\n  input %x: f32[2]\n  %y = Identity(%x) {a=1, a=2}\n  output %y\n}", 3,
                27, "attribute 'a' is given twice"},
        BadText{"graph g {\n  param %w: f32[2]\n  inputs %w\n  output %w\n}", 3, 10,
                "'%w' in 'inputs' is a param, not an input"},
        BadText{"graph g {\n  value %v: f32[2]\n  output %v\n}", 3, 10,
                "output '%v' is never defined by a node"},
        BadText{"graph g {\n  value %v: f32[2]\n  %y = Relu(%v)\n  output %y\n}", 3, 13,
                "'%v' is never defined by a node"},
        BadText{"graph g {\n  input %x: f32[2]\n  %y = Relu(%x) device=99999999999\n"
                "  output %y\n}",
                3, 24, "device id 99999999999 is out of range"},
        BadText{"graph g {\n  input %x: f32[2]\n  %y = Relu(%x, %x)\n  output %y\n}", 3, 8,
                "has 2 inputs, expected 1"},
        BadText{"graph g {\n  input %x: f32[2]\n  %y = Relu(%x)\n  %y = Relu(%x)\n"
                "  output %y\n}",
                4, 3, "'%y' is already defined at line 3"},
        BadText{"graph g {\n  foo %x: f32[2]\n}", 2, 3, "expected input, param, const"},
        BadText{"graph g {\n  input %x: i64[2]\n}", 2, 13, "expected a tensor type"},
        BadText{"graph g {\n  input % x: f32[2]\n}", 2, 9, "'%' must be followed by a name"},
        BadText{"graph g {\n  state 5\n}", 2, 9, "expected a quoted weight name after 'state'"},
        BadText{"graph g {\n  param %w: f32[2]\n  update %w %w\n}", 3, 13, "expected '='"},
        BadText{"graph g {\n  input %x: f32[2]\n  %y = Relu(%x)\n  update %x = %y\n"
                "  output %y\n}",
                1, 1, "update of 'x': it is a input, not a param"},
        BadText{"graph g {\n  param %w: f32[2]\n  param %v: f32[2]\n  update %w = %v\n"
                "  output %w\n}",
                1, 1, "update of 'w': 'v' is not a node output"},
        BadText{"graph g {\n  param %w: f32[2]\n  %y = Relu(%w)\n  update %w = %y\n"
                "  update %w = %y\n  output %y\n}",
                1, 1, "param 'w' is updated twice"},
        BadText{"graph g {\n  param %w: f32[2]\n  %y = Reshape(%w) {shape=[1,2]}\n"
                "  update %w = %y\n  output %y\n}",
                1, 1, "the types differ"},
        BadText{"graph g {\n  param %w: f32[2]\n  %y = Relu(%w)\n  %z = Sigmoid(%w)\n"
                "  update %w = %y\n  output %z\n}",
                1, 1, "param 'w' is read by node 'z' after node 'y' computes its update"},
        BadText{"graph g {\n  param %w: f32[2]\n  %z = Sigmoid(%w) device=1\n"
                "  %y = Relu(%w)\n  update %w = %y\n  output %z\n}",
                1, 1, "param 'w' is updated on device 0 but also read on device 1"}));

TEST(IrText, UnverifiableGraphStillPrints) {
  GraphBuilder b;
  ValueId x = b.input("x", {2});
  b.g.outputs = {b.node1(OpKind::Relu, {x}, {}, "y")};
  b.g.nodes[0].inputs.push_back(x); // Relu with two inputs
  std::string text = print_graph(b.g);
  EXPECT_NE(text.find("%y: f32[2] = Relu(%x, %x)"), std::string::npos) << text;
  EXPECT_FALSE(parse_graph(text).ok());
}

} // namespace
} // namespace anet
