// The generated CPU kernels of the linear family against the reference
// kernels: Conv (padding, asymmetric pads, strides, dilations, groups, bias,
// every fused activation), Gemm (transA/transB, alpha/beta, every broadcast
// form of C), MatMul (1-D operands, batch broadcasting) and the convolution
// gradients, on odd sizes around the micro-tile (12 x 32) and AlexNet's
// layers.
//
// Tolerance: the kernels reorder each sum (depth slices, register tiles), so
// they differ from the reference's loop order by rounding. The error of a
// float sum of `terms` products grows like a random walk: tol = 4e-6 *
// sqrt(terms), the bound tests/codegen/cpu_test_util.h gives for reductions.
// ConvGradInput and ConvGradWeight's references sum in double, so the whole
// error is the kernel's: the same bound holds.

#include "tests/codegen/cpu_test_util.h"

#include <cmath>
#include <optional>
#include <string>

namespace anet::test {
namespace {

using Ints = std::vector<int64_t>;

/// The rounding tolerance of a sum of `terms` products (see the file
/// comment).
double sum_tolerance(int64_t terms) {
  return 4e-6 * std::sqrt(static_cast<double>(std::max<int64_t>(terms, 1)));
}

/// A fused activation: none, or Relu, Sigmoid, Tanh, Clip by op name.
using Act = std::optional<std::string>;
const std::vector<Act> kActivations = {std::nullopt, "Relu", "Sigmoid", "Tanh", "Clip"};

void set_activation(Node &n, const Act &act) {
  if (!act)
    return;
  n.attrs.set("activation", *act);
  if (*act == "Clip") {
    n.attrs.set("activation_min", -0.25f);
    n.attrs.set("activation_max", 0.5f);
  }
}

std::string activation_name(const Act &act) { return act ? *act : "none"; }

/// A convolution: input [n, c, h, w], m maps of kernel [kh, kw], window and
/// groups.
struct ConvCase {
  Shape x;
  int64_t m, kh, kw;
  Ints strides, pads, dilations;
  int64_t group;

