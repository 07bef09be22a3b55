// Reference kernels of the elementwise and broadcasting binary ops, on small
// hand-checked cases.

#include <limits>

#include "tests/runtime/op_test_util.h"

namespace anet::test {
namespace {

TEST(RefElementwise, Relu) {
  Tensor y = run1(make_node(OpKind::Relu), {tensor({4}, {-1.f, 0.f, 2.5f, -0.f})});
  expect_tensor(y, {4}, {0.f, 0.f, 2.5f, 0.f});
}

TEST(RefElementwise, SigmoidSaturatesWithoutNaN) {
  Tensor y = run1(make_node(OpKind::Sigmoid), {tensor({4}, {0.f, std::log(3.f), -100.f, 100.f})});
  expect_tensor(y, {4}, {0.5f, 0.75f, 0.f, 1.f});
}

TEST(RefElementwise, Tanh) {
  Tensor y = run1(make_node(OpKind::Tanh), {tensor({3}, {0.f, 0.54930614f, -0.54930614f})});
  expect_tensor(y, {3}, {0.f, 0.5f, -0.5f});
}

TEST(RefElementwise, ClipBoundsBothSides) {
  Node n = make_node(OpKind::Clip);
  n.attrs.set("min", -1.f);
  n.attrs.set("max", 2.f);
  expect_tensor(run1(n, {tensor({3}, {-3.f, 0.5f, 5.f})}), {3}, {-1.f, 0.5f, 2.f});
}

TEST(RefElementwise, ClipUnboundedBelow) {
  Node n = make_node(OpKind::Clip);
  n.attrs.set("min", -std::numeric_limits<float>::infinity());
  n.attrs.set("max", 0.f);
  expect_tensor(run1(n, {tensor({3}, {-1e30f, 0.5f, -2.f})}), {3}, {-1e30f, 0.f, -2.f});
}

TEST(RefElementwise, IdentityAndDropoutCopy) {
  expect_tensor(run1(make_node(OpKind::Identity), {iota({2, 2})}), {2, 2}, {1, 2, 3, 4});
  Node dropout = make_node(OpKind::Dropout);
  dropout.attrs.set("ratio", 0.5f);
  expect_tensor(run1(dropout, {iota({2, 2})}), {2, 2}, {1, 2, 3, 4});
}

TEST(RefBinary, AddSameShape) {
  Tensor y = run1(make_node(OpKind::Add), {iota({2, 2}), tensor({2, 2}, {10, 20, 30, 40})});
  expect_tensor(y, {2, 2}, {11, 22, 33, 44});
}

TEST(RefBinary, AddBroadcastsTrailingVector) {
  Tensor y = run1(make_node(OpKind::Add), {iota({2, 3}), tensor({3}, {10, 20, 30})});
  expect_tensor(y, {2, 3}, {11, 22, 33, 14, 25, 36});
}

TEST(RefBinary, AddBroadcastsBothOperands) {
  Tensor y = run1(make_node(OpKind::Add), {tensor({2, 1}, {1, 2}), tensor({1, 3}, {10, 20, 30})});
  expect_tensor(y, {2, 3}, {11, 21, 31, 12, 22, 32});
}

TEST(RefBinary, SubScalar) {
  Tensor y = run1(make_node(OpKind::Sub), {iota({2, 2}), tensor({}, {1})});
  expect_tensor(y, {2, 2}, {0, 1, 2, 3});
  Tensor z = run1(make_node(OpKind::Sub), {tensor({}, {1}), iota({2})});
  expect_tensor(z, {2}, {0, -1});
}

TEST(RefBinary, MulBroadcastsMiddleAxis) {
  // a[2,1,2] * b[3,1] -> [2,3,2]; y[i][j][k] = a[i][0][k] * b[j][0].
  Tensor y = run1(make_node(OpKind::Mul), {iota({2, 1, 2}), tensor({3, 1}, {1, 10, 100})});
  expect_tensor(y, {2, 3, 2}, {1, 2, 10, 20, 100, 200, 3, 4, 30, 40, 300, 400});
}

TEST(RefBinary, Div) {
  Tensor y = run1(make_node(OpKind::Div), {tensor({3}, {1, 2, 3}), tensor({1}, {2})});
  expect_tensor(y, {3}, {0.5f, 1.f, 1.5f});
}

} // namespace
} // namespace anet::test
