// Every pass, IR text in and checked IR text out (after XLA's and MLIR's
// pass tests), and the same function before and after: each case's program
// and its transformed version run on the reference device with the same
// random inputs and weights and must agree.

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "ir/parser.h"
#include "ir/printer.h"
#include "passes/passes.h"
#include "runtime/device.h"
#include "runtime/executor.h"

namespace anet {
namespace {

struct PassCase {
  const char *pass;
  int devices;
  const char *what;
  const char *input;
  const char *expected;
};

std::unique_ptr<Pass> make_pass(const std::string &name) {
  Pipeline all = inference_pipeline();
  for (PipelineStep &step : all)
    if (step.pass->name() == name)
      return std::move(step.pass);
  return nullptr;
}

// Runs `g` with inputs and weights drawn from `seed`; weights are looked up
// by the stored name, so a partitioned graph reads the same numbers.
std::vector<Tensor> run_random(const Graph &g, const Graph &original, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-1.f, 1.f);
  WeightStore weights;
  for (ValueId id : original.params()) {
    std::vector<float> data(static_cast<size_t>(original.type(id).numel()));
    for (float &x : data)
      x = uniform(rng);
    weights[original.value(id).name] = std::move(data);
  }
  std::vector<Tensor> inputs;
  for (ValueId id : original.inputs) {
    Tensor t(original.type(id));
    for (float &x : t.data)
      x = uniform(rng);
    inputs.push_back(std::move(t));
  }
  auto device = make_reference_device();
  auto ex = Executor::create(g, weights, *device);
  EXPECT_TRUE(ex.ok()) << ex.error().message;
  if (!ex.ok())
    return {};
  auto out = ex->run(inputs);
  EXPECT_TRUE(out.ok()) << out.error().message;
  return out.ok() ? std::move(*out) : std::vector<Tensor>{};
}

class PassText : public ::testing::TestWithParam<PassCase> {};

TEST_P(PassText, RewritesAsWrittenAndKeepsTheFunction) {
  const PassCase &c = GetParam();
  SCOPED_TRACE(std::string(c.pass) + ": " + c.what);
  auto parsed = parse_graph(c.input);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  Graph original = *parsed;
  Graph g = std::move(*parsed);
  std::unique_ptr<Pass> pass = make_pass(c.pass);
  ASSERT_NE(pass, nullptr);
  PassContext ctx;
  ctx.devices = c.devices;
  auto changed = run_pass(g, *pass, ctx);
  ASSERT_TRUE(changed.ok()) << changed.error().message;
  EXPECT_TRUE(*changed);
  EXPECT_EQ(print_graph(g), c.expected);

  // A graph whose nodes read other devices' values without transfers cannot
  // run concurrently: its reference run keeps every node on device 0.
  auto runnable = [](Graph graph) {
    if (!graph.explicit_transfers)
      for (Node &n : graph.nodes)
        n.device = 0;
    return graph;
  };
  std::vector<Tensor> before = run_random(runnable(original), original, 7);
  std::vector<Tensor> after = run_random(runnable(g), original, 7);
  ASSERT_EQ(before.size(), after.size());
  for (size_t i = 0; i < before.size(); ++i) {
    ASSERT_EQ(before[i].type, after[i].type);
    for (size_t k = 0; k < before[i].data.size(); ++k)
      EXPECT_NEAR(before[i].data[k], after[i].data[k], 1e-6f * (1 + std::fabs(before[i].data[k])));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Passes, PassText,
    ::testing::Values(PassCase{"dead-code", 1, "removes what nothing reads",
                               R"(graph dead {
  input %x: f32[2,4]
  %a: f32[2,4] = Relu(%x)
  %unused: f32[2,4] = Sigmoid(%a)
  %y: f32[2,4] = Tanh(%a)
  output %y
}
)",
                               R"(graph dead {
  input %x: f32[2,4]
  %a: f32[2,4] = Relu(%x)
  %y: f32[2,4] = Tanh(%a)
  output %y
}
)"},
                      PassCase{"canonicalise", 1, "one form for each idea",
                               R"(graph canon {
  input %x: f32[2,3,2,2]
  param %w: f32[12,5]
  param %b: f32[5]
  param %c: f32[2,5]
  param %w2: f32[5,5]
  %id: f32[2,3,2,2] = Identity(%x)
  %flat: f32[2,12] = Flatten(%id) {axis=1}
  %drop: f32[2,12] = Dropout(%flat) {ratio=0.5}
  %mm: f32[2,5] = MatMul(%drop, %w)
  %fc: f32[2,5] = Add(%mm, %b)
  %g: f32[2,5] = Gemm(%fc, %w2, %c) {alpha=1.0, beta=0.0, transA=0, transB=1}
  %r1: f32[10] = Reshape(%g) {shape=[10]}
  %r2: f32[5,2] = Reshape(%r1) {shape=[5,2]}
  const %k: f32[2] = [1.0, -2.0]
  %k2: f32[2] = Relu(%k)
  %k3: f32[1,2] = Unsqueeze(%k2) {axes=[0]}
  %scaled: f32[5,2] = Mul(%r2, %k3)
  output %scaled
}
)",
                               R"(graph canon {
  input %x: f32[2,3,2,2]
  param %w: f32[12,5]
  param %b: f32[5]
  param %w2: f32[5,5]
  %flat: f32[2,12] = Reshape(%x) {shape=[2,12]}
  %fc: f32[2,5] = Gemm(%flat, %w, %b) {alpha=1.0, beta=1.0, transA=0, transB=0} name="mm"
  %g: f32[2,5] = Gemm(%fc, %w2) {alpha=1.0, beta=0.0, transA=0, transB=1}
  %r1: f32[10] = Reshape(%g) {shape=[10]}
  %r2: f32[5,2] = Reshape(%g) {shape=[5,2]}
  const %k3: f32[1,2] = [1.0, 0.0]
  %scaled: f32[5,2] = Mul(%r2, %k3)
  output %scaled
}
)"},
                      PassCase{"fuse", 1, "activations into epilogues, only where alone",
                               R"(graph fuse {
  input %x: f32[1,2,5,5]
  param %w: f32[4,2,3,3]
  param %b: f32[4]
  param %fw: f32[3,36]
  %conv: f32[1,4,3,3] = Conv(%x, %w, %b) {dilations=[1,1], group=1, kernel_shape=[3,3], pads=[0,0,0,0], strides=[1,1]}
  %relu: f32[1,4,3,3] = Relu(%conv)
  %flat: f32[1,36] = Reshape(%relu) {shape=[1,36]}
  %fc: f32[1,3] = Gemm(%flat, %fw) {alpha=1.0, beta=1.0, transA=0, transB=1}
  %clip: f32[1,3] = Clip(%fc) {max=6.0, min=0.0}
  %side: f32[1,3] = Sigmoid(%fc)
  %y: f32[1,3] = Add(%clip, %side)
  output %y
}
)",
                               R"(graph fuse {
  input %x: f32[1,2,5,5]
  param %w: f32[4,2,3,3]
  param %b: f32[4]
  param %fw: f32[3,36]
  %relu: f32[1,4,3,3] = Conv(%x, %w, %b) {activation="Relu", dilations=[1,1], group=1, kernel_shape=[3,3], pads=[0,0,0,0], strides=[1,1]} name="conv"
  %flat: f32[1,36] = Reshape(%relu) {shape=[1,36]}
  %fc: f32[1,3] = Gemm(%flat, %fw) {alpha=1.0, beta=1.0, transA=0, transB=1}
  %clip: f32[1,3] = Clip(%fc) {max=6.0, min=0.0}
  %side: f32[1,3] = Sigmoid(%fc)
  %y: f32[1,3] = Add(%clip, %side)
  output %y
}
)"},
                      PassCase{"partition", 2, "a layer split by neurons, gathered for the softmax",
                               R"(graph split {
  input %x: f32[2,8]
  param %w: f32[6,8]
  param %b: f32[6]
  %fc: f32[2,6] = Gemm(%x, %w, %b) {activation="Relu", alpha=1.0, beta=1.0, transA=0, transB=1}
  %prob: f32[2,6] = Softmax(%fc) {axis=1}
  output %prob
}
)",
                               R"(graph split {
  input %x: f32[2,8]
  param %w@0: f32[3,8] from "w" [6,8] axis 0 offset 0
  param %b@0: f32[3] from "b" [6] axis 0 offset 0
  %fc@0: f32[2,3] = Gemm(%x, %w@0, %b@0) {activation="Relu", alpha=1.0, beta=1.0, transA=0, transB=1}
  param %w@1: f32[3,8] from "w" [6,8] axis 0 offset 3
  param %b@1: f32[3] from "b" [6] axis 0 offset 3
  %fc@1: f32[2,3] = Gemm(%x, %w@1, %b@1) {activation="Relu", alpha=1.0, beta=1.0, transA=0, transB=1} device=1
  %fc@gather0: f32[2,6] = Concat(%fc@0, %fc@1) {axis=1} name="prob/gather@0"
  %prob: f32[2,6] = Softmax(%fc@gather0) {axis=1}
  output %prob
}
)"},
                      PassCase{"insert-transfers", 1,
                               "a Transfer per crossing, once per value and device",
                               R"(graph cross {
  input %x: f32[2,4]
  %a: f32[2,4] = Relu(%x) device=1
  %b: f32[2,4] = Tanh(%a)
  %c: f32[2,4] = Sigmoid(%a)
  %y: f32[2,4] = Add(%b, %c) device=1
  output %y
}
)",
                               R"(graph cross {
  input %x: f32[2,4]
  value %a: f32[2,4]
  value %b: f32[2,4]
  value %c: f32[2,4]
  value %y@dev1: f32[2,4]
  %x@dev1: f32[2,4] = Transfer(%x) {kind="copy"} name="transfer:x@1" device=1
  %a: f32[2,4] = Relu(%x@dev1) device=1
  %a@dev0: f32[2,4] = Transfer(%a) {kind="copy"} name="transfer:a@0"
  %b: f32[2,4] = Tanh(%a@dev0)
  %c: f32[2,4] = Sigmoid(%a@dev0)
  %b@dev1: f32[2,4] = Transfer(%b) {kind="copy"} name="transfer:b@1" device=1
  %c@dev1: f32[2,4] = Transfer(%c) {kind="copy"} name="transfer:c@1" device=1
  %y@dev1: f32[2,4] = Add(%b@dev1, %c@dev1) name="y" device=1
  %y: f32[2,4] = Transfer(%y@dev1) {kind="copy"} name="transfer:y@0"
  transfers explicit
  output %y
}
)"}),
    [](const auto &info) {
      std::string n = info.param.pass;
      for (char &ch : n)
        if (ch == '-')
          ch = '_';
      return n;
    });