  std::string label() const {
    return "x " + shape_string(x) + " m " + std::to_string(m) + " k " + std::to_string(kh) + "x" +
           std::to_string(kw) + " strides " + shape_string(strides) + " pads " +
           shape_string(pads) + " dilations " + shape_string(dilations) + " group " +
           std::to_string(group);
  }
  Shape weight() const { return {m, x[1] / group, kh, kw}; }
  /// Products summed per output element of the forward convolution.
  int64_t depth() const { return x[1] / group * kh * kw; }
};

Node conv_node(OpKind op, const ConvCase &c) {
  Node n = make_node(op);
  set_window(n, {c.kh, c.kw}, c.strides, c.pads, c.dilations);
  n.attrs.set("group", c.group);
  if (op == OpKind::ConvGradInput)
    n.attrs.set("input_shape", c.x);
  return n;
}

/// The output shape of c's convolution, from the shape rule.
Shape conv_output(const ConvCase &c) {
  auto types = infer_shapes(conv_node(OpKind::Conv, c),
                            {TensorType{DType::F32, c.x}, TensorType{DType::F32, c.weight()}});
  EXPECT_TRUE(types.ok()) << types.error().message;
  return types.ok() ? (*types)[0].shape : Shape{};
}

void check_conv(const ConvCase &c, bool bias, const Act &act, uint32_t seed) {
  SCOPED_TRACE("Conv " + c.label() + " bias " + std::to_string(bias) + " activation " +
               activation_name(act));
  Node n = conv_node(OpKind::Conv, c);
  set_activation(n, act);
  std::vector<Tensor> in = {random_tensor(c.x, seed), random_tensor(c.weight(), seed + 1)};
  if (bias)
    in.push_back(random_tensor({c.m}, seed + 2));
  expect_matches_reference(n, in, sum_tolerance(c.depth()));
  // The same with the weights (and bias) as an inference program's params,
  // which the kernel packs once and keeps until new ones are loaded.
  std::vector<Tensor> next = in;
  for (size_t i = 1; i < next.size(); ++i)
    next[i] = random_tensor(next[i].type.shape, seed + 10 + static_cast<uint32_t>(i));
  std::set<size_t> params = {1};
  if (bias)
    params.insert(2);
  expect_matches_reference_with_weights(n, in, next, params, sum_tolerance(c.depth()));
}

void check_conv_grads(const ConvCase &c, uint32_t seed) {
  SCOPED_TRACE("Conv gradients " + c.label());
  const Shape y = conv_output(c);
  Tensor x = random_tensor(c.x, seed), w = random_tensor(c.weight(), seed + 1);
  Tensor dy = random_tensor(y, seed + 2);
  // dX sums over the maps of the group and the windows covering an input.
  const int64_t window_terms = c.m / c.group * c.kh * c.kw;
  expect_matches_reference(conv_node(OpKind::ConvGradInput, c), {dy, w},
                           sum_tolerance(window_terms));
  // dW sums over every image and output position.
  expect_matches_reference(conv_node(OpKind::ConvGradWeight, c), {x, dy},
                           sum_tolerance(y[0] * y[2] * y[3]));
}

// Odd sizes around the micro-tile (12 rows x 32 columns) and the vector
// width, every window attribute, groups 1 to 3.
const std::vector<ConvCase> kConvCases = {
    {{1, 2, 4, 4}, 4, 3, 3, {1, 1}, {1, 1, 1, 1}, {1, 1}, 2},
    {{2, 3, 17, 13}, 7, 3, 3, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1},
    {{1, 6, 9, 11}, 6, 3, 2, {2, 1}, {1, 0, 2, 1}, {1, 1}, 3},
    {{2, 4, 12, 12}, 33, 3, 3, {1, 2}, {2, 1, 0, 3}, {2, 3}, 1},
    {{1, 8, 7, 7}, 100, 1, 1, {1, 1}, {0, 0, 0, 0}, {1, 1}, 2},
    {{2, 5, 20, 19}, 17, 1, 1, {2, 2}, {0, 0, 0, 0}, {1, 1}, 1},
    {{1, 6, 9, 9}, 12, 1, 1, {1, 1}, {1, 0, 0, 2}, {1, 1}, 3},
    {{1, 3, 35, 35}, 24, 11, 11, {4, 4}, {2, 2, 2, 2}, {1, 1}, 1},
    {{1, 12, 13, 13}, 12, 5, 5, {1, 1}, {2, 2, 2, 2}, {1, 1}, 2},
    {{1, 1, 1, 1}, 1, 1, 1, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1},
    {{1, 1, 5, 5}, 1, 5, 5, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1},
    {{3, 9, 8, 6}, 9, 3, 3, {3, 2}, {2, 2, 2, 2}, {2, 1}, 3},
    {{2, 7, 30, 33}, 19, 3, 5, {1, 1}, {1, 2, 1, 2}, {1, 1}, 1},
    {{1, 16, 21, 4}, 130, 3, 3, {1, 1}, {0, 1, 2, 1}, {3, 1}, 1},
    {{1, 34, 15, 15}, 18, 4, 4, {2, 3}, {3, 0, 1, 2}, {1, 2}, 2},
    {{2, 3, 40, 70}, 5, 2, 7, {3, 1}, {0, 3, 1, 0}, {2, 1}, 1},
    // Width strides over outputs at least 8 wide: the input's rows are split
    // into phases (linear.h Phases), taps left of the image included.
    {{2, 5, 9, 50}, 14, 3, 5, {2, 3}, {1, 4, 0, 2}, {1, 2}, 1},
    {{1, 4, 11, 47}, 14, 2, 3, {1, 2}, {0, 1, 1, 0}, {2, 1}, 2},
};

TEST(CpuLinear, ConvWindowsAndGroups) {
  uint32_t seed = 100;
  for (const ConvCase &c : kConvCases)
    for (bool bias : {false, true}) {
      check_conv(c, bias, bias ? Act("Relu") : std::nullopt, seed);
      seed += 3;
    }
}

TEST(CpuLinear, ConvEveryActivation) {
  uint32_t seed = 200;
  for (const Act &act : kActivations)
    for (const ConvCase &c : {kConvCases[3], kConvCases[8], kConvCases[13]}) {
      check_conv(c, true, act, seed);
      seed += 3;
    }
}

TEST(CpuLinear, ConvGradients) {
  uint32_t seed = 300;
  for (const ConvCase &c : kConvCases) {
    check_conv_grads(c, seed);
    seed += 3;
  }
}

// Shapes the cpu device runs as direct convolutions (kernels/direct.h:
// output channels per group a multiple of 16, output rows at least 6 wide):
// one and two channel vectors per tile, rows cut into tiles with a narrower
// last one, width strides (the Block's phases), dilation, uneven pads,
// groups, Blocks of several row blocks, channel panels shared out at batch
// 1, weight-gradient tiles of several kernel rows with a shorter last one,
// tap parts that split a channel, and dX as a direct convolution of dY.
// The 3 x 3 windows at unit strides and dilations run forward by Winograd
// F(2x2, 3x3) (kernels/winograd.h): odd output sizes, uneven pads, a row of
// 15 tiles. The other devices run them as any convolution.
const std::vector<ConvCase> kDirectConvCases = {
    {{2, 5, 14, 15}, 32, 3, 3, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1},
    {{1, 6, 20, 30}, 32, 5, 5, {1, 1}, {2, 1, 2, 3}, {1, 1}, 2},
    {{1, 3, 47, 51}, 16, 11, 11, {4, 4}, {2, 2, 2, 2}, {1, 1}, 1},
    {{2, 8, 19, 33}, 64, 3, 3, {2, 2}, {1, 2, 0, 1}, {2, 2}, 2},
    {{1, 200, 20, 18}, 16, 3, 3, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1},
    {{1, 4, 9, 26}, 96, 3, 3, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1},
    {{1, 3, 10, 12}, 16, 4, 3, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1},
    {{1, 3, 12, 12}, 32, 5, 5, {1, 1}, {2, 2, 2, 2}, {1, 1}, 1},
    {{1, 32, 11, 14}, 16, 3, 3, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1},
    {{2, 48, 9, 10}, 48, 3, 3, {1, 1}, {1, 0, 1, 2}, {1, 2}, 3},
    {{1, 16, 12, 29}, 32, 3, 3, {1, 1}, {0, 2, 2, 1}, {1, 1}, 1},
    {{2, 16, 8, 17}, 16, 3, 3, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1},
};

TEST(CpuLinear, DirectConvolutions) {
  uint32_t seed = 800;
  for (const ConvCase &c : kDirectConvCases) {
    check_conv(c, true, "Relu", seed);
    check_conv(c, false, std::nullopt, seed + 1);
    check_conv_grads(c, seed + 2);
    seed += 3;
  }
}

// dW over a long depth (images x positions) and a small output: the CUDA
// kernel splits the depth (split-K: 12 slices of one tile; 7 slices, the
// last shorter, of 2 tiles in each of 2 groups) and adds the slices in order.
TEST(CpuLinear, ConvGradWeightOverALongDepth) {
  for (const ConvCase &c :
       {ConvCase{{8, 3, 40, 40}, 8, 3, 3, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1},
        ConvCase{{15, 32, 23, 23}, 64, 3, 3, {1, 1}, {1, 1, 1, 1}, {1, 1}, 2}}) {
    SCOPED_TRACE(c.label());
    const Shape y = conv_output(c);
    Tensor x = random_tensor(c.x, 620), dy = random_tensor(y, 621);
    Node node = conv_node(OpKind::ConvGradWeight, c);
    // Three runs of one kernel: its arrival counters are ready again after
    // each, and the sums come out the same.
    expect_matches_reference(node, {x, dy}, sum_tolerance(y[0] * y[2] * y[3]), 3);
  }
}

// AlexNet's five convolutions (conv1 on a 227 x 227 input) at batch 1 and 2.
const std::vector<ConvCase> kAlexNetConvs = {
    {{1, 3, 227, 227}, 96, 11, 11, {4, 4}, {0, 0, 0, 0}, {1, 1}, 1},
    {{1, 96, 27, 27}, 256, 5, 5, {1, 1}, {2, 2, 2, 2}, {1, 1}, 2},
    {{1, 256, 13, 13}, 384, 3, 3, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1},
    {{2, 384, 13, 13}, 384, 3, 3, {1, 1}, {1, 1, 1, 1}, {1, 1}, 2},
    {{2, 384, 13, 13}, 256, 3, 3, {1, 1}, {1, 1, 1, 1}, {1, 1}, 2},
};

TEST(CpuLinear, ConvGradientsOfWideLayers) {
  // More packed weights than one worker's cache holds (linear.h
  // kWeightCache): Conv splits its maps, ConvGradInput its input channels.
  check_conv({{1, 1100, 2, 3}, 1000, 1, 1, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1}, true, "Relu", 450);
  check_conv_grads({{2, 1100, 2, 3}, 1000, 1, 1, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1}, 453);
}

TEST(CpuLinear, AlexNetConvs) {
  uint32_t seed = 400;
  for (const ConvCase &c : kAlexNetConvs) {
    check_conv(c, true, "Relu", seed);
    seed += 3;
  }
}

// The cpu device at 1, 2, 3 and 5 threads gives the same bits: an
// inference program's Conv (packed weights) at batch 1 shares a block's rows
// out among idle workers (6 panels in 5 parts leaves two parts empty); the
// direct convolution (96 maps: 3 panels) shares its panels out and splits
// its rows into 2 (2 threads) or 5 (5 threads) parts; and every output is
// summed in an order fixed by the shapes alone.
TEST(CpuLinear, ConvBitsDoNotDependOnTheThreadCount) {
  if (test_device_config().name != "cpu")
    GTEST_SKIP() << "thread counts are the cpu device's option; this run tests the "
                 << test_device_config().name << " device";
  uint32_t seed = 700;
  for (const ConvCase &c : {ConvCase{{1, 16, 13, 13}, 72, 3, 3, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1},
                            ConvCase{{1, 6, 40, 40}, 26, 5, 5, {2, 2}, {2, 2, 2, 2}, {1, 1}, 2},
                            ConvCase{{1, 8, 13, 13}, 96, 3, 3, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1}}) {
    SCOPED_TRACE(c.label());
    Node node = conv_node(OpKind::Conv, c);
    node.attrs.set("activation", std::string("Relu"));
    const std::vector<Tensor> inputs = {random_tensor(c.x, seed),
                                        random_tensor(c.weight(), seed + 1),
                                        random_tensor({c.m}, seed + 2)};
    seed += 3;
    const Graph program = one_node_program(node, inputs, {1, 2});
    const WeightStore weights = {{"x1", inputs[1].data}, {"x2", inputs[2].data}};
    std::vector<Tensor> first;
    for (int threads : {1, 2, 3, 5}) {
      DeviceOptions options;
      options.threads = threads;
      auto device = make_device("cpu", options);
      ASSERT_TRUE(device.ok()) << device.error().message;
      auto ex = Executor::create(program, weights, **device);
      ASSERT_TRUE(ex.ok()) << ex.error().message;
      auto out = ex->run({inputs[0]});
      ASSERT_TRUE(out.ok()) << out.error().message;
      if (threads == 1) {
        first = *out;
        std::unique_ptr<Device> ref = make_reference_device();
        expect_close(node, first, run_on(*ref, node, inputs), sum_tolerance(c.depth()));
        continue;
      }
      EXPECT_EQ(0, std::memcmp(first[0].data.data(), (*out)[0].data.data(),
                               first[0].data.size() * sizeof(float)))
          << threads << " threads against 1";
    }
  }
}

TEST(CpuLinear, AlexNetConvGradients) {
  uint32_t seed = 500;
  for (const ConvCase &c : kAlexNetConvs) {
    check_conv_grads(c, seed);
    seed += 3;
  }
}

// Gemm: A [m, k] (or [k, m] with transA), B [k, n] (or [n, k] with transB),
// C in each form that broadcasts to [m, n] (or none).
void check_gemm(int64_t m, int64_t n, int64_t k, bool trans_a, bool trans_b, float alpha,
                float beta, const std::optional<Shape> &c, const Act &act, uint32_t seed,
                int runs = 1) {
  SCOPED_TRACE("Gemm " + std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k) +
               " transA " + std::to_string(trans_a) + " transB " + std::to_string(trans_b) +
               " alpha " + std::to_string(alpha) + " beta " + std::to_string(beta) + " C " +
               (c ? shape_string(*c) : "none") + " activation " + activation_name(act));
  Node node = make_node(OpKind::Gemm);
  node.attrs.set("alpha", alpha);
  node.attrs.set("beta", beta);
  node.attrs.set("transA", int64_t{trans_a});
  node.attrs.set("transB", int64_t{trans_b});
  set_activation(node, act);
  std::vector<Tensor> in = {random_tensor(trans_a ? Shape{k, m} : Shape{m, k}, seed),
                            random_tensor(trans_b ? Shape{n, k} : Shape{k, n}, seed + 1)};
  if (c)
    in.push_back(random_tensor(*c, seed + 2));
  expect_matches_reference(node, in, sum_tolerance(k), runs);
}

// Few outputs over a long depth: the CUDA kernel splits the depth (4 slices
// of one tile, the last shorter; 2 slices of 10 tiles), the epilogue (alpha,
// beta C, activation) after the slices are added. Three runs of one kernel
// give the same bits.
TEST(CpuLinear, GemmOverALongDepth) {
  uint32_t seed = 640;
  for (bool trans_a : {false, true})
    for (bool trans_b : {false, true}) {
      check_gemm(20, 30, 5000, trans_a, trans_b, 0.5f, 2.f, Shape{30}, Act{"Relu"}, seed, 3);
      seed += 3;
    }
  check_gemm(128, 300, 3000, false, true, 1.f, 1.f, Shape{300}, Act{}, seed, 3);
}

TEST(CpuLinear, GemmTransposesAndBroadcasts) {
  // Packed (17 x 33, 100 x 45), one row or few columns (the skinny forms),
  // tiny, a depth of 1, and 150 x 200 (the CUDA kernel's 128 x 128 tiles,
  // ragged on both sides). Each size runs the four transpose combinations
  // with two C forms each, chosen so that every size meets every C form and
  // every transpose combination meets every C form across the sizes.
  const std::vector<Ints> sizes = {{17, 33, 100}, {100, 45, 7}, {1, 40, 37},   {45, 3, 70},
                                   {3, 2, 5},     {13, 129, 1}, {150, 200, 37}};
  uint32_t seed = 600;
  for (size_t si = 0; si < sizes.size(); ++si) {
    const int64_t m = sizes[si][0], n = sizes[si][1], k = sizes[si][2];
    const std::vector<std::optional<Shape>> forms = {std::nullopt, Shape{},     Shape{1},
                                                     Shape{n},     Shape{m, 1}, Shape{1, n},
                                                     Shape{1, 1},  Shape{m, n}};
    for (int t = 0; t < 4; ++t)
      for (size_t j = 0; j < 2; ++j) {
        const size_t f = (2 * static_cast<size_t>(t) + j + 2 * si) % forms.size();
        check_gemm(m, n, k, (t & 1) != 0, (t & 2) != 0, j ? 0.5f : 1.f, f % 3 ? 2.f : -1.f,
                   forms[f], std::nullopt, seed);
        seed += 3;
      }
  }
}

TEST(CpuLinear, GemmEveryActivation) {
  uint32_t seed = 700;
  for (const Act &act : kActivations) {
    check_gemm(30, 70, 50, false, true, 1.f, 1.f, Shape{70}, act, seed);
    check_gemm(2, 70, 50, false, true, 1.f, 1.f, Shape{70}, act, seed + 3);
    seed += 6;
  }
}

TEST(CpuLinear, GemmEmptyDepth) {
  check_gemm(5, 6, 0, false, false, 1.f, 0.5f, Shape{5, 6}, "Tanh", 800);
  check_gemm(2, 6, 0, true, true, 1.f, 0.5f, Shape{6}, std::nullopt, 803);
}

TEST(CpuLinear, AlexNetFullyConnected) {
  // fc6 at batch 1 and 2 (9216 -> 4096), fc8 at batch 2 (4096 -> 1000).
  check_gemm(1, 4096, 9216, false, true, 1.f, 1.f, Shape{4096}, "Relu", 900);
  check_gemm(2, 4096, 9216, false, true, 1.f, 1.f, Shape{4096}, "Relu", 903);
  check_gemm(2, 1000, 4096, false, true, 1.f, 1.f, Shape{1000}, std::nullopt, 906);
  check_gemm(20, 1000, 4096, false, true, 1.f, 1.f, Shape{1000}, std::nullopt, 909);
}

void check_matmul(const Shape &a, const Shape &b, const Act &act, uint32_t seed) {
  SCOPED_TRACE("MatMul " + shape_string(a) + " x " + shape_string(b) + " activation " +
               activation_name(act));
  Node node = make_node(OpKind::MatMul);
  set_activation(node, act);
  expect_matches_reference(node, {random_tensor(a, seed), random_tensor(b, seed + 1)},
                           sum_tolerance(a.back()));
}

TEST(CpuLinear, MatMulVectorsAndBroadcasting) {
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{7}, {7}},
      {{7}, {7, 5}},
      {{7, 5}, {5}},
      {{33}, {2, 33, 20}},
      {{2, 40, 33}, {33}},
      {{17, 33}, {33, 100}},
      {{2, 3, 17, 33}, {33, 20}},
      {{3, 1, 17, 33}, {4, 33, 20}},
      {{1, 100, 65}, {5, 65, 129}},
      {{64, 2, 3}, {64, 3, 2}},
      {{2, 1, 4, 100}, {3, 100, 1}},
      {{5, 3, 0}, {0, 4}},
  };
  uint32_t seed = 1000;
  for (const auto &[a, b] : cases) {
    check_matmul(a, b, std::nullopt, seed);
    seed += 2;
  }
}

TEST(CpuLinear, MatMulEveryActivation) {
  uint32_t seed = 1100;
  for (const Act &act : kActivations) {
    check_matmul({3, 17, 40}, {40, 50}, act, seed);
    check_matmul({40}, {40, 50}, act, seed + 2);
    seed += 4;
  }
}

} // namespace
} // namespace anet::test
