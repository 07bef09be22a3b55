// The autodiff pass (passes/autodiff.cpp):
//  - every gradient rule against finite differences of an independent
//    double-precision oracle (tests/passes/double_reference.h): each case is
//    one op with several attribute variants, its differentiable inputs
//    params, followed by a scalar loss; the backward graph runs in float on
//    the executor and every element of every param's gradient is compared;
//  - the structure of the backward graph (shared params, params without a
//    gradient) and every error build_backward and the pass report;
//  - the training pipeline on a small classifier: what it builds, and that
//    its 2-device model-parallel program trains like the 1-device one.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "ir/ops.h"
#include "ir/parser.h"
#include "passes/passes.h"
#include "runtime/device.h"
#include "runtime/executor.h"
#include "tests/passes/double_reference.h"

namespace anet {
namespace {

using testing::DoubleValues;
using testing::evaluate_double;

// --- Helpers ----------------------------------------------------------------

Graph parse(const char *text) {
  auto g = parse_graph(text);
  EXPECT_TRUE(g.ok()) << g.error().message;
  return g.ok() ? std::move(*g) : Graph{};
}

// Appends a node with one output named `name`, typed by the op's shape rule.
Expected<ValueId> append(Graph &g, OpKind op, const std::string &name, std::vector<ValueId> inputs,
                         Attrs attrs = {}) {
  Node n;
  n.op = op;
  n.name = name;
  n.inputs = std::move(inputs);
  n.attrs = std::move(attrs);
  n.outputs = {-1};
  std::vector<TensorType> types;
  for (ValueId v : n.inputs)
    types.push_back(g.type(v));
  ANET_ASSIGN_OR_RETURN(std::vector<TensorType> out, infer_shapes(n, types));
  n.outputs[0] = g.add_value(name, out[0], ValueKind::Activation);
  g.add_node(std::move(n));
  return g.nodes.back().outputs[0];
}

// loss = sum_i y_i c_i with fixed random c_i in [-1, 1]: a scalar whose
// gradient with respect to y is the dense, random c, so every element of y
// and every path into it is checked. Built from ops that have gradient rules
// (Reshape, MatMul by a constant column), as the graph output "loss".
Expected<ValueId> add_weighted_sum_loss(Graph &g, ValueId y, std::mt19937 &rng) {
  int64_t n = g.type(y).numel();
  std::uniform_real_distribution<float> uniform(-1.f, 1.f);
  ValueId c = g.add_value("loss/weights", TensorType{DType::F32, {n, 1}}, ValueKind::Constant);
  std::vector<float> &data = g.constants[c];
  data.resize(static_cast<size_t>(n));
  for (float &x : data)
    x = uniform(rng);
  Attrs flat, scalar;
  flat.set("shape", Shape{1, n});
  scalar.set("shape", Shape{});
  ANET_ASSIGN_OR_RETURN(ValueId row, append(g, OpKind::Reshape, "loss/flat", {y}, flat));
  ANET_ASSIGN_OR_RETURN(ValueId dot, append(g, OpKind::MatMul, "loss/dot", {row, c}));
  ANET_ASSIGN_OR_RETURN(ValueId loss, append(g, OpKind::Reshape, kLossName, {dot}, scalar));
  g.outputs = {loss};
  return loss;
}

Expected<std::vector<Tensor>> run_program(const Graph &g, const WeightStore &weights,
                                          const std::vector<Tensor> &inputs) {
  auto device = make_reference_device();
  ANET_ASSIGN_OR_RETURN(Executor ex, Executor::create(g, weights, *device));
  return ex.run(inputs);
}

// --- Finite-difference checks of every gradient rule -----------------------

// How a case's param is drawn (every other param: uniform in [-1, 1]).
enum class Init {
  Positive, // uniform in [0.5, 1.5]: denominators, variances
  Distinct, // a shuffled grid over [-1, 1]: MaxPool windows without near-ties
};

struct ParamInit {
  const char *param;
  Init init;
};

struct GradCase {
  const char *name;
  // The graph: its differentiable inputs are params; its one output is
  // followed by add_weighted_sum_loss, unless the graph computes "loss"
  // itself. Inputs named "labels" get class indices, "step" a step number.
  const char *ir;
  std::vector<ParamInit> inits = {};
  uint32_t seed = 1;
};

void PrintTo(const GradCase &c, std::ostream *os) { *os << c.name; }

// The finite-difference step, relative to the param's size: in double the
// central difference's truncation error is O(h^2 f''') ~ 1e-8 and its
// round-off O(1e-16 |f| / h) ~ 1e-11, both far below kTolerance * kMinScale.
constexpr double kStep = 1e-4;
// A param's gradient passes when max |analytic - numeric| <= kTolerance *
// max |numeric| over its elements. The analytic gradient is computed in
// float32 (epsilon 6e-8) through at most ten ops whose sums have at most a
// few hundred terms (the reference kernels accumulate long sums in double),
// so its rounding error stays below ~1e-5 of the gradient's largest element
// even if every rounding went the same way (observed: at most 3e-7). A wrong
// rule (a missing term, a wrong index, sign or factor) errs by a sizeable
// fraction of some element, far above this bound. This is tighter than
// 1e-3 * max(1, max |numeric|): the bound scales with the gradient, so small
// gradients (a mean over a batch, a pooled plane) are checked as closely.
constexpr double kTolerance = 1e-4;
// Every param with a gradient must have one this large somewhere: far
// above the double finite difference's own error, so the relative bound
// above measures the rule and not the oracle.
constexpr double kMinScale = 0.05;
// The forward loss in float against the oracle's (float rounding only).
constexpr double kForwardTolerance = 1e-4;
// No Relu or Clip input within this distance of its kink, no MaxPool window
// with a runner-up this close to its maximum: 20 steps, so a perturbation
// of one param (which moves each such value by at most a few steps) never
// crosses a kink.
constexpr double kKinkMargin = 20 * kStep;

std::vector<float> draw(const TensorType &t, std::optional<Init> init, std::mt19937 &rng) {
  auto n = static_cast<size_t>(t.numel());
  std::vector<float> data(n);
  if (init == Init::Distinct) {
    for (size_t i = 0; i < n; ++i)
      data[i] = -1.f + 2.f * (static_cast<float>(i) + 0.5f) / static_cast<float>(n);
    std::shuffle(data.begin(), data.end(), rng);
    return data;
  }
  float lo = init == Init::Positive ? 0.5f : -1.f, hi = init == Init::Positive ? 1.5f : 1.f;
  std::uniform_real_distribution<float> uniform(lo, hi);
  for (float &x : data)
    x = uniform(rng);
  return data;
}

// The number of classes of the SoftmaxCrossEntropy that reads `labels`.
int64_t classes_of(const Graph &g, ValueId labels) {
  for (const Node &n : g.nodes)
    if (n.op == OpKind::SoftmaxCrossEntropy && n.inputs[1] == labels)
      return g.type(n.inputs[0]).shape[1];
  return 0;
}

class GradientCheck : public ::testing::TestWithParam<GradCase> {};

TEST_P(GradientCheck, MatchesFiniteDifferencesOfTheDoubleOracle) {
  const GradCase &c = GetParam();
  auto parsed = parse_graph(c.ir);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  Graph g = std::move(*parsed);
  std::mt19937 rng(c.seed);
  if (!g.find_value(kLossName)) {
    ASSERT_EQ(g.outputs.size(), 1u);
    auto loss = add_weighted_sum_loss(g, g.outputs[0], rng);
    ASSERT_TRUE(loss.ok()) << loss.error().message;
  }
  ValueId loss = *g.find_value(kLossName);
  ASSERT_EQ(g.outputs, std::vector<ValueId>{loss});
  const Graph forward = g;

  // Params and inputs, the same numbers in float and in double.
  WeightStore weights;
  DoubleValues given;
  for (ValueId p : g.params()) {
    std::optional<Init> init;
    for (const ParamInit &pi : c.inits)
      if (g.value(p).name == pi.param)
        init = pi.init;
    std::vector<float> data = draw(g.type(p), init, rng);
    given[p].assign(data.begin(), data.end());
    weights[g.value(p).name] = std::move(data);
  }
  std::vector<Tensor> inputs;
  for (ValueId v : g.inputs) {
    Tensor t(g.type(v));
    if (g.value(v).name == kLabelsName) {
      int64_t classes = classes_of(g, v);
      ASSERT_GT(classes, 0);
      for (size_t i = 0; i < t.data.size(); ++i)
        t.data[i] = static_cast<float>(static_cast<int64_t>(i) % classes);
    } else {
      ASSERT_EQ(g.value(v).name, kStepName);
      t.data = {3.f};
    }
    given[v].assign(t.data.begin(), t.data.end());
    inputs.push_back(std::move(t));
  }

  // The backward graph, run in float: outputs loss, the dropout masks (the
  // oracle takes them as given) and every gradient.
  auto grads = build_backward(g, loss);
  ASSERT_TRUE(grads.ok()) << grads.error().message;
  Status valid = verify(g);
  ASSERT_TRUE(valid.ok()) << valid.error().message;
  std::vector<ValueId> masks;
  for (const Node &n : g.nodes)
    if (n.op == OpKind::DropoutMask)
      masks.push_back(n.outputs[0]);
  g.outputs.insert(g.outputs.end(), masks.begin(), masks.end());
  std::map<ValueId, size_t> output_of; // param -> the output holding its gradient
  for (auto [param, grad] : *grads) {
    EXPECT_EQ(g.value(grad).name, "grad/" + g.value(param).name);
    output_of[param] = g.outputs.size();
    g.outputs.push_back(grad);
  }
  auto out = run_program(g, weights, inputs);
  ASSERT_TRUE(out.ok()) << out.error().message;
  for (size_t i = 0; i < masks.size(); ++i) {
    const std::vector<float> &m = (*out)[1 + i].data;
    given[masks[i]].assign(m.begin(), m.end());
  }

  // The forward pass agrees with the oracle, away from every kink.
  auto base = evaluate_double(forward, given);
  ASSERT_TRUE(base.ok()) << base.error().message;
  double expected_loss = base->values.at(loss)[0];
  EXPECT_NEAR((*out)[0].data[0], expected_loss,
              kForwardTolerance * std::max(1.0, std::fabs(expected_loss)));
  ASSERT_GT(base->kink_margin, kKinkMargin) << "the inputs lie too near a kink: pick another seed";

  auto loss_at = [&](ValueId p, size_t i, double value) {
    DoubleValues moved = given;
    moved[p][i] = value;
    auto r = evaluate_double(forward, moved);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? r->values.at(loss)[0] : std::nan("");
  };
  for (ValueId p : forward.params()) {
    const std::string &name = forward.value(p).name;
    std::vector<double> numeric(given[p].size());
    for (size_t i = 0; i < numeric.size(); ++i) {
      double x = given[p][i], h = kStep * std::max(1.0, std::fabs(x));
      numeric[i] = (loss_at(p, i, x + h) - loss_at(p, i, x - h)) / (2 * h);
    }
    double scale = 0;
    for (double d : numeric)
      scale = std::max(scale, std::fabs(d));
    if (!output_of.count(p)) {
      // No gradient: the loss must not depend on the param at all.
      EXPECT_EQ(scale, 0.0) << "param '" << name << "' has no gradient but the loss depends on it";
      continue;
    }
    EXPECT_GE(scale, kMinScale) << "param '" << name << "': gradient too small to check";
    const std::vector<float> &analytic = (*out)[output_of.at(p)].data;
    ASSERT_EQ(analytic.size(), numeric.size());
    double worst = 0;
    size_t worst_at = 0;
    for (size_t i = 0; i < numeric.size(); ++i)
      if (std::fabs(analytic[i] - numeric[i]) > worst) {
        worst = std::fabs(analytic[i] - numeric[i]);
        worst_at = i;
      }
    EXPECT_LE(worst, kTolerance * scale)
        << "param '" << name << "' element " << worst_at << ": analytic " << analytic[worst_at]
        << ", numeric " << numeric[worst_at] << " (largest numeric " << scale << ")";
  }
}

// clang-format off
const GradCase kGradCases[] = {
    // Conv: groups, strides, asymmetric pads, dilation, bias.
    {"ConvGroupedStridedPaddedDilated", R"(graph g {
  param %x: f32[2,4,9,9]
  param %w: f32[6,2,3,3]
  param %b: f32[6]
  %y = Conv(%x, %w, %b) {dilations=[2,2], group=2, kernel_shape=[3,3], pads=[1,2,2,1], strides=[2,2]}
  output %y
})"},
    {"ConvFusedRelu", R"(graph g {
  param %x: f32[2,3,6,6]
  param %w: f32[4,3,3,3]
  param %b: f32[4]
  %y = Conv(%x, %w, %b) {activation="Relu", dilations=[1,1], group=1, kernel_shape=[3,3], pads=[1,1,1,1], strides=[1,1]}
  output %y
})", {}, 2},
    {"ConvDepthwiseFusedClipNoBias", R"(graph g {
  param %x: f32[1,4,5,5]
  param %w: f32[4,1,3,3]
  %y = Conv(%x, %w) {activation="Clip", activation_max=0.5, activation_min=-0.5, dilations=[1,1], group=4, kernel_shape=[3,3], pads=[0,1,1,0], strides=[2,1]}
  output %y
})"},
    {"ConvRectangularFusedSigmoid", R"(graph g {
  param %x: f32[2,3,4,4]
  param %w: f32[2,3,1,2]
  param %b: f32[2]
  %y = Conv(%x, %w, %b) {activation="Sigmoid", dilations=[1,1], group=1, kernel_shape=[1,2], pads=[0,0,0,0], strides=[1,1]}
  output %y
})"},
    // Gemm: every transA/transB, alpha and beta != 1, broadcast C.
    {"GemmNN", R"(graph g {
  param %a: f32[3,5]
  param %b: f32[5,4]
  param %c: f32[4]
  %y = Gemm(%a, %b, %c) {alpha=0.7, beta=1.3, transA=0, transB=0}
  output %y
})"},
    {"GemmNT", R"(graph g {
  param %a: f32[3,5]
  param %b: f32[4,5]
  param %c: f32[3,1]
  %y = Gemm(%a, %b, %c) {alpha=0.7, beta=1.3, transA=0, transB=1}
  output %y
})"},
    {"GemmTN", R"(graph g {
  param %a: f32[5,3]
  param %b: f32[5,4]
  param %c: f32[1,4]
  %y = Gemm(%a, %b, %c) {alpha=1.6, beta=0.4, transA=1, transB=0}
  output %y
})"},
    {"GemmTT", R"(graph g {
  param %a: f32[5,3]
  param %b: f32[4,5]
  param %c: f32[]
  %y = Gemm(%a, %b, %c) {alpha=0.7, beta=1.3, transA=1, transB=1}
  output %y
})"},
    {"GemmWithoutC", R"(graph g {
  param %a: f32[4,3]
  param %b: f32[5,4]
  %y = Gemm(%a, %b) {alpha=0.5, beta=1.0, transA=1, transB=1}
  output %y
})"},
    {"GemmFusedRelu", R"(graph g {
  param %a: f32[4,6]
  param %b: f32[5,6]
  param %c: f32[5]
  %y = Gemm(%a, %b, %c) {activation="Relu", alpha=1.0, beta=1.0, transA=0, transB=1}
  output %y
})"},
    // MatMul: batched, with broadcasting on either side.
    {"MatMulBatchedBroadcast", R"(graph g {
  param %a: f32[2,1,3,4]
  param %b: f32[3,4,5]
  %y = MatMul(%a, %b)
  output %y
})"},
    {"MatMulBroadcastLhsFusedTanh", R"(graph g {
  param %a: f32[3,4]
  param %b: f32[2,4,5]
  %y = MatMul(%a, %b) {activation="Tanh"}
  output %y
})"},
    // Activations, Identity, inference Dropout.
    {"Relu", R"(graph g {
  param %x: f32[3,7]
  %y = Relu(%x)
  output %y
})"},
    {"Sigmoid", R"(graph g {
  param %x: f32[3,7]
  %y = Sigmoid(%x)
  output %y
})"},
    {"Tanh", R"(graph g {
  param %x: f32[3,7]
  %y = Tanh(%x)
  output %y
})"},
    {"Clip", R"(graph g {
  param %x: f32[3,7]
  %y = Clip(%x) {max=0.6, min=-0.4}
  output %y
})", {}, 2},
    {"IdentityAndInferenceDropout", R"(graph g {
  param %x: f32[3,7]
  %i = Identity(%x)
  %y = Dropout(%i) {ratio=0.5}
  output %y
})"},
    // Broadcasting binary ops: [N,C,H,W] with [C,1,1], either side.
    {"AddBroadcast", R"(graph g {
  param %a: f32[2,3,4,4]
  param %b: f32[3,1,1]
  %y = Add(%a, %b)
  output %y
})"},
    {"AddOfTwoParamsOfOneShape", R"(graph g {
  param %a: f32[3,4]
  param %b: f32[3,4]
  %y = Add(%a, %b)
  output %y
})"},
    {"AddBothBroadcast", R"(graph g {
  param %a: f32[2,1,4]
  param %b: f32[3,1]
  %y = Add(%a, %b)
  output %y
})"},
    {"SubBroadcastFirst", R"(graph g {
  param %b: f32[3,1,1]
  param %a: f32[2,3,4,4]
  %y = Sub(%b, %a)
  output %y
})"},
    {"MulBroadcast", R"(graph g {
  param %a: f32[2,3,4,4]
  param %b: f32[3,1,1]
  %y = Mul(%a, %b)
  output %y
})"},
    {"DivBroadcast", R"(graph g {
  param %a: f32[2,3,4,4]
  param %b: f32[3,1,1]
  %y = Div(%a, %b)
  output %y
})", {{"b", Init::Positive}}},
    {"DivBroadcastNumerator", R"(graph g {
  param %b: f32[3,1,1]
  param %a: f32[2,3,4,4]
  %y = Div(%b, %a)
  output %y
})", {{"a", Init::Positive}}},
    // Normalisation. BatchNormTrain's running statistics get no gradient.
    {"BatchNormTrain", R"(graph g {
  param %x: f32[3,4,3,3]
  param %scale: f32[4]
  param %bias: f32[4]
  param %mean: f32[4]
  param %var: f32[4]
  %y, %new_mean, %new_var, %saved_mean, %saved_invstd = BatchNormTrain(%x, %scale, %bias, %mean, %var) {epsilon=1e-05, momentum=0.9}
  output %y
})", {{"var", Init::Positive}}},
    {"BatchNormTrainOfAMatrix", R"(graph g {
  param %x: f32[5,3]
  param %scale: f32[3]
  param %bias: f32[3]
  param %mean: f32[3]
  param %var: f32[3]
  %y, %new_mean, %new_var, %saved_mean, %saved_invstd = BatchNormTrain(%x, %scale, %bias, %mean, %var) {epsilon=0.001, momentum=0.5}
  output %y
})", {{"var", Init::Positive}}},
    {"LrnSize3", R"(graph g {
  param %x: f32[2,5,3,3]
  %y = LRN(%x) {alpha=0.9, beta=0.75, bias=1.0, size=3}
  output %y
})"},
    {"LrnSize4", R"(graph g {
  param %x: f32[2,5,3,3]
  %y = LRN(%x) {alpha=1.2, beta=0.6, bias=2.0, size=4}
  output %y
})"},
    // Pooling.
    {"MaxPoolPaddedCeilMode", R"(graph g {
  param %x: f32[2,2,6,6]
  %y = MaxPool(%x) {ceil_mode=1, dilations=[1,1], kernel_shape=[3,3], pads=[1,1,1,1], strides=[2,2]}
  output %y
})", {{"x", Init::Distinct}}},
    {"MaxPoolDilated", R"(graph g {
  param %x: f32[1,3,7,7]
  %y = MaxPool(%x) {ceil_mode=0, dilations=[2,2], kernel_shape=[2,2], pads=[0,1,0,1], strides=[1,2]}
  output %y
})", {{"x", Init::Distinct}}},
    {"AveragePoolExcludePad", R"(graph g {
  param %x: f32[2,2,5,5]
  %y = AveragePool(%x) {ceil_mode=0, count_include_pad=0, dilations=[1,1], kernel_shape=[3,3], pads=[1,1,1,1], strides=[2,2]}
  output %y
})"},
    {"AveragePoolIncludePad", R"(graph g {
  param %x: f32[2,2,5,5]
  %y = AveragePool(%x) {ceil_mode=0, count_include_pad=1, dilations=[1,1], kernel_shape=[3,3], pads=[1,1,1,1], strides=[2,2]}
  output %y
})"},
    {"AveragePoolCeilModeIncludePad", R"(graph g {
  param %x: f32[1,2,6,6]
  %y = AveragePool(%x) {ceil_mode=1, count_include_pad=1, dilations=[1,1], kernel_shape=[3,3], pads=[1,1,1,1], strides=[2,2]}
  output %y
})"},
    {"GlobalAveragePool", R"(graph g {
  param %x: f32[2,3,2,3]
  %y = GlobalAveragePool(%x)
  output %y
})"},
    // Softmax and LogSoftmax on axis 1, of a matrix and of a 3-D tensor.
    {"SoftmaxAxis1", R"(graph g {
  param %x: f32[3,5]
  %y = Softmax(%x) {axis=1}
  output %y
})"},
    {"SoftmaxAxis1Of3D", R"(graph g {
  param %x: f32[2,4,3]
  %y = Softmax(%x) {axis=1}
  output %y
})"},
    {"LogSoftmaxAxis1", R"(graph g {
  param %x: f32[3,5]
  %y = LogSoftmax(%x) {axis=1}
  output %y
})"},
    {"LogSoftmaxAxis1Of3D", R"(graph g {
  param %x: f32[2,4,3]
  %y = LogSoftmax(%x) {axis=1}
  output %y
})"},
    // Layout chains.
    {"ReshapeTransposeFlattenUnsqueezeSqueeze", R"(graph g {
  param %x: f32[2,3,4]
  %r = Reshape(%x) {shape=[6,4]}
  %t = Transpose(%r) {perm=[1,0]}
  %f = Flatten(%t) {axis=1}
  %u = Unsqueeze(%f) {axes=[0,2]}
  %y = Squeeze(%u) {axes=[0]}
  output %y
})"},
    {"Transpose4D", R"(graph g {
  param %x: f32[2,3,4,5]
  %y = Transpose(%x) {perm=[0,2,3,1]}
  output %y
})"},
    {"ConcatSplitWithAnUnusedPart", R"(graph g {
  param %a: f32[2,3,4]
  param %b: f32[2,2,4]
  %c = Concat(%a, %b) {axis=1}
  %s0, %s1, %s2 = Split(%c) {axis=1, split=[1,3,1]}
  %y = Concat(%s2, %s0) {axis=1}
  output %y
})"},
    {"SlicePad", R"(graph g {
  param %x: f32[3,6,5]
  %s = Slice(%x) {ends=[3,6,4], starts=[1,0,1], steps=[1,1,1]}
  %y = Pad(%s) {mode="constant", pads=[0,1,2,1,0,1], value=0.5}
  output %y
})"},
    {"TransferToAnotherDeviceAndBack", R"(graph g {
  param %x: f32[3,4]
  %a = Tanh(%x)
  %t = Transfer(%a) {kind="copy"} device=1
  %b = Sigmoid(%t) device=1
  %y = Transfer(%b) {kind="copy"}
  transfers explicit
  output %y
})"},
    // The loss itself, and dropout's mask (no gradient; a fixed factor).
    {"SoftmaxCrossEntropy", R"(graph g {
  param %logits: f32[4,5]
  input %labels: f32[4]
  %loss = SoftmaxCrossEntropy(%logits, %labels)
  output %loss
})"},
    {"SoftmaxCrossEntropyOfAWideBatch", R"(graph g {
  param %logits: f32[7,3]
  input %labels: f32[7]
  %loss = SoftmaxCrossEntropy(%logits, %labels)
  output %loss
})"},
    {"MulByDropoutMask", R"(graph g {
  param %x: f32[3,8]
  input %step: f32[]
  %m = DropoutMask(%step) {ratio=0.5, seed=7, shape=[3,8]}
  %y = Mul(%x, %m)
  output %y
})"},
    // Rules composed: a small classifier with the cross-entropy loss (pooling
    // before the Relu, so that no window ties between zeros).
    {"Classifier", R"(graph g {
  param %data: f32[2,3,6,6]
  param %conv.w: f32[4,3,3,3]
  param %conv.b: f32[4]
  %conv = Conv(%data, %conv.w, %conv.b) {dilations=[1,1], group=1, kernel_shape=[3,3], pads=[1,1,1,1], strides=[1,1]}
  %pool = MaxPool(%conv) {ceil_mode=0, dilations=[1,1], kernel_shape=[2,2], pads=[0,0,0,0], strides=[2,2]}
  %relu = Relu(%pool)
  %norm = LRN(%relu) {alpha=0.5, beta=0.75, bias=1.0, size=3}
  %flat = Flatten(%norm) {axis=1}
  param %fc.w: f32[5,36]
  param %fc.b: f32[5]
  %logits = Gemm(%flat, %fc.w, %fc.b) {alpha=1.0, beta=1.0, transA=0, transB=1}
  input %labels: f32[2]
  %loss = SoftmaxCrossEntropy(%logits, %labels)
  output %loss
})"},
    // A param read by two nodes: its gradient sums both contributions.
    {"ParamReadTwice", R"(graph g {
  param %p: f32[3,4]
  param %q: f32[3,4]
  %a = Mul(%p, %q)
  %b = Tanh(%p)
  %y = Add(%a, %b)
  output %y
})"},
};
// clang-format on

