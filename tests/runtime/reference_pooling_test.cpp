// Reference kernels of MaxPool, AveragePool and GlobalAveragePool on small
// hand-checked cases: padding, ceil_mode, dilation, count_include_pad.

#include "tests/runtime/op_test_util.h"

namespace anet::test {
namespace {

Node maxpool(std::vector<int64_t> kernel, std::vector<int64_t> strides, std::vector<int64_t> pads,
             int64_t ceil_mode = 0, std::vector<int64_t> dilations = {1, 1}) {
  Node n = make_node(OpKind::MaxPool);
  set_window(n, std::move(kernel), std::move(strides), std::move(pads), std::move(dilations));
  n.attrs.set("ceil_mode", ceil_mode);
  return n;
}

Node avgpool(std::vector<int64_t> kernel, std::vector<int64_t> strides, std::vector<int64_t> pads,
             int64_t ceil_mode, int64_t count_include_pad) {
  Node n = make_node(OpKind::AveragePool);
  set_window(n, std::move(kernel), std::move(strides), std::move(pads));
  n.attrs.set("ceil_mode", ceil_mode);
  n.attrs.set("count_include_pad", count_include_pad);
  return n;
}

// x = 1..16 as a 4x4 image.
TEST(RefMaxPool, NonOverlapping) {
  expect_tensor(run1(maxpool({2, 2}, {2, 2}, {0, 0, 0, 0}), {iota({1, 1, 4, 4})}), {1, 1, 2, 2},
                {6, 8, 14, 16});
}

TEST(RefMaxPool, PaddingNeverWins) {
  // All inputs negative: zero padding would show up as 0.
  Tensor y = run1(maxpool({2, 2}, {1, 1}, {1, 1, 1, 1}), {tensor({1, 1, 2, 2}, {-1, -2, -3, -4})});
  expect_tensor(y, {1, 1, 3, 3}, {-1, -1, -2, -1, -1, -2, -3, -3, -4});
}

TEST(RefMaxPool, CeilModeAddsAClippedWindow) {
  // Floor mode gives 1x1; ceil mode adds windows starting at row/col 2.
  Tensor y = run1(maxpool({3, 3}, {2, 2}, {0, 0, 0, 0}, 1), {iota({1, 1, 4, 4})});
  expect_tensor(y, {1, 1, 2, 2}, {11, 12, 15, 16});
}

TEST(RefMaxPool, DilationSkipsTaps) {
  // x[1][1] = 100 is only a tap of the window at (1,1).
  Tensor x = iota({1, 1, 4, 4});
  x.data[5] = 100;
  Tensor y = run1(maxpool({2, 2}, {1, 1}, {0, 0, 0, 0}, 0, {2, 2}), {x});
  expect_tensor(y, {1, 1, 2, 2}, {11, 12, 15, 100});
}

TEST(RefAveragePool, NonOverlapping) {
  Tensor y = run1(avgpool({2, 2}, {2, 2}, {0, 0, 0, 0}, 0, 0), {iota({2, 1, 4, 4})});
  expect_tensor(y, {2, 1, 2, 2}, {3.5f, 5.5f, 11.5f, 13.5f, 19.5f, 21.5f, 27.5f, 29.5f});
}

// x = 1..9 as a 3x3 image, 3x3 window, stride 1, pads 1: window sums are
// 12 21 16 / 27 45 33 / 24 39 28 over 4 6 4 / 6 9 6 / 4 6 4 input elements.
TEST(RefAveragePool, PadsExcludedFromCount) {
  Tensor y = run1(avgpool({3, 3}, {1, 1}, {1, 1, 1, 1}, 0, 0), {iota({1, 1, 3, 3})});
  expect_tensor(y, {1, 1, 3, 3}, {3, 3.5f, 4, 4.5f, 5, 5.5f, 6, 6.5f, 7});
}

TEST(RefAveragePool, CountIncludePad) {
  Tensor y = run1(avgpool({3, 3}, {1, 1}, {1, 1, 1, 1}, 0, 1), {iota({1, 1, 3, 3})});
  std::vector<float> sums = {12, 21, 16, 27, 45, 33, 24, 39, 28};
  for (float &s : sums)
    s /= 9;
  expect_tensor(y, {1, 1, 3, 3}, sums);
}

TEST(RefAveragePool, CeilModeWindowPastThePadsDividesByTheKernel) {
  // Row [1..5], window 3, stride 2, one pad at the start: windows cover
  // columns -1..1, 1..3 and 3..5; column 5 lies past the padded input. With
  // count_include_pad the last window still divides by 3, as ONNX's
  // reference evaluator and ONNX Runtime do (PyTorch would give 4.5).
  Tensor x = iota({1, 1, 1, 5});
  expect_tensor(run1(avgpool({1, 3}, {1, 2}, {0, 1, 0, 0}, 1, 1), {x}), {1, 1, 1, 3}, {1, 3, 3});
  expect_tensor(run1(avgpool({1, 3}, {1, 2}, {0, 1, 0, 0}, 1, 0), {x}), {1, 1, 1, 3},
                {1.5f, 3, 4.5f});
}

TEST(RefGlobalAveragePool, MeanPerChannel) {
  Tensor y = run1(make_node(OpKind::GlobalAveragePool), {iota({1, 2, 2, 2})});
  expect_tensor(y, {1, 2, 1, 1}, {2.5f, 6.5f});
}

} // namespace
} // namespace anet::test
