// Reference kernels of BatchNormalization, LRN, Softmax and LogSoftmax on
// small hand-checked cases.

#include <cmath>

#include "tests/runtime/op_test_util.h"

namespace anet::test {
namespace {

TEST(RefBatchNorm, PerChannelAffine) {
  // Channel 0: (x - 1) / sqrt(3.75 + 0.25); channel 1: 2 (x - 3) / sqrt(0 + 0.25) + 1.
  Node n = make_node(OpKind::BatchNormalization);
  n.attrs.set("epsilon", 0.25f);
  Tensor y = run1(n, {iota({1, 2, 1, 2}), tensor({2}, {1, 2}), tensor({2}, {0, 1}),
                      tensor({2}, {1, 3}), tensor({2}, {3.75f, 0})});
  expect_tensor(y, {1, 2, 1, 2}, {0, 0.5f, 1, 5});
}

Node lrn(int64_t size, float alpha, float beta, float bias) {
  Node n = make_node(OpKind::LRN);
  set_lrn(n, size, alpha, beta, bias);
  return n;
}

TEST(RefLRN, OddSizeWindowClippedAtTheEdges) {
  // alpha / size = 1, beta = 1, bias = 1: y_c = x_c / (1 + sum of x_j^2, j = c-1..c+1).
  Tensor y = run1(lrn(3, 3.f, 1.f, 1.f), {iota({1, 5, 1, 1})});
  expect_tensor(y, {1, 5, 1, 1}, {1.f / 6, 2.f / 15, 3.f / 30, 4.f / 51, 5.f / 42});
}

TEST(RefLRN, EvenSizeLooksOneChannelFurtherAhead) {
  // size 2: channels c - floor(1/2) = c .. c + ceil(1/2) = c + 1.
  Tensor y = run1(lrn(2, 2.f, 0.5f, 0.f), {tensor({1, 3, 1, 1}, {3, 4, 1})});
  expect_tensor(y, {1, 3, 1, 1}, {3.f / 5, 4.f / std::sqrt(17.f), 1.f});
}

TEST(RefLRN, PaperConstantsOverSpatialPositions) {
  // AlexNet's k=2, n=5, alpha=1e-4 (ONNX alpha 5e-4), beta=0.75 on two
  // channels of two pixels: every channel sees both.
  Tensor x = tensor({1, 2, 1, 2}, {1, 2, 3, 4});
  Tensor y = run1(lrn(5, 5e-4f, 0.75f, 2.f), {x});
  std::vector<float> want;
  for (int c = 0; c < 2; ++c)
    for (int i = 0; i < 2; ++i) {
      float sq = x.data[i] * x.data[i] + x.data[2 + i] * x.data[2 + i];
      want.push_back(x.data[c * 2 + i] / std::pow(2.f + 1e-4f * sq, 0.75f));
    }
  expect_tensor(y, {1, 2, 1, 2}, want);
}

Node along(OpKind op, int64_t axis) {
  Node n = make_node(op);
  n.attrs.set("axis", axis);
  return n;
}

TEST(RefSoftmax, LastAxis) {
  Tensor x = tensor({2, 3}, {1, 1, 1, 0, std::log(2.f), std::log(5.f)});
  expect_tensor(run1(along(OpKind::Softmax, 1), {x}), {2, 3},
                {1.f / 3, 1.f / 3, 1.f / 3, 0.125f, 0.25f, 0.625f});
}

TEST(RefSoftmax, FirstAxis) {
  Tensor x = tensor({2, 2}, {0, 0, std::log(3.f), 0});
  expect_tensor(run1(along(OpKind::Softmax, 0), {x}), {2, 2}, {0.25f, 0.5f, 0.75f, 0.5f});
}

TEST(RefSoftmax, MiddleAxis) {
  // [1,2,2]: softmax over the pair (x[0][0][i], x[0][1][i]) for each i.
  Tensor x = tensor({1, 2, 2}, {0, std::log(4.f), std::log(3.f), 0});
  expect_tensor(run1(along(OpKind::Softmax, 1), {x}), {1, 2, 2}, {0.25f, 0.8f, 0.75f, 0.2f});
}

TEST(RefSoftmax, LargeInputsStayFinite) {
  expect_tensor(run1(along(OpKind::Softmax, 0), {tensor({2}, {1000, 1000})}), {2}, {0.5f, 0.5f});
}

TEST(RefLogSoftmax, LargeInputsStayFinite) {
  // log_softmax([0,1,2]) = [0,1,2] - log(1 + e + e^2), shifted by +-10000.
  float lse = std::log(1 + std::exp(1.f) + std::exp(2.f));
  std::vector<float> want = {-lse, 1 - lse, 2 - lse};
  expect_tensor(run1(along(OpKind::LogSoftmax, 0), {tensor({3}, {10000, 10001, 10002})}), {3},
                want);
  expect_tensor(run1(along(OpKind::LogSoftmax, 0), {tensor({3}, {-10000, -9999, -9998})}), {3},
                want);
}

TEST(RefLogSoftmax, PerRow) {
  Tensor y = run1(along(OpKind::LogSoftmax, 1), {tensor({2, 2}, {0, 0, 5, 5})});
  float l = std::log(0.5f);
  expect_tensor(y, {2, 2}, {l, l, l, l});
}

} // namespace
} // namespace anet::test