INSTANTIATE_TEST_SUITE_P(EveryRule, GradientCheck, ::testing::ValuesIn(kGradCases),
                         [](const auto &info) { return std::string(info.param.name); });

// The oracle refuses what it cannot evaluate rather than guessing.
TEST(DoubleReference, SaysWhatItCannotEvaluate) {
  Graph g = parse(R"(graph g {
  param %x: f32[2,3]
  input %step: f32[]
  %m = DropoutMask(%step) {ratio=0.5, seed=1, shape=[2,3]}
  %y = Mul(%x, %m)
  %s = ReduceSum(%y) {axes=[0], keepdims=0}
  output %s
})");
  ValueId x = *g.find_value("x"), step = *g.find_value("step"), m = *g.find_value("m");
  DoubleValues given{{x, std::vector<double>(6, 1.0)}, {step, {0.0}}};
  auto missing = evaluate_double(g, {{x, given[x]}});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "no value given for input 'step'");
  auto unpinned = evaluate_double(g, given);
  ASSERT_FALSE(unpinned.ok());
  EXPECT_NE(unpinned.error().message.find("node 'm' (DropoutMask): its mask is anet's random draw"),
            std::string::npos)
      << unpinned.error().message;
  given[m] = {2, 0, 2, 0, 2, 0};
  auto unknown = evaluate_double(g, given);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("node 's' (ReduceSum): the double oracle does not"),
            std::string::npos)
      << unknown.error().message;
}

