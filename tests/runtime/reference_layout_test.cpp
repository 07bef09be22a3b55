// Reference kernels of the data-movement ops on small hand-checked cases:
// Flatten, Reshape, Squeeze, Unsqueeze, Transpose, Concat, Split, Slice, Pad.

#include "tests/runtime/op_test_util.h"

namespace anet::test {
namespace {

TEST(RefLayout, FlattenReshapeSqueezeUnsqueezeKeepRowMajorData) {
  Node flatten = make_node(OpKind::Flatten);
  flatten.attrs.set("axis", int64_t{1});
  expect_tensor(run1(flatten, {iota({2, 1, 2})}), {2, 2}, {1, 2, 3, 4});

  Node reshape = make_node(OpKind::Reshape);
  reshape.attrs.set("shape", std::vector<int64_t>{3, 2});
  expect_tensor(run1(reshape, {iota({2, 3})}), {3, 2}, {1, 2, 3, 4, 5, 6});

  Node squeeze = make_node(OpKind::Squeeze);
  squeeze.attrs.set("axes", std::vector<int64_t>{0, 2});
  expect_tensor(run1(squeeze, {iota({1, 3, 1})}), {3}, {1, 2, 3});

  Node unsqueeze = make_node(OpKind::Unsqueeze);
  unsqueeze.attrs.set("axes", std::vector<int64_t>{0, 2});
  expect_tensor(run1(unsqueeze, {iota({3})}), {1, 3, 1}, {1, 2, 3});
}

TEST(RefTranspose, Matrix) {
  Node n = make_node(OpKind::Transpose);
  n.attrs.set("perm", std::vector<int64_t>{1, 0});
  expect_tensor(run1(n, {iota({2, 3})}), {3, 2}, {1, 4, 2, 5, 3, 6});
}

TEST(RefTranspose, ThreeAxes) {
  // y[k][i][j] = x[i][j][k] with x [2,2,3] = 1..12.
  Node n = make_node(OpKind::Transpose);
  n.attrs.set("perm", std::vector<int64_t>{2, 0, 1});
  expect_tensor(run1(n, {iota({2, 2, 3})}), {3, 2, 2}, {1, 4, 7, 10, 2, 5, 8, 11, 3, 6, 9, 12});
}

TEST(RefConcat, MiddleAxis) {
  Node n = make_node(OpKind::Concat);
  n.attrs.set("axis", int64_t{1});
  Tensor y = run1(n, {tensor({2, 1}, {1, 2}), tensor({2, 2}, {3, 4, 5, 6}), tensor({2, 0}, {})});
  expect_tensor(y, {2, 3}, {1, 3, 4, 2, 5, 6});
}

TEST(RefSplit, UnevenPartsAlongAxis1) {
  Node n = make_node(OpKind::Split, 3);
  n.attrs.set("axis", int64_t{1});
  n.attrs.set("split", std::vector<int64_t>{1, 0, 2});
  std::vector<Tensor> y = run(n, {iota({2, 3})});
  ASSERT_EQ(y.size(), 3u);
  expect_tensor(y[0], {2, 1}, {1, 4});
  expect_tensor(y[1], {2, 0}, {});
  expect_tensor(y[2], {2, 2}, {2, 3, 5, 6});
}

Node slice(std::vector<int64_t> starts, std::vector<int64_t> ends, std::vector<int64_t> steps) {
  Node n = make_node(OpKind::Slice);
  n.attrs.set("starts", std::move(starts));
  n.attrs.set("ends", std::move(ends));
  n.attrs.set("steps", std::move(steps));
  return n;
}

// x [2,4] = 1..8.
TEST(RefSlice, PositiveSteps) {
  expect_tensor(run1(slice({0, 1}, {2, 4}, {1, 2}), {iota({2, 4})}), {2, 2}, {2, 4, 6, 8});
}

TEST(RefSlice, NegativeSteps) {
  // Rows 1, 0 (end -1 is "before the first"), columns 3, 1.
  expect_tensor(run1(slice({1, 3}, {-1, 0}, {-1, -2}), {iota({2, 4})}), {2, 2}, {8, 6, 4, 2});
}

TEST(RefSlice, EmptyResult) {
  expect_tensor(run1(slice({1, 0}, {1, 4}, {1, 1}), {iota({2, 4})}), {0, 4}, {});
}

Node pad(std::vector<int64_t> pads, const std::string &mode, float value = 0.f) {
  Node n = make_node(OpKind::Pad);
  n.attrs.set("pads", std::move(pads));
  n.attrs.set("mode", mode);
  n.attrs.set("value", value);
  return n;
}

TEST(RefPad, ConstantAsymmetric) {
  // One row before, one column after, filled with 9.
  expect_tensor(run1(pad({1, 0, 0, 1}, "constant", 9.f), {iota({2, 2})}), {3, 3},
                {9, 9, 9, 1, 2, 9, 3, 4, 9});
}

TEST(RefPad, ReflectDoesNotRepeatTheBorder) {
  expect_tensor(run1(pad({0, 2, 0, 1}, "reflect"), {iota({1, 3})}), {1, 6}, {3, 2, 1, 2, 3, 2});
}

TEST(RefPad, EdgeRepeatsTheBorder) {
  expect_tensor(run1(pad({0, 2, 0, 1}, "edge"), {iota({1, 3})}), {1, 6}, {1, 1, 1, 2, 3, 3});
}

TEST(RefPad, NegativePadsCrop) {
  // Drop the first column, add two after: as ONNX Runtime computes it.
  Tensor x = iota({1, 5});
  expect_tensor(run1(pad({0, -1, 0, 2}, "constant"), {x}), {1, 6}, {2, 3, 4, 5, 0, 0});
  expect_tensor(run1(pad({0, -1, 0, 2}, "reflect"), {x}), {1, 6}, {2, 3, 4, 5, 4, 3});
  expect_tensor(run1(pad({0, -1, 0, 2}, "edge"), {x}), {1, 6}, {2, 3, 4, 5, 5, 5});
}

TEST(RefPad, TwoAxesReflect) {
  // 2x2 -> 4x4 with one on each side: each border mirrors its neighbour.
  Tensor y = run1(pad({1, 1, 1, 1}, "reflect"), {iota({2, 2})});
  expect_tensor(y, {4, 4}, {4, 3, 4, 3, 2, 1, 2, 1, 4, 3, 4, 3, 2, 1, 2, 1});
}

} // namespace
} // namespace anet::test