TEST(PassText, ARunTwiceChangesNothing) {
  for (const char *name : {"dead-code", "canonicalise", "fuse", "insert-transfers"}) {
    SCOPED_TRACE(name);
    auto g = parse_graph(R"(graph g {
  input %x: f32[1,4]
  param %w: f32[4,4]
  %a: f32[1,4] = Gemm(%x, %w) {alpha=1.0, beta=1.0, transA=0, transB=1}
  %y: f32[1,4] = Relu(%a)
  output %y
}
)");
    ASSERT_TRUE(g.ok()) << g.error().message;
    std::unique_ptr<Pass> pass = make_pass(name);
    PassContext ctx;
    ASSERT_TRUE(run_pass(*g, *pass, ctx).ok());
    std::string once = print_graph(*g);
    auto again = run_pass(*g, *pass, ctx);
    ASSERT_TRUE(again.ok());
    EXPECT_FALSE(*again);
    EXPECT_EQ(print_graph(*g), once);
  }
}

TEST(PassText, DisabledPassesDoNotRun) {
  auto g = parse_graph(R"(graph g {
  input %x: f32[1,4]
  %a: f32[1,4] = Identity(%x)
  %y: f32[1,4] = Relu(%a)
  output %y
}
)");
  ASSERT_TRUE(g.ok());
  PassContext ctx;
  ctx.disabled = {"canonicalise"};
  std::vector<std::string> ran;
  ctx.after_pass = [&](std::string_view name, const Graph &) { ran.emplace_back(name); };
  ASSERT_TRUE(run_pipeline(*g, inference_pipeline(), ctx).ok());
  EXPECT_NE(print_graph(*g).find("= Identity(%x)"), std::string::npos) << print_graph(*g);
  EXPECT_EQ(ran, (std::vector<std::string>{"dead-code", "fuse", "partition", "insert-transfers"}));
}

} // namespace
} // namespace anet