// --- The structure of the backward graph ------------------------------------

TEST(Autodiff, SumsTheContributionsOfAParamReadTwice) {
  Graph g = parse(R"(graph g {
  param %p: f32[3,4]
  param %q: f32[3,4]
  %a = Mul(%p, %q)
  %b = Tanh(%p)
  %y = Add(%a, %b)
  output %y
})");
  std::mt19937 rng(1);
  auto loss = add_weighted_sum_loss(g, g.outputs[0], rng);
  ASSERT_TRUE(loss.ok()) << loss.error().message;
  auto grads = build_backward(g, *loss);
  ASSERT_TRUE(grads.ok()) << grads.error().message;
  ValueId p = *g.find_value("p"), q = *g.find_value("q");
  ASSERT_EQ(grads->size(), 2u);
  // p's gradient is the Add of the Mul's contribution and the Tanh's.
  std::vector<NodeId> producer = g.producers();
  const Node &sum = g.nodes[static_cast<size_t>(producer[static_cast<size_t>(grads->at(p))])];
  EXPECT_EQ(sum.op, OpKind::Add);
  EXPECT_EQ(g.value(grads->at(p)).name, "grad/p");
  std::vector<OpKind> parts;
  for (ValueId v : sum.inputs)
    parts.push_back(g.nodes[static_cast<size_t>(producer[static_cast<size_t>(v)])].op);
  std::sort(parts.begin(), parts.end());
  EXPECT_EQ(parts, (std::vector<OpKind>{OpKind::Mul, OpKind::ActivationGrad}));
  // q is read once: its gradient is that one contribution, no Add.
  const Node &dq = g.nodes[static_cast<size_t>(producer[static_cast<size_t>(grads->at(q))])];
  EXPECT_EQ(dq.op, OpKind::Mul);
  EXPECT_TRUE(verify(g).ok());
}

