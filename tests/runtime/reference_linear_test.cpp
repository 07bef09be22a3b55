// Reference kernels of Conv, Gemm and MatMul on small hand-checked cases.

#include <algorithm>

#include "tests/runtime/op_test_util.h"

namespace anet::test {
namespace {

Node conv(std::vector<int64_t> kernel, std::vector<int64_t> strides, std::vector<int64_t> pads,
          std::vector<int64_t> dilations = {1, 1}, int64_t group = 1) {
  Node n = make_node(OpKind::Conv);
  set_window(n, std::move(kernel), std::move(strides), std::move(pads), std::move(dilations));
  n.attrs.set("group", group);
  return n;
}

Tensor ones(Shape shape) {
  Tensor t(TensorType{DType::F32, std::move(shape)});
  std::fill(t.data.begin(), t.data.end(), 1.f);
  return t;
}

// x = 1..9 as a 3x3 image throughout.
TEST(RefConv, ValidWithBias) {
  Node n = conv({2, 2}, {1, 1}, {0, 0, 0, 0});
  expect_tensor(run1(n, {iota({1, 1, 3, 3}), ones({1, 1, 2, 2})}), {1, 1, 2, 2}, {12, 16, 24, 28});
  expect_tensor(run1(n, {iota({1, 1, 3, 3}), ones({1, 1, 2, 2}), tensor({1}, {1})}), {1, 1, 2, 2},
                {13, 17, 25, 29});
}

TEST(RefConv, AsymmetricPads) {
  // One row of zeros on top, one column on the right.
  Node n = conv({2, 2}, {1, 1}, {1, 0, 0, 1});
  expect_tensor(run1(n, {iota({1, 1, 3, 3}), ones({1, 1, 2, 2})}), {1, 1, 3, 3},
                {3, 5, 3, 12, 16, 9, 24, 28, 15});
}

TEST(RefConv, StridedAndPadded) {
  Node n = conv({3, 3}, {2, 2}, {1, 1, 1, 1});
  expect_tensor(run1(n, {iota({1, 1, 3, 3}), ones({1, 1, 3, 3})}), {1, 1, 2, 2}, {12, 16, 24, 28});
}

TEST(RefConv, Dilation) {
  // Taps at (0,0), (0,2), (2,0), (2,2) weighted 1, 2, 3, 4.
  Node n = conv({2, 2}, {1, 1}, {0, 0, 0, 0}, {2, 2});
  expect_tensor(run1(n, {iota({1, 1, 3, 3}), tensor({1, 1, 2, 2}, {1, 2, 3, 4})}), {1, 1, 1, 1},
                {1 * 1 + 3 * 2 + 7 * 3 + 9 * 4});
}

TEST(RefConv, GroupsReadOnlyTheirChannels) {
  // x channels [1,2,3,4] at 1x1; group 2 with 2 input channels per group:
  // map 0 = 1*x0 + 10*x1, map 1 = 100*x2 + 1000*x3.
  Node n = conv({1, 1}, {1, 1}, {0, 0, 0, 0}, {1, 1}, 2);
  expect_tensor(run1(n, {iota({1, 4, 1, 1}), tensor({2, 2, 1, 1}, {1, 10, 100, 1000})}),
                {1, 2, 1, 1}, {21, 4300});
}

TEST(RefConv, GroupsWithSeveralMapsAndBatch) {
  // Two images, channels x0 = [1..4], x1 = [5..8] (2x2); maps 0,1 read x0,
  // maps 2,3 read x1; bias per map.
  Node n = conv({1, 1}, {1, 1}, {0, 0, 0, 0}, {1, 1}, 2);
  Tensor x = iota({2, 2, 2, 2});
  Tensor y = run1(n, {x, tensor({4, 1, 1, 1}, {1, 2, 3, 4}), tensor({4}, {0, 0, 0, 0.5f})});
  std::vector<float> want;
  for (int img = 0; img < 2; ++img)
    for (int m = 0; m < 4; ++m)
      for (int i = 0; i < 4; ++i)
        want.push_back(static_cast<float>(m + 1) * x.data[img * 8 + (m / 2) * 4 + i] +
                       (m == 3 ? 0.5f : 0.f));
  expect_tensor(y, {2, 4, 2, 2}, want);
}

Node gemm(float alpha, float beta, int64_t trans_a, int64_t trans_b) {
  Node n = make_node(OpKind::Gemm);
  n.attrs.set("alpha", alpha);
  n.attrs.set("beta", beta);
  n.attrs.set("transA", trans_a);
  n.attrs.set("transB", trans_b);
  return n;
}

// A = [[1,2,3],[4,5,6]], B = [[1,0],[0,1],[1,1]]: AB = [[4,5],[10,11]].
const std::vector<float> kA = {1, 2, 3, 4, 5, 6}, kAT = {1, 4, 2, 5, 3, 6};
const std::vector<float> kB = {1, 0, 0, 1, 1, 1}, kBT = {1, 0, 1, 0, 1, 1};

TEST(RefGemm, NoBias) {
  expect_tensor(run1(gemm(1, 1, 0, 0), {tensor({2, 3}, kA), tensor({3, 2}, kB)}), {2, 2},
                {4, 5, 10, 11});
}

TEST(RefGemm, AlphaBetaAndRowBias) {
  Tensor y =
      run1(gemm(2, 0.5f, 0, 0), {tensor({2, 3}, kA), tensor({3, 2}, kB), tensor({2}, {2, 4})});
  expect_tensor(y, {2, 2}, {9, 12, 21, 24});
}

TEST(RefGemm, TransposedOperandsAndColumnBias) {
  Tensor y =
      run1(gemm(1, 1, 1, 1), {tensor({3, 2}, kAT), tensor({2, 3}, kBT), tensor({2, 1}, {1, 2})});
  expect_tensor(y, {2, 2}, {5, 6, 12, 13});
}

TEST(RefGemm, ScalarBias) {
  Tensor y = run1(gemm(1, 1, 0, 1), {tensor({2, 3}, kA), tensor({2, 3}, kBT), tensor({}, {-1})});
  expect_tensor(y, {2, 2}, {3, 4, 9, 10});
}

TEST(RefMatMul, TwoD) {
  expect_tensor(run1(make_node(OpKind::MatMul), {tensor({2, 3}, kA), tensor({3, 2}, kB)}), {2, 2},
                {4, 5, 10, 11});
}

TEST(RefMatMul, VectorOperands) {
  Node n = make_node(OpKind::MatMul);
  expect_tensor(run1(n, {tensor({3}, {1, 2, 3}), tensor({3, 2}, kB)}), {2}, {4, 5});
  expect_tensor(run1(n, {tensor({2, 3}, kA), tensor({3}, {1, 1, 1})}), {2}, {6, 15});
  expect_tensor(run1(n, {tensor({3}, {1, 2, 3}), tensor({3}, {4, 5, 6})}), {}, {32});
}

TEST(RefMatMul, BatchBroadcasting) {
  // A[2,1,2,2] holds I and 2I; B[3,2,2] holds three matrices: Y[i][j] = (i+1) * B[j].
  std::vector<float> b = {1, 2, 3, 4, 0, 1, 1, 0, 1, 1, 1, 1};
  Tensor y = run1(make_node(OpKind::MatMul),
                  {tensor({2, 1, 2, 2}, {1, 0, 0, 1, 2, 0, 0, 2}), tensor({3, 2, 2}, b)});
  std::vector<float> want = b;
  for (float v : b)
    want.push_back(2 * v);
  expect_tensor(y, {2, 3, 2, 2}, want);
}

TEST(RefMatMul, BatchedVectorTimesMatrix) {
  // [3] x [2,3,1]: each batch gives a length-1 row.
  Tensor y = run1(make_node(OpKind::MatMul), {tensor({3}, {1, 2, 3}), iota({2, 3, 1})});
  expect_tensor(y, {2, 1}, {1 * 1 + 2 * 2 + 3 * 3, 1 * 4 + 2 * 5 + 3 * 6});
}

} // namespace
} // namespace anet::test
