#pragma once
// Helpers for the reference kernel tests: build a node, run its reference
// kernel on host tensors, compare against hand-computed values.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
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

/// The attributes of LRN and LRNGrad.
inline void set_lrn(Node &n, int64_t size, float alpha, float beta, float bias) {
  n.attrs.set("size", size);
  n.attrs.set("alpha", alpha);
  n.attrs.set("beta", beta);
  n.attrs.set("bias", bias);
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

/// A program with one node: `node` (its input and output ids are ignored)
/// over program inputs of the types of `inputs`, except that the inputs at
/// the indices `params` are weights (Param values named "x<i>"); its outputs
/// are the program's outputs.
inline Graph one_node_program(const Node &node_in, const std::vector<Tensor> &inputs,
                              const std::set<size_t> &params = {}) {
  Graph g;
  g.name = std::string(op_name(node_in.op));
  Node node = node_in;
  node.inputs.clear();
  std::vector<TensorType> in_types;
  for (size_t i = 0; i < inputs.size(); ++i) {
    in_types.push_back(inputs[i].type);
    node.inputs.push_back(g.add_value("x" + std::to_string(i), in_types.back(),
                                      params.count(i) ? ValueKind::Param : ValueKind::Input));
  }
  auto out_types = infer_shapes(node_in, in_types);
  EXPECT_TRUE(out_types.ok()) << out_types.error().message;
  node.outputs.clear();
  for (size_t i = 0; out_types.ok() && i < out_types->size(); ++i)
    node.outputs.push_back(
        g.add_value("y" + std::to_string(i), (*out_types)[i], ValueKind::Activation));
  g.outputs = node.outputs;
  g.add_node(std::move(node));
  return g;
}

} // namespace anet::test