TEST(Autodiff, ParamsTheLossDoesNotDependOnGetNoGradient) {
  Graph g = parse(R"(graph g {
  param %w: f32[2,3]
  param %unread: f32[5]
  param %side: f32[2,3]
  %y = Tanh(%w)
  %other = Sigmoid(%side)
  output %y
  output %other
})");
  std::mt19937 rng(1);
  ValueId y = *g.find_value("y");
  auto loss = add_weighted_sum_loss(g, y, rng);
  ASSERT_TRUE(loss.ok()) << loss.error().message;
  size_t forward_nodes = g.nodes.size();
  auto grads = build_backward(g, *loss);
  ASSERT_TRUE(grads.ok()) << grads.error().message;
  ASSERT_EQ(grads->size(), 1u);
  EXPECT_EQ(grads->begin()->first, *g.find_value("w"));
  EXPECT_FALSE(g.find_value("grad/unread"));
  EXPECT_FALSE(g.find_value("grad/side"));
  // Nothing is emitted for the Sigmoid that the loss does not read.
  ValueId other = *g.find_value("other");
  for (size_t i = forward_nodes; i < g.nodes.size(); ++i)
    for (ValueId v : g.nodes[i].inputs)
      EXPECT_NE(v, other) << "node '" << g.nodes[i].name << "' reads the unused branch";
  EXPECT_TRUE(verify(g).ok());
}

