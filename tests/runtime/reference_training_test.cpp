// Reference kernels of the training ops: small hand-checked cases, direct
// computations of BatchNormTrain and ReduceSum, DropoutMask's statistics,
// in-place updates, and central finite differences of every gradient kernel
// against the forward reference kernel it differentiates.

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <random>

#include "ir/random.h"
#include "tests/runtime/op_test_util.h"

namespace anet::test {
namespace {

using Ints = std::vector<int64_t>;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

Tensor scalar(float v) { return tensor({}, {v}); }

// Uniform values in [lo, hi), redrawn while `avoid` (if given) holds.
Tensor uniform(Shape shape, std::mt19937 &rng, float lo, float hi, bool (*avoid)(float) = nullptr) {
  std::uniform_real_distribution<float> dist(lo, hi);
  Tensor t(TensorType{DType::F32, std::move(shape)});
  for (float &v : t.data)
    do
      v = dist(rng);
    while (avoid && avoid(v));
  return t;
}

// The values -2, -2 + spacing, ... in a random order: all distinct, so a
// small perturbation never changes which element of a window is largest.
Tensor distinct(Shape shape, std::mt19937 &rng, float spacing) {
  Tensor t(TensorType{DType::F32, std::move(shape)});
  for (size_t i = 0; i < t.data.size(); ++i)
    t.data[i] = -2.f + spacing * static_cast<float>(i);
  std::shuffle(t.data.begin(), t.data.end(), rng);
  return t;
}

// Views of host tensors, for calling a kernel directly on chosen memory.
InViews in_views(const std::vector<Tensor> &ts) {
  InViews views;
  for (const Tensor &t : ts)
    views.push_back(InView{t.data.data(), t.type.shape});
  return views;
}

// --- Finite differences ------------------------------------------------------

using Forward = std::function<Tensor(const std::vector<Tensor> &)>;

// The forward function of a node: its first output.
Forward forward_of(const Node &node) {
  return [node](const std::vector<Tensor> &inputs) {
    std::vector<Tensor> out = run(node, inputs);
    return out.empty() ? Tensor() : std::move(out[0]);
  };
}

// L = sum(r * y), in double.
double project(const Tensor &r, const Tensor &y) {
  EXPECT_EQ(r.type.shape, y.type.shape);
  double sum = 0.0;
  for (size_t i = 0; i < std::min(r.data.size(), y.data.size()); ++i)
    sum += static_cast<double>(r.data[i]) * y.data[i];
  return sum;
}

// dL/d(inputs[which]) for L = sum(r * forward(inputs)) by central
// differences with step `step` * max(1, |x|).
Tensor numeric_gradient(const Forward &forward, std::vector<Tensor> inputs, size_t which,
                        const Tensor &r, float step) {
  Tensor grad(inputs[which].type);
  for (size_t i = 0; i < grad.data.size(); ++i) {
    float x = inputs[which].data[i];
    float h = step * std::max(1.f, std::abs(x));
    float up = x + h, down = x - h;
    inputs[which].data[i] = up;
    double l_up = project(r, forward(inputs));
    inputs[which].data[i] = down;
    double l_down = project(r, forward(inputs));
    inputs[which].data[i] = x;
    grad.data[i] = static_cast<float>((l_up - l_down) / (static_cast<double>(up) - down));
  }
  return grad;
}

// Checks an analytic gradient against the numeric one: within `tol` of the
// largest numeric magnitude (at least 1).
void expect_gradient(const Tensor &analytic, const Tensor &numeric, float tol, const char *what) {
  SCOPED_TRACE(what);
  ASSERT_EQ(analytic.type.shape, numeric.type.shape);
  float scale = 1.f;
  for (float v : numeric.data)
    scale = std::max(scale, std::abs(v));
  for (size_t i = 0; i < numeric.data.size(); ++i)
    EXPECT_NEAR(analytic.data[i], numeric.data[i], tol * scale) << "element " << i;
}

// Compares output k of grad(r) with dL/d(inputs[which[k]]) by central
// differences, for L = sum(r * forward(inputs)) with a random r.
void check_gradients(const Forward &forward, const std::vector<Tensor> &inputs,
                     const std::vector<size_t> &which,
                     const std::function<std::vector<Tensor>(const Tensor &r)> &grad,
                     std::mt19937 &rng, float step = 1e-2f, float tol = 2e-4f) {
  Tensor y = forward(inputs);
  Tensor r = uniform(y.type.shape, rng, -1.f, 1.f);
  std::vector<Tensor> analytic = grad(r);
  ASSERT_EQ(analytic.size(), which.size());
  for (size_t k = 0; k < which.size(); ++k) {
    std::string what = "gradient of input " + std::to_string(which[k]);
    expect_gradient(analytic[k], numeric_gradient(forward, inputs, which[k], r, step), tol,
                    what.c_str());
  }
}

// --- SoftmaxCrossEntropy -----------------------------------------------------

Node cross_entropy() { return make_node(OpKind::SoftmaxCrossEntropy); }
Node cross_entropy_grad() { return make_node(OpKind::SoftmaxCrossEntropyGrad); }

TEST(RefSoftmaxCrossEntropy, MeanNegativeLogLikelihood) {
  // Row 0: p = (1/2, 1/2), label 1: ln 2. Row 1: p = (3/4, 1/4), label 0: ln(4/3).
  Tensor logits = tensor({2, 2}, {0, 0, std::log(3.f), 0});
  Tensor loss = run1(cross_entropy(), {logits, tensor({2}, {1, 0})});
  expect_tensor(loss, {}, {0.5f * std::log(8.f / 3.f)});
}

TEST(RefSoftmaxCrossEntropy, LargeLogitsStayFinite) {
  Tensor logits = tensor({1, 3}, {1000, 0, -1000});
  expect_tensor(run1(cross_entropy(), {logits, tensor({1}, {1})}), {}, {1000});
  expect_tensor(run1(cross_entropy(), {logits, tensor({1}, {0})}), {}, {0});
  Tensor grad = run1(cross_entropy_grad(), {logits, tensor({1}, {1}), scalar(1)});
  expect_tensor(grad, {1, 3}, {1, -1, 0});
}

TEST(RefSoftmaxCrossEntropy, LabelThatIsNotAClassGivesNaN) {
  Tensor logits = tensor({2, 3}, {1, 2, 3, 3, 2, 1});
  for (float bad : {2.5f, -1.f, 3.f, kNaN}) {
    SCOPED_TRACE(bad);
    Tensor labels = tensor({2}, {0, bad});
    EXPECT_TRUE(std::isnan(run1(cross_entropy(), {logits, labels}).data[0]));
    Tensor grad = run1(cross_entropy_grad(), {logits, labels, scalar(1)});
    ASSERT_EQ(grad.data.size(), 6u);
    for (int k = 0; k < 3; ++k) {
      EXPECT_TRUE(std::isfinite(grad.data[k]));
      EXPECT_TRUE(std::isnan(grad.data[3 + k]));
    }
  }
}

TEST(RefSoftmaxCrossEntropyGrad, SoftmaxMinusOneHotScaledByDlossOverBatch) {
  // p = (1/2, 1/2) and (3/4, 1/4); dloss 2 over N = 2 rows scales by 1.
  Tensor logits = tensor({2, 2}, {0, 0, std::log(3.f), 0});
  Tensor grad = run1(cross_entropy_grad(), {logits, tensor({2}, {1, 0}), scalar(2)});
  expect_tensor(grad, {2, 2}, {0.5f, -0.5f, -0.25f, 0.25f});
}

TEST(RefGradients, SoftmaxCrossEntropy) {
  std::mt19937 rng(1);
  Tensor logits = uniform({4, 5}, rng, -3.f, 3.f);
  Tensor labels = tensor({4}, {0, 4, 2, 2});
  // The loss is a scalar: r is the loss's gradient.
  check_gradients(
      forward_of(cross_entropy()), {logits, labels}, {0},
      [&](const Tensor &r) {
        return std::vector<Tensor>{run1(cross_entropy_grad(), {logits, labels, r})};
      },
      rng);
}

// --- DropoutMask -------------------------------------------------------------

Node dropout_mask(Ints shape, float ratio, int64_t seed) {
  Node n = make_node(OpKind::DropoutMask);
  n.attrs.set("shape", std::move(shape));
  n.attrs.set("ratio", ratio);
  n.attrs.set("seed", seed);
  return n;
}

TEST(RefDropoutMask, KeepsAboutOneMinusRatioAsZeroOrScaled) {
  for (float ratio : {0.1f, 0.5f, 0.8f}) {
    SCOPED_TRACE(ratio);
    Tensor mask = run1(dropout_mask({200, 500}, ratio, 42), {scalar(7)});
    ASSERT_EQ(mask.type.shape, (Shape{200, 500}));
    float kept_value = 1.f / (1.f - ratio);
    size_t kept = 0;
    for (float v : mask.data) {
      EXPECT_TRUE(v == 0.f || v == kept_value) << v;
      kept += v != 0.f;
    }
    // 100000 draws: the standard deviation of the fraction is below 0.0016.
    EXPECT_NEAR(static_cast<double>(kept) / 1e5, 1.0 - ratio, 0.01);
  }
}

TEST(RefDropoutMask, ElementIsTheDrawOfItsRowMajorIndex) {
  Tensor mask = run1(dropout_mask({3, 4, 5}, 0.5f, 9), {scalar(11)});
  ASSERT_EQ(mask.data.size(), 60u);
  for (uint64_t i = 0; i < 60; ++i)
    EXPECT_EQ(mask.data[i], dropout_keeps(9, 11, i, 0.5f) ? 2.f : 0.f) << "element " << i;
}

TEST(RefDropoutMask, SameSeedAndStepSameMaskOtherwiseDifferent) {
  Node n = dropout_mask({64, 64}, 0.5f, 3);
  Tensor a = run1(n, {scalar(5)});
  EXPECT_EQ(run1(n, {scalar(5)}).data, a.data);
  // The step is an integer held as a float: it rounds to the nearest.
  EXPECT_EQ(run1(n, {scalar(4.9999f)}).data, a.data);
  auto differing = [&](const Tensor &b) {
    size_t count = 0;
    for (size_t i = 0; i < a.data.size(); ++i)
      count += a.data[i] != b.data[i];
    return count;
  };
  // Independent masks differ in about half of the 4096 elements.
  EXPECT_GT(differing(run1(n, {scalar(6)})), 1500u);
  EXPECT_GT(differing(run1(dropout_mask({64, 64}, 0.5f, 4), {scalar(5)})), 1500u);
}

TEST(RefDropoutMask, RatioZeroKeepsEverything) {
  Tensor mask = run1(dropout_mask({10, 10}, 0.f, 1), {scalar(0)});
  EXPECT_EQ(mask.data, std::vector<float>(100, 1.f));
}

// --- BatchNormTrain and BatchNormGrad ----------------------------------------

Node batch_norm_train(float epsilon, float momentum) {
  Node n = make_node(OpKind::BatchNormTrain, 5);
  n.attrs.set("epsilon", epsilon);
  n.attrs.set("momentum", momentum);
  return n;
}

Node batch_norm_grad(float epsilon) {
  Node n = make_node(OpKind::BatchNormGrad, 3);
  n.attrs.set("epsilon", epsilon);
  return n;
}

TEST(RefBatchNormTrain, HandChecked) {
  // Channel 0 holds 0, 2, 4, 6: mean 3, variance 5, 1/sqrt(5 + 4) = 1/3.
  // Channel 1 holds 1 four times: mean 1, variance 0, 1/sqrt(0 + 4) = 1/2.
  Tensor x = tensor({2, 2, 1, 2}, {0, 2, 1, 1, 4, 6, 1, 1});
  std::vector<Tensor> out =
      run(batch_norm_train(4.f, 0.9f),
          {x, tensor({2}, {3, 2}), tensor({2}, {1, -1}), tensor({2}, {1, 0}), tensor({2}, {2, 1})});
  ASSERT_EQ(out.size(), 5u);
  expect_tensor(out[0], {2, 2, 1, 2}, {-2, 0, -1, -1, 2, 4, -1, -1});
  expect_tensor(out[1], {2}, {1.2f, 0.1f});
  expect_tensor(out[2], {2}, {2.3f, 0.9f});
  expect_tensor(out[3], {2}, {3, 1});
  expect_tensor(out[4], {2}, {1.f / 3, 0.5f});
}

TEST(RefBatchNormTrain, MatchesDirectComputation) {
  std::mt19937 rng(2);
  const int64_t batch = 3, channels = 4, inner = 6;
  Tensor x = uniform({batch, channels, 2, 3}, rng, -2.f, 5.f);
  Tensor scale = uniform({channels}, rng, 0.5f, 2.f), shift = uniform({channels}, rng, -1.f, 1.f);
  Tensor mean = uniform({channels}, rng, -1.f, 1.f), var = uniform({channels}, rng, 0.5f, 2.f);
  float epsilon = 1e-3f, momentum = 0.8f;
  std::vector<Tensor> out = run(batch_norm_train(epsilon, momentum), {x, scale, shift, mean, var});
  ASSERT_EQ(out.size(), 5u);
  for (int64_t c = 0; c < channels; ++c) {
    auto at = [&](int64_t n, int64_t i) {
      return static_cast<size_t>((n * channels + c) * inner + i);
    };
    double sum = 0, squares = 0;
    for (int64_t n = 0; n < batch; ++n)
      for (int64_t i = 0; i < inner; ++i)
        sum += x.data[at(n, i)];
    double m = sum / (batch * inner);
    for (int64_t n = 0; n < batch; ++n)
      for (int64_t i = 0; i < inner; ++i)
        squares += (x.data[at(n, i)] - m) * (x.data[at(n, i)] - m);
    double v = squares / (batch * inner), inv_std = 1 / std::sqrt(v + epsilon);
    for (int64_t n = 0; n < batch; ++n)
      for (int64_t i = 0; i < inner; ++i)
        EXPECT_NEAR(out[0].data[at(n, i)],
                    scale.data[c] * (x.data[at(n, i)] - m) * inv_std + shift.data[c], 1e-5);
    EXPECT_NEAR(out[1].data[c], mean.data[c] * momentum + m * (1 - momentum), 1e-5);
    EXPECT_NEAR(out[2].data[c], var.data[c] * momentum + v * (1 - momentum), 1e-5);
    EXPECT_NEAR(out[3].data[c], m, 1e-6);
    EXPECT_NEAR(out[4].data[c], inv_std, 1e-6);
  }
}

TEST(RefBatchNormTrain, RunningStatisticsUpdateInPlace) {
  std::mt19937 rng(3);
  std::vector<Tensor> in = {uniform({2, 3, 4}, rng, -1.f, 1.f), uniform({3}, rng, -1.f, 1.f),
                            uniform({3}, rng, -1.f, 1.f), uniform({3}, rng, -1.f, 1.f),
                            uniform({3}, rng, 0.1f, 1.f)};
  Node n = batch_norm_train(1e-5f, 0.9f);
  std::vector<Tensor> want = run(n, in);
  ASSERT_EQ(want.size(), 5u);

  std::vector<Tensor> got = {Tensor(want[0].type), in[3], in[4], Tensor(want[3].type),
                             Tensor(want[4].type)};
  OutViews out;
  for (Tensor &t : got)
    out.push_back(OutView{t.data.data(), t.type.shape});
  InViews views = in_views(in);
  views[3].data = got[1].data.data();
  views[4].data = got[2].data.data();
  ref_BatchNormTrain(n.attrs, views, out);
  for (size_t k = 0; k < 5; ++k)
    EXPECT_EQ(got[k].data, want[k].data) << "output " << k;
}

TEST(RefBatchNormGrad, ConstantGradientCancelsThroughTheMean) {
  // dY = 2 everywhere: shifting every x of a channel leaves y unchanged, so dX = 0;
  // dB = 2 * 4 values; dscale = 2 * sum(xhat) = 0.
  Tensor x = tensor({2, 1, 1, 2}, {0, 2, 4, 6});
  std::vector<Tensor> out =
      run(batch_norm_grad(4.f), {x, tensor({1}, {3}), tensor({1}, {3}), tensor({1}, {1.f / 3}),
                                 tensor({2, 1, 1, 2}, {2, 2, 2, 2})});
  ASSERT_EQ(out.size(), 3u);
  expect_tensor(out[0], {2, 1, 1, 2}, {0, 0, 0, 0});
  expect_tensor(out[1], {1}, {0});
  expect_tensor(out[2], {1}, {8});
}

TEST(RefBatchNormGrad, ScaleAndShiftGradients) {
  // xhat = (x - 3) / 3 = -1, -1/3, 1/3, 1 and dY = 1, 0, 0, 2: dscale = -1 + 2 = 1, dB = 3.
  Tensor x = tensor({4, 1}, {0, 2, 4, 6});
  std::vector<Tensor> out =
      run(batch_norm_grad(4.f), {x, tensor({1}, {1}), tensor({1}, {3}), tensor({1}, {1.f / 3}),
                                 tensor({4, 1}, {1, 0, 0, 2})});
  ASSERT_EQ(out.size(), 3u);
  expect_tensor(out[1], {1}, {1});
  expect_tensor(out[2], {1}, {3});
  // dX = 1/3 / 4 * (4 dY - 3 - xhat): (4 - 3 + 1) / 12, (0 - 3 + 1/3) / 12, ...
  expect_tensor(out[0], {4, 1}, {2.f / 12, -8.f / 36, -10.f / 36, 4.f / 12});
}

TEST(RefGradients, BatchNorm) {
  std::mt19937 rng(4);
  Node train = batch_norm_train(1e-2f, 0.9f);
  std::vector<Tensor> in = {uniform({3, 2, 2, 3}, rng, -2.f, 2.f), uniform({2}, rng, 0.5f, 2.f),
                            uniform({2}, rng, -1.f, 1.f), uniform({2}, rng, -1.f, 1.f),
                            uniform({2}, rng, 0.5f, 2.f)};
  std::vector<Tensor> saved = run(train, in);
  ASSERT_EQ(saved.size(), 5u);
  check_gradients(
      forward_of(train), in, {0, 1, 2},
      [&](const Tensor &r) {
        return run(batch_norm_grad(1e-2f), {in[0], in[1], saved[3], saved[4], r});
      },
      rng);
}

// --- ReduceSum ---------------------------------------------------------------

Node reduce_sum(Ints axes, int64_t keepdims) {
  Node n = make_node(OpKind::ReduceSum);
  n.attrs.set("axes", std::move(axes));
  n.attrs.set("keepdims", keepdims);
  return n;
}

TEST(RefReduceSum, HandChecked) {
  Tensor x = iota({2, 3});
  expect_tensor(run1(reduce_sum({1}, 0), {x}), {2}, {6, 15});
  expect_tensor(run1(reduce_sum({0}, 1), {x}), {1, 3}, {5, 7, 9});
  expect_tensor(run1(reduce_sum({0, 1}, 0), {x}), {}, {21});
  expect_tensor(run1(reduce_sum({0, 1}, 1), {x}), {1, 1}, {21});
  expect_tensor(run1(reduce_sum({}, 0), {x}), {2, 3}, {1, 2, 3, 4, 5, 6});
  expect_tensor(run1(reduce_sum({}, 0), {scalar(4)}), {}, {4});
}

TEST(RefReduceSum, EveryAxisSetMatchesDirectSum) {
  std::mt19937 rng(5);
  Shape shape = {2, 3, 4, 5};
  Tensor x = uniform(shape, rng, -1.f, 1.f);
  for (Ints axes : {Ints{0}, Ints{1}, Ints{3}, Ints{0, 2}, Ints{1, 3}, Ints{0, 1, 2}, Ints{2, 3},
                    Ints{0, 1, 2, 3}})
    for (int64_t keepdims : {0, 1}) {
      SCOPED_TRACE(shape_string(axes) + " keepdims " + std::to_string(keepdims));
      Shape kept = shape, dropped;
      for (int64_t a : axes)
        kept[static_cast<size_t>(a)] = 1;
      for (size_t d = 0; d < shape.size(); ++d)
        if (std::find(axes.begin(), axes.end(), static_cast<int64_t>(d)) == axes.end())
          dropped.push_back(shape[d]);
      // The direct sum: each element adds into the output at its index with
      // the reduced axes set to 0.
      std::vector<double> want(static_cast<size_t>(TensorType{DType::F32, kept}.numel()), 0.0);
      for (int64_t i = 0; i < 120; ++i) {
        int64_t rest = i, at = 0, stride = 1;
        for (size_t d = shape.size(); d-- > 0;) {
          int64_t index = rest % shape[d];
          rest /= shape[d];
          at += (kept[d] == 1 ? 0 : index) * stride;
          stride *= kept[d];
        }
        want[static_cast<size_t>(at)] += x.data[static_cast<size_t>(i)];
      }
      expect_tensor(run1(reduce_sum(axes, keepdims), {x}), keepdims ? kept : dropped,
                    std::vector<float>(want.begin(), want.end()));
    }
}

// --- ActivationGrad ----------------------------------------------------------

Node activation_grad(const std::string &activation, float min = 0.f, float max = 0.f) {
  Node n = make_node(OpKind::ActivationGrad);
  n.attrs.set("activation", activation);
  if (activation == "Clip") {
    n.attrs.set("activation_min", min);
    n.attrs.set("activation_max", max);
  }
  return n;
}

TEST(RefActivationGrad, SlopeFromTheOutput) {
  expect_tensor(run1(activation_grad("Relu"), {tensor({3}, {1, 2, 3}), tensor({3}, {0, 2, 0.5f})}),
                {3}, {0, 2, 3});
  expect_tensor(run1(activation_grad("Sigmoid"), {tensor({2}, {2, 4}), tensor({2}, {0.5f, 0.25f})}),
                {2}, {0.5f, 0.75f});
  expect_tensor(run1(activation_grad("Tanh"), {tensor({2}, {2, 1}), tensor({2}, {0.5f, 0})}), {2},
                {1.5f, 1});
  // Clip passes the gradient only strictly inside (min, max).
  expect_tensor(
      run1(activation_grad("Clip", -1, 1), {tensor({3}, {5, 5, 5}), tensor({3}, {-1, 0.3f, 1})}),
      {3}, {0, 5, 0});
}

TEST(RefGradients, Activations) {
  std::mt19937 rng(6);
  // Inputs at least 0.1 away from Relu's and Clip(-1, 1)'s kinks.
  Tensor x = uniform({3, 7}, rng, -2.f, 2.f, [](float v) {
    return std::abs(v) < 0.1f || std::abs(std::abs(v) - 1) < 0.1f;
  });
  for (const char *name : {"Relu", "Sigmoid", "Tanh", "Clip"}) {
    SCOPED_TRACE(name);
    Node forward = make_node(*op_from_name(name));
    if (forward.op == OpKind::Clip) {
      forward.attrs.set("min", -1.f);
      forward.attrs.set("max", 1.f);
    }
    Tensor y = run1(forward, {x});
    check_gradients(
        forward_of(forward), {x}, {0},
        [&](const Tensor &r) {
          return std::vector<Tensor>{run1(activation_grad(name, -1, 1), {r, y})};
        },
        rng);
  }
}

// --- Conv gradients ----------------------------------------------------------

void set_conv(Node &n, Ints kernel, Ints strides, Ints pads, Ints dilations, int64_t group) {
  set_window(n, std::move(kernel), std::move(strides), std::move(pads), std::move(dilations));
  n.attrs.set("group", group);
}

TEST(RefConvGradInput, EachInputGetsTheWeightsThatReadIt) {
  Node n = make_node(OpKind::ConvGradInput);
  set_conv(n, {2, 2}, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1);
  n.attrs.set("input_shape", Ints{1, 1, 3, 3});
  Tensor dx = run1(n, {tensor({1, 1, 2, 2}, {1, 1, 1, 1}), tensor({1, 1, 2, 2}, {1, 2, 3, 4})});
  expect_tensor(dx, {1, 1, 3, 3}, {1, 3, 2, 4, 10, 6, 3, 7, 4});
}

TEST(RefConvGradInput, InputsNoWindowReadsGetZero) {
  // Width 5, 1x1 kernel, stride 3: only columns 0 and 3 are read.
  Node n = make_node(OpKind::ConvGradInput);
  set_conv(n, {1, 1}, {1, 3}, {0, 0, 0, 0}, {1, 1}, 1);
  n.attrs.set("input_shape", Ints{1, 1, 1, 5});
  Tensor dx = run1(n, {tensor({1, 1, 1, 2}, {5, 7}), tensor({1, 1, 1, 1}, {2})});
  expect_tensor(dx, {1, 1, 1, 5}, {10, 0, 0, 14, 0});
}

TEST(RefConvGradInput, GroupsReadTheirOwnChannels) {
  // Two groups of one channel and one map: map m belongs to channel m.
  Node n = make_node(OpKind::ConvGradInput);
  set_conv(n, {1, 1}, {1, 1}, {0, 0, 0, 0}, {1, 1}, 2);
  n.attrs.set("input_shape", Ints{1, 2, 1, 1});
  Tensor dx = run1(n, {tensor({1, 2, 1, 1}, {1, 10}), tensor({2, 1, 1, 1}, {2, 3})});
  expect_tensor(dx, {1, 2, 1, 1}, {2, 30});
}

TEST(RefConvGradWeight, WindowSumsOfTheInput) {
  Node n = make_node(OpKind::ConvGradWeight);
  set_conv(n, {2, 2}, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1);
  Tensor dw = run1(n, {iota({1, 1, 3, 3}), tensor({1, 1, 2, 2}, {1, 1, 1, 1})});
  expect_tensor(dw, {1, 1, 2, 2}, {12, 16, 24, 28});
  // Batch elements add: a second image of 1..9 with dY = 2 triples the sums.
  Tensor x2 = iota({2, 1, 3, 3});
  for (size_t i = 9; i < 18; ++i)
    x2.data[i] -= 9;
  expect_tensor(run1(n, {x2, tensor({2, 1, 2, 2}, {1, 1, 1, 1, 2, 2, 2, 2})}), {1, 1, 2, 2},
                {36, 48, 72, 84});
}

struct ConvCase {
  const char *name;
  Shape x, w;
  Ints strides, pads, dilations;
  int64_t group;
};

const ConvCase kConvCases[] = {
    {"plain", {2, 3, 5, 5}, {4, 3, 3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1},
    {"grouped, stride 2, pads, dilation 2",
     {2, 4, 9, 8},
     {6, 2, 3, 2},
     {2, 2},
     {1, 2, 2, 1},
     {2, 2},
     2},
    {"stride 3 skips inputs", {1, 2, 7, 7}, {2, 2, 2, 2}, {3, 3}, {0, 0, 0, 0}, {1, 1}, 1},
};

TEST(RefGradients, Conv) {
  std::mt19937 rng(7);
  for (const ConvCase &c : kConvCases) {
    SCOPED_TRACE(c.name);
    Node conv = make_node(OpKind::Conv);
    set_conv(conv, {c.w[2], c.w[3]}, c.strides, c.pads, c.dilations, c.group);
    Node grad_input = make_node(OpKind::ConvGradInput),
         grad_weight = make_node(OpKind::ConvGradWeight);
    grad_input.attrs = grad_weight.attrs = conv.attrs;
    grad_input.attrs.set("input_shape", c.x);
    Tensor x = uniform(c.x, rng, -1.f, 1.f), w = uniform(c.w, rng, -1.f, 1.f);
    check_gradients(
        forward_of(conv), {x, w}, {0, 1},
        [&](const Tensor &r) {
          return std::vector<Tensor>{run1(grad_input, {r, w}), run1(grad_weight, {x, r})};
        },
        rng);
  }
}

// --- LRNGrad -----------------------------------------------------------------

TEST(RefLRNGrad, SingleChannelWindow) {
  // size 1, alpha = beta = bias = 1: y = x / (1 + x^2), dy/dx = (1 - x^2) / (1 + x^2)^2:
  // -3/25 at x = 2, 1 at x = 0.
  Node n = make_node(OpKind::LRNGrad);
  set_lrn(n, 1, 1.f, 1.f, 1.f);
  Tensor x = tensor({1, 2, 1, 1}, {2, 0});
  Tensor dx = run1(n, {x, tensor({1, 2, 1, 1}, {0.4f, 0}), tensor({1, 2, 1, 1}, {1, 3})});
  expect_tensor(dx, {1, 2, 1, 1}, {-0.12f, 3});
}

TEST(RefGradients, LRN) {
  std::mt19937 rng(8);
  for (int64_t size : {2, 3, 4, 5}) {
    SCOPED_TRACE(size);
    Node forward = make_node(OpKind::LRN), grad = make_node(OpKind::LRNGrad);
    // A large alpha, so the other channels' terms matter.
    set_lrn(forward, size, 2.f, 0.75f, 1.5f);
    grad.attrs = forward.attrs;
    Tensor x = uniform({2, 6, 2, 3}, rng, -2.f, 2.f);
    Tensor y = run1(forward, {x});
    check_gradients(
        forward_of(forward), {x}, {0},
        [&](const Tensor &r) {
          return std::vector<Tensor>{run1(grad, {x, y, r})};
        },
        rng);
  }
}

// --- Pool gradients ----------------------------------------------------------

Node pool(OpKind op, Ints kernel, Ints strides, Ints pads, int64_t ceil_mode,
          Ints dilations = {1, 1}) {
  Node n = make_node(op);
  set_window(n, std::move(kernel), std::move(strides), std::move(pads), std::move(dilations));
  n.attrs.set("ceil_mode", ceil_mode);
  return n;
}

TEST(RefMaxPoolGrad, TiesGoToTheFirstTap) {
  Tensor x = tensor({1, 1, 3, 3}, std::vector<float>(9, 5.f));
  Tensor dx = run1(pool(OpKind::MaxPoolGrad, {2, 2}, {1, 1}, {0, 0, 0, 0}, 0),
                   {x, tensor({1, 1, 2, 2}, {1, 2, 3, 4})});
  expect_tensor(dx, {1, 1, 3, 3}, {1, 2, 0, 3, 4, 0, 0, 0, 0});
}

TEST(RefMaxPoolGrad, OverlappingWindowsAddAndPaddingIsNeverChosen) {
  // All inputs negative: a padding tap counted as 0 would win.
  Tensor x = tensor({1, 1, 2, 2}, {-1, -2, -3, -4});
  Tensor dx = run1(pool(OpKind::MaxPoolGrad, {2, 2}, {1, 1}, {1, 1, 1, 1}, 0),
                   {x, tensor({1, 1, 3, 3}, std::vector<float>(9, 1.f))});
  expect_tensor(dx, {1, 1, 2, 2}, {4, 2, 2, 1});
}

Node average_pool_grad(Ints kernel, Ints strides, Ints pads, int64_t ceil_mode,
                       int64_t count_include_pad, Shape input_shape) {
  Node n = pool(OpKind::AveragePoolGrad, std::move(kernel), std::move(strides), std::move(pads),
                ceil_mode);
  n.attrs.set("count_include_pad", count_include_pad);
  n.attrs.set("input_shape", std::move(input_shape));
  return n;
}

TEST(RefAveragePoolGrad, DividesByTheForwardsDivisor) {
  // Row of 5, window 3, stride 2, one leading pad, ceil_mode: windows cover
  // columns -1..1, 1..3 and 3..5 (5 lies past the padded input). Without
  // count_include_pad they divide by 2, 3, 2; with it all by 3.
  Tensor dy = tensor({1, 1, 1, 3}, {1, 1, 1});
  expect_tensor(run1(average_pool_grad({1, 3}, {1, 2}, {0, 1, 0, 0}, 1, 0, {1, 1, 1, 5}), {dy}),
                {1, 1, 1, 5}, {0.5f, 0.5f + 1.f / 3, 1.f / 3, 1.f / 3 + 0.5f, 0.5f});
  expect_tensor(run1(average_pool_grad({1, 3}, {1, 2}, {0, 1, 0, 0}, 1, 1, {1, 1, 1, 5}), {dy}),
                {1, 1, 1, 5}, {1.f / 3, 2.f / 3, 1.f / 3, 2.f / 3, 1.f / 3});
}

struct PoolCase {
  const char *name;
  Shape x;
  Ints kernel, strides, pads;
  int64_t ceil_mode;
  Ints dilations;
};

const PoolCase kPoolCases[] = {
    {"plain 3/2 overlapping", {2, 2, 7, 7}, {3, 3}, {2, 2}, {0, 0, 0, 0}, 0, {1, 1}},
    {"asymmetric pads", {1, 2, 6, 5}, {3, 2}, {2, 1}, {1, 0, 2, 1}, 0, {1, 1}},
    {"ceil_mode past the padded input", {1, 2, 6, 6}, {3, 3}, {2, 2}, {1, 1, 0, 0}, 1, {1, 1}},
    {"dilated", {1, 1, 7, 6}, {2, 2}, {1, 2}, {1, 0, 0, 1}, 0, {2, 2}},
};

TEST(RefGradients, MaxPool) {
  std::mt19937 rng(9);
  for (const PoolCase &c : kPoolCases) {
    SCOPED_TRACE(c.name);
    Node forward = pool(OpKind::MaxPool, c.kernel, c.strides, c.pads, c.ceil_mode, c.dilations);
    Node grad = pool(OpKind::MaxPoolGrad, c.kernel, c.strides, c.pads, c.ceil_mode, c.dilations);
    // Values 0.02 apart, steps of at most 0.006: no window's maximum changes.
    Tensor x = distinct(c.x, rng, 0.02f);
    check_gradients(
        forward_of(forward), {x}, {0},
        [&](const Tensor &r) {
          return std::vector<Tensor>{run1(grad, {x, r})};
        },
        rng, 3e-3f);
  }
}

TEST(RefGradients, AveragePool) {
  std::mt19937 rng(10);
  for (const PoolCase &c : kPoolCases)
    for (int64_t include_pad : {0, 1}) {
      SCOPED_TRACE(std::string(c.name) + ", count_include_pad " + std::to_string(include_pad));
      Node forward =
          pool(OpKind::AveragePool, c.kernel, c.strides, c.pads, c.ceil_mode, c.dilations);
      forward.attrs.set("count_include_pad", include_pad);
      Node grad = forward;
      grad.op = OpKind::AveragePoolGrad;
      grad.attrs.set("input_shape", c.x);
      Tensor x = uniform(c.x, rng, -1.f, 1.f);
      check_gradients(
          forward_of(forward), {x}, {0},
          [&](const Tensor &r) { return std::vector<Tensor>{run1(grad, {r})}; }, rng);
    }
}

// --- Softmax gradients -------------------------------------------------------

Node along(OpKind op, int64_t axis) {
  Node n = make_node(op);
  n.attrs.set("axis", axis);
  return n;
}

TEST(RefSoftmaxGrad, HandChecked) {
  // Y = (1/2, 1/2), dY = (1, 0): sum(dY * Y) = 1/2, dX = Y * (dY - 1/2).
  expect_tensor(
      run1(along(OpKind::SoftmaxGrad, 1), {tensor({1, 2}, {0.5f, 0.5f}), tensor({1, 2}, {1, 0})}),
      {1, 2}, {0.25f, -0.25f});
}

TEST(RefLogSoftmaxGrad, HandChecked) {
  // Y = log(1/4, 3/4), dY = (1, 1): dX = dY - exp(Y) * 2.
  expect_tensor(run1(along(OpKind::LogSoftmaxGrad, 1),
                     {tensor({1, 2}, {std::log(0.25f), std::log(0.75f)}), tensor({1, 2}, {1, 1})}),
                {1, 2}, {0.5f, -0.5f});
}

TEST(RefGradients, Softmax) {
  std::mt19937 rng(11);
  for (OpKind op : {OpKind::Softmax, OpKind::LogSoftmax})
    for (int64_t axis : {0, 1, 2}) {
      SCOPED_TRACE(std::string(op_name(op)) + " axis " + std::to_string(axis));
      Node forward = along(op, axis);
      Node grad = along(op == OpKind::Softmax ? OpKind::SoftmaxGrad : OpKind::LogSoftmaxGrad, axis);
      Tensor x = uniform({2, 4, 3}, rng, -2.f, 2.f);
      Tensor y = run1(forward, {x});
      check_gradients(
          forward_of(forward), {x}, {0},
          [&](const Tensor &r) {
            return std::vector<Tensor>{run1(grad, {y, r})};
          },
          rng);
    }
}

// --- SgdUpdate ---------------------------------------------------------------

Node sgd(float momentum, float weight_decay) {
  Node n = make_node(OpKind::SgdUpdate, 2);
  n.attrs.set("momentum", momentum);
  n.attrs.set("weight_decay", weight_decay);
  return n;
}

TEST(RefSgdUpdate, MomentumAndWeightDecay) {
  // V' = 0.9 V - 0.5 * 0.1 W - 0.1 G; W' = W + V'.
  std::vector<Tensor> out = run(sgd(0.9f, 0.5f), {tensor({2}, {1, -2}), tensor({2}, {0.5f, 0}),
                                                  tensor({2}, {2, 3}), scalar(0.1f)});
  ASSERT_EQ(out.size(), 2u);
  expect_tensor(out[0], {2}, {1.2f, -2.2f});
  expect_tensor(out[1], {2}, {0.2f, -0.2f});
}

TEST(RefSgdUpdate, InPlaceEqualsOutOfPlace) {
  std::mt19937 rng(12);
  std::vector<Tensor> in = {uniform({17, 31}, rng, -1.f, 1.f), uniform({17, 31}, rng, -1.f, 1.f),
                            uniform({17, 31}, rng, -1.f, 1.f), scalar(0.01f)};
  Node n = sgd(0.9f, 5e-4f);
  std::vector<Tensor> want = run(n, in);
  ASSERT_EQ(want.size(), 2u);

  std::vector<Tensor> state = in;
  OutViews out = {OutView{state[0].data.data(), state[0].type.shape},
                  OutView{state[1].data.data(), state[1].type.shape}};
  ref_SgdUpdate(n.attrs, in_views(state), out);
  EXPECT_EQ(state[0].data, want[0].data);
  EXPECT_EQ(state[1].data, want[1].data);
}

} // namespace
} // namespace anet::test
