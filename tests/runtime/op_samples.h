#pragma once
// One small, valid instance of every op of ir/ops.def: a node with canonical
// attributes and input tensors. Used to check that every backend has a
// kernel for every op that runs and agrees with the reference.

#include <cmath>
#include <optional>

#include "tests/runtime/op_test_util.h"

namespace anet::test {

/// A node and inputs it accepts.
struct OpSample {
  Node node;
  std::vector<Tensor> inputs;
};

/// A tensor of `shape` with varied values in [-2, 2] (or (0, 2] if positive).
inline Tensor varied(Shape shape, bool positive = false) {
  Tensor t(TensorType{DType::F32, std::move(shape)});
  for (size_t i = 0; i < t.data.size(); ++i) {
    float v = 2.f * std::sin(static_cast<float>(i) * 1.7f + 0.3f);
    t.data[i] = positive ? std::abs(v) + 0.1f : v;
  }
  return t;
}

/// The sample of `op`; nullopt for an op without one (the test fails).
inline std::optional<OpSample> op_sample(OpKind op) {
  using Ints = std::vector<int64_t>;
  Node n = make_node(op);
  switch (op) {
  case OpKind::Conv:
    set_window(n, {3, 3}, {1, 1}, {1, 1, 1, 1});
    n.attrs.set("group", int64_t{2});
    return OpSample{n, {varied({1, 2, 4, 4}), varied({4, 1, 3, 3}), varied({4})}};
  case OpKind::Gemm:
    n.attrs.set("alpha", 0.5f);
    n.attrs.set("beta", 2.f);
    n.attrs.set("transA", int64_t{0});
    n.attrs.set("transB", int64_t{1});
    return OpSample{n, {varied({2, 3}), varied({4, 3}), varied({4})}};
  case OpKind::MatMul:
    return OpSample{n, {varied({2, 2, 3}), varied({3, 2})}};
  case OpKind::Relu:
  case OpKind::Sigmoid:
  case OpKind::Tanh:
  case OpKind::Identity:
  case OpKind::Transfer:
    return OpSample{n, {varied({2, 3})}};
  case OpKind::Clip:
    n.attrs.set("min", -1.f);
    n.attrs.set("max", 1.f);
    return OpSample{n, {varied({2, 3})}};
  case OpKind::Dropout:
    n.attrs.set("ratio", 0.5f);
    return OpSample{n, {varied({2, 3})}};
  case OpKind::Add:
  case OpKind::Sub:
  case OpKind::Mul:
  case OpKind::Div:
    return OpSample{n, {varied({2, 3}), varied({3}, true)}};
  case OpKind::BatchNormalization:
    n.attrs.set("epsilon", 1e-5f);
    return OpSample{
        n, {varied({1, 2, 2, 2}), varied({2}), varied({2}), varied({2}), varied({2}, true)}};
  case OpKind::LRN:
    n.attrs.set("size", int64_t{3});
    n.attrs.set("alpha", 1e-4f);
    n.attrs.set("beta", 0.75f);
    n.attrs.set("bias", 1.f);
    return OpSample{n, {varied({1, 3, 2, 2})}};
  case OpKind::MaxPool:
    set_window(n, {3, 3}, {2, 2}, {0, 0, 1, 1});
    n.attrs.set("ceil_mode", int64_t{0});
    return OpSample{n, {varied({1, 2, 5, 5})}};
  case OpKind::AveragePool:
    set_window(n, {3, 3}, {2, 2}, {1, 1, 1, 1});
    n.attrs.set("ceil_mode", int64_t{1});
    n.attrs.set("count_include_pad", int64_t{0});
    return OpSample{n, {varied({1, 2, 5, 5})}};
  case OpKind::GlobalAveragePool:
    return OpSample{n, {varied({1, 2, 3, 3})}};
  case OpKind::Softmax:
  case OpKind::LogSoftmax:
    n.attrs.set("axis", int64_t{1});
    return OpSample{n, {varied({2, 3})}};
  case OpKind::Flatten:
    n.attrs.set("axis", int64_t{1});
    return OpSample{n, {varied({2, 3, 2})}};
  case OpKind::Reshape:
    n.attrs.set("shape", Ints{3, 2});
    return OpSample{n, {varied({2, 3})}};
  case OpKind::Squeeze:
    n.attrs.set("axes", Ints{0});
    return OpSample{n, {varied({1, 3})}};
  case OpKind::Unsqueeze:
    n.attrs.set("axes", Ints{1});
    return OpSample{n, {varied({3})}};
  case OpKind::Transpose:
    n.attrs.set("perm", Ints{1, 0});
    return OpSample{n, {varied({2, 3})}};
  case OpKind::Concat:
    n.attrs.set("axis", int64_t{0});
    return OpSample{n, {varied({2, 3}), varied({1, 3})}};
  case OpKind::Split:
    n = make_node(op, 2);
    n.attrs.set("axis", int64_t{1});
    n.attrs.set("split", Ints{1, 3});
    return OpSample{n, {varied({2, 4})}};
  case OpKind::Slice:
    n.attrs.set("starts", Ints{1, 3});
    n.attrs.set("ends", Ints{-1, 0});
    n.attrs.set("steps", Ints{-1, -2});
    return OpSample{n, {varied({2, 4})}};
  case OpKind::Pad:
    n.attrs.set("pads", Ints{1, 1, 1, -1});
    n.attrs.set("mode", std::string("reflect"));
    n.attrs.set("value", 0.f);
    return OpSample{n, {varied({2, 3})}};
  case OpKind::SoftmaxCrossEntropy:
    return OpSample{n, {varied({3, 4}), tensor({3}, {0, 3, 1})}};
  case OpKind::DropoutMask:
    n.attrs.set("shape", Ints{2, 3});
    n.attrs.set("ratio", 0.5f);
    n.attrs.set("seed", int64_t{7});
    return OpSample{n, {tensor({}, {3})}};
  case OpKind::BatchNormTrain:
    n = make_node(op, 5);
    n.attrs.set("epsilon", 1e-5f);
    n.attrs.set("momentum", 0.9f);
    return OpSample{
        n, {varied({2, 2, 2, 2}), varied({2}), varied({2}), varied({2}), varied({2}, true)}};
  case OpKind::ReduceSum:
    n.attrs.set("axes", Ints{0, 2});
    n.attrs.set("keepdims", int64_t{1});
    return OpSample{n, {varied({2, 3, 2})}};
  case OpKind::ActivationGrad:
    n.attrs.set("activation", std::string("Clip"));
    n.attrs.set("activation_min", -1.f);
    n.attrs.set("activation_max", 1.f);
    return OpSample{n, {varied({2, 3}), varied({2, 3})}};
  case OpKind::ConvGradInput:
    set_window(n, {3, 3}, {1, 1}, {1, 1, 1, 1});
    n.attrs.set("group", int64_t{2});
    n.attrs.set("input_shape", Ints{1, 2, 4, 4});
    return OpSample{n, {varied({1, 4, 4, 4}), varied({4, 1, 3, 3})}};
  case OpKind::ConvGradWeight:
    set_window(n, {3, 3}, {1, 1}, {1, 1, 1, 1});
    n.attrs.set("group", int64_t{2});
    return OpSample{n, {varied({1, 2, 4, 4}), varied({1, 4, 4, 4})}};
  case OpKind::LRNGrad:
    n.attrs.set("size", int64_t{3});
    n.attrs.set("alpha", 1e-4f);
    n.attrs.set("beta", 0.75f);
    n.attrs.set("bias", 1.f);
    return OpSample{n, {varied({1, 3, 2, 2}), varied({1, 3, 2, 2}), varied({1, 3, 2, 2})}};
  case OpKind::MaxPoolGrad:
    set_window(n, {3, 3}, {2, 2}, {0, 0, 1, 1});
    n.attrs.set("ceil_mode", int64_t{0});
    return OpSample{n, {varied({1, 2, 5, 5}), varied({1, 2, 2, 2})}};
  case OpKind::AveragePoolGrad:
    set_window(n, {3, 3}, {2, 2}, {1, 1, 1, 1});
    n.attrs.set("ceil_mode", int64_t{1});
    n.attrs.set("count_include_pad", int64_t{0});
    n.attrs.set("input_shape", Ints{1, 2, 5, 5});
    return OpSample{n, {varied({1, 2, 3, 3})}};
  case OpKind::SoftmaxGrad:
  case OpKind::LogSoftmaxGrad:
    n.attrs.set("axis", int64_t{1});
    return OpSample{n, {varied({2, 3}), varied({2, 3})}};
  case OpKind::SoftmaxCrossEntropyGrad:
    return OpSample{n, {varied({3, 4}), tensor({3}, {0, 3, 1}), tensor({}, {1})}};
  case OpKind::BatchNormGrad:
    n = make_node(op, 3);
    n.attrs.set("epsilon", 1e-5f);
    return OpSample{
        n,
        {varied({2, 2, 2, 2}), varied({2}), varied({2}), varied({2}, true), varied({2, 2, 2, 2})}};
  case OpKind::SgdUpdate:
    n = make_node(op, 2);
    n.attrs.set("momentum", 0.9f);
    n.attrs.set("weight_decay", 5e-4f);
    return OpSample{n, {varied({2, 3}), varied({2, 3}), varied({2, 3}), tensor({}, {0.01f})}};
  }
  return std::nullopt;
}

} // namespace anet::test