// --- Errors -----------------------------------------------------------------

struct ErrorCase {
  const char *name;
  const char *ir;
  const char *loss; // the value differentiated
  const char *says;
};

void PrintTo(const ErrorCase &c, std::ostream *os) { *os << c.name; }

class BackwardError : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(BackwardError, IsAnInvalidModelErrorSayingWhy) {
  const ErrorCase &c = GetParam();
  Graph g = parse(c.ir);
  std::optional<ValueId> loss = g.find_value(c.loss);
  ASSERT_TRUE(loss);
  auto grads = build_backward(g, *loss);
  ASSERT_FALSE(grads.ok());
  EXPECT_EQ(grads.error().code, ExitCode::InvalidModel);
  EXPECT_NE(grads.error().message.find(c.says), std::string::npos) << grads.error().message;
}

// clang-format off
const ErrorCase kErrorCases[] = {
    {"LossNotScalar", R"(graph g {
  param %w: f32[2,3]
  %y = Tanh(%w)
  output %y
})", "y", "the loss 'y' must be a scalar, is f32[2,3]"},
    {"LossIndependentOfEveryParam", R"(graph g {
  input %x: f32[1,1]
  param %w: f32[1,1]
  %loss = Reshape(%x) {shape=[]}
  %unused = Tanh(%w)
  output %loss
  output %unused
})", "loss", "the loss 'loss' does not depend on any parameter"},
    {"OpWithoutRule", R"(graph g {
  param %w: f32[2,3]
  %loss = ReduceSum(%w) {axes=[0,1], keepdims=0}
  output %loss
})", "loss", "node 'loss' (ReduceSum): cannot differentiate: the op has no gradient rule"},
    {"PadReflect", R"(graph g {
  param %w: f32[3,4]
  %pad = Pad(%w) {mode="reflect", pads=[0,1,0,1], value=0.0}
  %loss = SoftmaxCrossEntropy(%pad, %labels)
  input %labels: f32[3]
  output %loss
})", "loss", "node 'pad' (Pad): cannot differentiate: Pad in mode 'reflect'"},
    {"PadNegative", R"(graph g {
  param %w: f32[3,4]
  %pad = Pad(%w) {mode="constant", pads=[1,0,0,-1], value=0.0}
  %loss = SoftmaxCrossEntropy(%pad, %labels)
  input %labels: f32[4]
  output %loss
})", "loss", "node 'pad' (Pad): cannot differentiate: Pad with negative pads"},
    {"SliceWithStep2", R"(graph g {
  param %w: f32[4,4]
  %slice = Slice(%w) {ends=[4,4], starts=[0,0], steps=[2,1]}
  %loss = SoftmaxCrossEntropy(%slice, %labels)
  input %labels: f32[2]
  output %loss
})", "loss", "node 'slice' (Slice): cannot differentiate: Slice with a step other than 1"},
    {"MatMulOfAVector", R"(graph g {
  param %v: f32[3]
  param %m: f32[2,3,4]
  %mm = MatMul(%v, %m)
  %loss = SoftmaxCrossEntropy(%mm, %labels)
  input %labels: f32[2]
  output %loss
})", "loss", "node 'mm' (MatMul): cannot differentiate: MatMul with a 1-D operand"},
    {"InferenceBatchNormalization", R"(graph g {
  param %x: f32[2,3]
  param %s: f32[3]
  param %b: f32[3]
  param %m: f32[3]
  param %v: f32[3]
  %bn = BatchNormalization(%x, %s, %b, %m, %v) {epsilon=1e-05}
  %loss = SoftmaxCrossEntropy(%bn, %labels)
  input %labels: f32[2]
  output %loss
})", "loss", "node 'bn' (BatchNormalization): cannot differentiate: inference-mode"},
    {"BatchStatisticsInTheLoss", R"(graph g {
  param %x: f32[2,3]
  param %s: f32[3]
  param %b: f32[3]
  param %m: f32[3]
  param %v: f32[3]
  %y, %mean, %var, %saved, %invstd = BatchNormTrain(%x, %s, %b, %m, %v) {epsilon=1e-05, momentum=0.9}
  %row = Reshape(%mean) {shape=[1,3]}
  %both = Concat(%y, %row) {axis=0}
  %loss = SoftmaxCrossEntropy(%both, %labels)
  input %labels: f32[3]
  output %loss
})", "loss", "node 'y' (BatchNormTrain): cannot differentiate: a gradient reaches the batch statistics"},
    {"GlobalAveragePoolOf1D", R"(graph g {
  param %x: f32[2,3,4]
  %gap = GlobalAveragePool(%x)
  %flat = Flatten(%gap) {axis=1}
  %loss = SoftmaxCrossEntropy(%flat, %labels)
  input %labels: f32[2]
  output %loss
})", "loss", "node 'gap' (GlobalAveragePool): cannot differentiate: GlobalAveragePool over other than two spatial axes"},
    {"ParamReadOnTwoDevices", R"(graph g {
  param %w: f32[2,3]
  param %x: f32[2,3]
  %a = Mul(%x, %w)
  %b = Mul(%a, %w) device=1
  %loss = SoftmaxCrossEntropy(%b, %labels) device=1
  input %labels: f32[2]
  output %loss
})", "loss", "param 'w' is read on devices 1 and 0: training needs each parameter on one device"},
    {"GradientNameTaken", R"(graph g {
  param %w: f32[2,3]
  input %"grad/w": f32[2,3]
  %a = Add(%w, %"grad/w")
  %loss = SoftmaxCrossEntropy(%a, %labels)
  input %labels: f32[2]
  output %loss
})", "loss", "the model already has a value named 'grad/w', the name of a gradient"},
};
// clang-format on

