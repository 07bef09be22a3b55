#pragma once
// Helpers for the reference kernel tests: build a node, run its reference
// kernel on host tensors, compare against hand-computed values.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "ir/reference/reference.h"

namespace anet::test {

/// An f32 tensor of `shape` holding `data`.
inline Tensor tensor(Shape shape, std::vector<float> data) {
  return Tensor(TensorType{DType::F32, std::move(shape)}, std::move(data));
}

/// 1, 2, ..., numel(shape) in row-major order.
inline Tensor iota(Shape shape) {
  Tensor t(TensorType{DType::F32, std::move(shape)});
  for (size_t i = 0; i < t.data.size(); ++i)
    t.data[i] = static_cast<float>(i + 1);
  return t;
}

/// A node of kind `op` with `outputs` outputs (attributes set by the caller).
inline Node make_node(OpKind op, size_t outputs = 1) {
  Node n;
  n.op = op;
  n.name = "n";
  for (size_t i = 0; i < outputs; ++i)
    n.outputs.push_back(static_cast<ValueId>(i));
  return n;
}

/// The window attributes of Conv and the pools.
inline void set_window(Node &n, std::vector<int64_t> kernel, std::vector<int64_t> strides,
                       std::vector<int64_t> pads, std::vector<int64_t> dilations = {1, 1}) {
  n.attrs.set("kernel_shape", std::move(kernel));
  n.attrs.set("strides", std::move(strides));
  n.attrs.set("pads", std::move(pads));
  n.attrs.set("dilations", std::move(dilations));
}

/// Runs `node`'s reference kernel; fails the test if the shape rule refuses.
inline std::vector<Tensor> run(const Node &node, const std::vector<Tensor> &inputs) {
  auto out = run_reference(node, inputs);
  if (!out.ok()) {
    ADD_FAILURE() << out.error().message;
    return {};
  }
  return std::move(out).value();
}

/// Runs a single-output node and returns its output.
inline Tensor run1(const Node &node, const std::vector<Tensor> &inputs) {
  std::vector<Tensor> out = run(node, inputs);
  return out.empty() ? Tensor() : std::move(out[0]);
}

/// Checks `got` has `shape` and, element by element, `want` within `tol`.
inline void expect_tensor(const Tensor &got, const Shape &shape, const std::vector<float> &want,
                          float tol = 1e-5f) {
  ASSERT_EQ(got.type.shape, shape);
  ASSERT_EQ(got.data.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(got.data[i], want[i], tol * std::max(1.f, std::abs(want[i])))
        << "element " << i << " of " << shape_string(shape);
}

} // namespace anet::test
