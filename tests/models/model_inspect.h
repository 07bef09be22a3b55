#pragma once
// Helpers the model tests share: look up initializers, nodes and attributes
// in a ModelProto, decode raw float data, count parameters, run ONNX's shape
// inference and compute sample moments.

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include "models/alexnet.h"

namespace anet::models::testing {

/// Builds `name`, failing the test (and returning an empty model) on error.
inline onnx::ModelProto build_or_fail(const std::string &name, const BuildOptions &opts = {}) {
  Expected<onnx::ModelProto> m = build_model(name, opts);
  EXPECT_TRUE(m.ok()) << name << ": " << m.error().message;
  if (!m.ok())
    return {};
  return std::move(m).value();
}

/// The initializer called `name`, or nullptr.
inline const onnx::TensorProto *find_initializer(const onnx::ModelProto &m,
                                                 const std::string &name) {
  for (const onnx::TensorProto &t : m.graph().initializer())
    if (t.name() == name)
      return &t;
  return nullptr;
}

/// The node that writes value `output`, or nullptr.
inline const onnx::NodeProto *find_producer(const onnx::ModelProto &m, const std::string &output) {
  for (const onnx::NodeProto &n : m.graph().node())
    for (const std::string &o : n.output())
      if (o == output)
        return &n;
  return nullptr;
}

/// The nodes of type `op_type`, in graph order.
inline std::vector<const onnx::NodeProto *> nodes_of_type(const onnx::ModelProto &m,
                                                          const std::string &op_type) {
  std::vector<const onnx::NodeProto *> out;
  for (const onnx::NodeProto &n : m.graph().node())
    if (n.op_type() == op_type)
      out.push_back(&n);
  return out;
}

/// The attribute `name` of `node`, or nullptr.
inline const onnx::AttributeProto *find_attr(const onnx::NodeProto &node, const std::string &name) {
  for (const onnx::AttributeProto &a : node.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

/// Integer-list attribute as a vector (empty when absent).
inline std::vector<int64_t> ints_attr(const onnx::NodeProto &node, const std::string &name) {
  const onnx::AttributeProto *a = find_attr(node, name);
  if (!a)
    return {};
  return {a->ints().begin(), a->ints().end()};
}

/// Dimensions of a tensor.
inline std::vector<int64_t> dims(const onnx::TensorProto &t) {
  return {t.dims().begin(), t.dims().end()};
}

/// Number of elements of a tensor.
inline int64_t numel(const onnx::TensorProto &t) {
  int64_t n = 1;
  for (int64_t d : t.dims())
    n *= d;
  return n;
}

/// The values of a float initializer stored as raw_data (as the builders do).
inline std::vector<float> float_values(const onnx::TensorProto &t) {
  EXPECT_EQ(t.data_type(), onnx::TensorProto::FLOAT) << t.name();
  EXPECT_EQ(t.raw_data().size(), static_cast<size_t>(numel(t)) * sizeof(float)) << t.name();
  std::vector<float> v(t.raw_data().size() / sizeof(float));
  std::memcpy(v.data(), t.raw_data().data(), v.size() * sizeof(float));
  return v;
}

/// Trainable parameters: elements of every float initializer of rank >= 1
/// (a scalar such as a Dropout ratio is not a parameter).
inline int64_t parameter_count(const onnx::ModelProto &m) {
  int64_t n = 0;
  for (const onnx::TensorProto &t : m.graph().initializer())
    if (t.data_type() == onnx::TensorProto::FLOAT && t.dims_size() > 0)
      n += numel(t);
  return n;
}

/// The dimensions of `value` in a model that went through
/// with_inferred_shapes() (dim_value, or -1 for a symbolic dimension); empty
/// when nothing was inferred for it.
inline std::vector<int64_t> inferred_dims(const onnx::ModelProto &inferred,
                                          const std::string &value) {
  auto dims_of = [](const onnx::ValueInfoProto &v) {
    std::vector<int64_t> d;
    for (const auto &dim : v.type().tensor_type().shape().dim())
      d.push_back(dim.has_dim_value() ? dim.dim_value() : -1);
    return d;
  };
  for (const onnx::ValueInfoProto &v : inferred.graph().value_info())
    if (v.name() == value)
      return dims_of(v);
  for (const onnx::ValueInfoProto &v : inferred.graph().output())
    if (v.name() == value)
      return dims_of(v);
  return {};
}

/// `m` with ONNX's shape inference applied (value_info filled in).
inline onnx::ModelProto with_inferred_shapes(onnx::ModelProto m) {
  onnx::shape_inference::InferShapes(m);
  return m;
}

/// Product of dimensions (the neurons of one example when the batch is 1).
inline int64_t product(const std::vector<int64_t> &d) {
  int64_t n = 1;
  for (int64_t x : d)
    n *= x;
  return n;
}

/// Sample mean and standard deviation.
struct Moments {
  double mean = 0;
  double std = 0;
};

inline Moments moments(const std::vector<float> &v) {
  double sum = 0, sum_sq = 0;
  for (float x : v) {
    sum += x;
    sum_sq += static_cast<double>(x) * x;
  }
  const double n = static_cast<double>(v.size());
  const double mean = sum / n;
  return {mean, std::sqrt(sum_sq / n - mean * mean)};
}

/// Checks that the weight tensor `name` looks like n samples of N(0, std^2):
/// mean within 5 standard errors of 0, sample deviation within 5 of its
/// standard errors (std / sqrt(2n)) of `std`.
inline void expect_normal_weights(const onnx::ModelProto &m, const std::string &name, double std) {
  const onnx::TensorProto *t = find_initializer(m, name);
  ASSERT_NE(t, nullptr) << name;
  const std::vector<float> v = float_values(*t);
  const Moments mo = moments(v);
  const double n = static_cast<double>(v.size());
  EXPECT_NEAR(mo.mean, 0.0, 5 * std / std::sqrt(n)) << name;
  EXPECT_NEAR(mo.std, std, 5 * std / std::sqrt(2 * n)) << name;
}

/// Checks that every element of the float initializer `name` equals `value`.
inline void expect_filled(const onnx::ModelProto &m, const std::string &name, float value) {
  const onnx::TensorProto *t = find_initializer(m, name);
  ASSERT_NE(t, nullptr) << name;
  const std::vector<float> v = float_values(*t);
  ASSERT_FALSE(v.empty()) << name;
  for (float x : v)
    ASSERT_EQ(x, value) << name;
}

} // namespace anet::models::testing