INSTANTIATE_TEST_SUITE_P(EveryPath, BackwardError, ::testing::ValuesIn(kErrorCases),
                         [](const auto &info) { return std::string(info.param.name); });

TEST(AutodiffPass, NeedsAValueNamedLoss) {
  Graph g = parse(R"(graph g {
  param %w: f32[2,3]
  %y = Tanh(%w)
  output %y
})");
  std::unique_ptr<Pass> pass = make_autodiff_pass();
  auto changed = run_pass(g, *pass, PassContext{});
  ASSERT_FALSE(changed.ok());
  EXPECT_EQ(changed.error().code, ExitCode::InvalidModel);
  EXPECT_NE(changed.error().message.find("graph 'g' has no value 'loss' to differentiate"),
            std::string::npos)
      << changed.error().message;
}

// --- The training pipeline --------------------------------------------------

// A small classifier: convolution, pooling, dropout, a fully connected
// layer and the softmax the add-loss pass finds.
constexpr const char *kClassifier = R"(graph tiny {
  input %data: f32[4,3,8,8]
  param %conv.w: f32[8,3,3,3]
  param %conv.b: f32[8]
  %conv = Conv(%data, %conv.w, %conv.b) {dilations=[1,1], group=1, kernel_shape=[3,3], pads=[1,1,1,1], strides=[1,1]}
  %relu = Relu(%conv)
  %pool = MaxPool(%relu) {ceil_mode=0, dilations=[1,1], kernel_shape=[2,2], pads=[0,0,0,0], strides=[2,2]}
  %flat = Flatten(%pool) {axis=1}
  %drop = Dropout(%flat) {ratio=0.5}
  param %fc.w: f32[6,128]
  param %fc.b: f32[6]
  %fc = Gemm(%drop, %fc.w, %fc.b) {alpha=1.0, beta=1.0, transA=0, transB=1}
  %prob = Softmax(%fc) {axis=1}
  output %prob
})";

Graph training_program(int devices) {
  Graph g = parse(kClassifier);
  PassContext ctx;
  ctx.training = true;
  ctx.devices = devices;
  ctx.partition = "model";
  auto changed = run_pipeline(g, training_pipeline(), ctx);
  EXPECT_TRUE(changed.ok()) << changed.error().message;
  return g;
}

TEST(TrainingPipeline, BuildsTheLossTheBackwardGraphAndAnUpdatePerParam) {
  Graph g = training_program(1);
  Status valid = verify(g);
  ASSERT_TRUE(valid.ok()) << valid.error().message;
  std::vector<std::string> inputs;
  for (ValueId v : g.inputs)
    inputs.push_back(g.value(v).name);
  EXPECT_EQ(inputs, (std::vector<std::string>{"data", "step", "labels", "lr"}));
  ASSERT_FALSE(g.outputs.empty());
  EXPECT_EQ(g.value(g.outputs[0]).name, kLossName);
  EXPECT_EQ(g.type(g.outputs[0]).rank(), 0);

  size_t dropout_masks = 0;
  for (const Node &n : g.nodes)
    dropout_masks += n.op == OpKind::DropoutMask;
  EXPECT_EQ(dropout_masks, 1u);

  std::vector<NodeId> producer = g.producers();
  for (const char *name : {"conv.w", "conv.b", "fc.w", "fc.b"}) {
    SCOPED_TRACE(name);
    std::optional<ValueId> p = g.find_value(name);
    std::optional<ValueId> v = g.find_value(std::string(name) + ".momentum");
    std::optional<ValueId> grad = g.find_value(std::string("grad/") + name);
    ASSERT_TRUE(p && v && grad);
    EXPECT_EQ(g.value(*v).kind, ValueKind::Param);
    EXPECT_TRUE(g.zero_init.count(std::string(name) + ".momentum"));
    const Node *update = nullptr;
    for (const Node &n : g.nodes)
      if (n.op == OpKind::SgdUpdate && n.inputs[0] == *p)
        update = &n;
    ASSERT_NE(update, nullptr);
    EXPECT_EQ(update->inputs[1], *v);
    EXPECT_EQ(update->inputs[2], *grad);
    EXPECT_EQ(g.value(update->inputs[3]).name, kLearningRateName);
    auto has = [&](ValueId param, ValueId value) {
      return std::find(g.updates.begin(), g.updates.end(), std::pair{param, value}) !=
             g.updates.end();
    };
    EXPECT_TRUE(has(*p, update->outputs[0]));
    EXPECT_TRUE(has(*v, update->outputs[1]));
  }
  size_t updates = 0;
  for (const Node &n : g.nodes)
    updates += n.op == OpKind::SgdUpdate;
  EXPECT_EQ(updates, 4u);
  EXPECT_EQ(g.updates.size(), 8u);
  EXPECT_EQ(g.zero_init.size(), 4u);
}

// Two training steps of the program on 1 and on 2 model-parallel devices,
// from the same weights and inputs: the losses and the trained weights and
// momentum buffers agree.
TEST(TrainingPipeline, TwoDeviceModelParallelTrainsLikeOneDevice) {
  Graph one = training_program(1), two = training_program(2);
  Status valid = verify(two);
  ASSERT_TRUE(valid.ok()) << valid.error().message;
  ASSERT_TRUE(two.explicit_transfers);
  std::set<int> devices;
  for (const Node &n : two.nodes)
    devices.insert(n.device);
  EXPECT_EQ(devices, (std::set<int>{0, 1}));
  size_t sgd = 0;
  for (const Node &n : two.nodes)
    sgd += n.op == OpKind::SgdUpdate;
  EXPECT_EQ(sgd, two.params().size() / 2) << "one update per param (half are momentum buffers)";

  std::mt19937 rng(11);
  std::uniform_real_distribution<float> uniform(-1.f, 1.f);
  WeightStore initial;
  Graph source = parse(kClassifier);
  for (ValueId p : source.params()) {
    std::vector<float> data(static_cast<size_t>(source.type(p).numel()));
    for (float &x : data)
      x = 0.3f * uniform(rng);
    initial[source.value(p).name] = std::move(data);
  }
  Tensor data(TensorType{DType::F32, {4, 3, 8, 8}});
  for (float &x : data.data)
    x = uniform(rng);
  Tensor labels(TensorType{DType::F32, {4}}, {0.f, 3.f, 5.f, 1.f});
  Tensor lr(TensorType{DType::F32, {}}, {0.1f});

  auto train = [&](const Graph &g, int lanes, std::vector<float> &losses, WeightStore &trained) {
    std::vector<std::unique_ptr<Device>> owned;
    std::vector<Device *> ptrs;
    for (int i = 0; i < lanes; ++i) {
      owned.push_back(make_reference_device());
      ptrs.push_back(owned.back().get());
    }
    auto ex = Executor::create(g, initial, ptrs);
    ASSERT_TRUE(ex.ok()) << ex.error().message;
    for (float step : {0.f, 1.f}) {
      std::vector<Tensor> inputs;
      for (ValueId v : g.inputs) {
        const std::string &name = g.value(v).name;
        inputs.push_back(name == "data"     ? data
                         : name == "labels" ? labels
                         : name == "lr"     ? lr
                                            : Tensor(TensorType{DType::F32, {}}, {step}));
      }
      auto out = ex->run(inputs);
      ASSERT_TRUE(out.ok()) << out.error().message;
      losses.push_back((*out)[0].data[0]);
    }
    Status read = ex->read_weights(trained);
    ASSERT_TRUE(read.ok()) << read.error().message;
  };
  std::vector<float> loss1, loss2;
  WeightStore trained1, trained2;
  train(one, 1, loss1, trained1);
  train(two, 2, loss2, trained2);
  ASSERT_EQ(loss1.size(), 2u);
  ASSERT_EQ(loss2.size(), 2u);

  // The two programs compute the same sums; only the order of some float
  // additions differs (a gradient summed from each device's share, sums
  // split where a layer is split), so results differ by float rounding: a
  // few ulps of the sums' terms, far below 1e-5 of each tensor's largest
  // element. A lost or doubled contribution (a whole device's share of a
  // gradient) would differ by a sizeable fraction of it.
  constexpr double kRelative = 1e-5;
  for (size_t i = 0; i < 2; ++i)
    EXPECT_NEAR(loss1[i], loss2[i], kRelative * std::max(1.f, std::fabs(loss1[i]))) << "step " << i;
  EXPECT_NE(loss1[0], loss1[1]) << "the second step trains on updated weights and a new mask";
  ASSERT_EQ(trained1.size(), 8u);
  for (const auto &[name, expected] : trained1) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(trained2.count(name));
    const std::vector<float> &actual = trained2.at(name);
    ASSERT_EQ(actual.size(), expected.size());
    float scale = 0;
    for (float x : expected)
      scale = std::max(scale, std::fabs(x));
    EXPECT_GT(scale, 0.f);
    for (size_t i = 0; i < expected.size(); ++i)
      ASSERT_NEAR(actual[i], expected[i], kRelative * scale) << "element " << i;
    if (name.find(".momentum") == std::string::npos) {
      // Training moved the weight.
      const std::vector<float> &before = initial.at(name);
      EXPECT_NE(before, expected);
    }
  }
}

} // namespace
} // namespace anet
