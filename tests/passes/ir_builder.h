#pragma once
// Builds IR graphs for pass tests directly, without ONNX: layers append
// nodes with canonical attributes and typed outputs.

#include <string>

#include "ir/graph.h"

namespace anet::testing {

class IrBuilder {
public:
  explicit IrBuilder(std::string name) { g_.name = std::move(name); }

  ValueId input(const std::string &name, Shape shape) {
    return g_.add_value(name, TensorType{DType::F32, std::move(shape)}, ValueKind::Input);
  }
  ValueId param(const std::string &name, Shape shape) {
    return g_.add_value(name, TensorType{DType::F32, std::move(shape)}, ValueKind::Param);
  }

  ValueId conv(const std::string &name, ValueId x, int64_t out_channels, int64_t k, int64_t stride,
               int64_t pad, int64_t group) {
    int64_t cin = g_.type(x).shape[1];
    ValueId w = param(name + ".weight", {out_channels, cin / group, k, k});
    ValueId b = param(name + ".bias", {out_channels});
    Attrs a;
    a.set("kernel_shape", std::vector<int64_t>{k, k});
    a.set("strides", std::vector<int64_t>{stride, stride});
    a.set("pads", std::vector<int64_t>{pad, pad, pad, pad});
    a.set("dilations", std::vector<int64_t>{1, 1});
    a.set("group", group);
    return node(OpKind::Conv, name, {x, w, b}, a);
  }
  ValueId relu(const std::string &name, ValueId x) { return node(OpKind::Relu, name, {x}, {}); }
  ValueId lrn(const std::string &name, ValueId x) {
    Attrs a;
    a.set("size", int64_t{5});
    a.set("alpha", 5e-4f);
    a.set("beta", 0.75f);
    a.set("bias", 2.f);
    return node(OpKind::LRN, name, {x}, a);
  }
  ValueId maxpool(const std::string &name, ValueId x) {
    Attrs a;
    a.set("kernel_shape", std::vector<int64_t>{3, 3});
    a.set("strides", std::vector<int64_t>{2, 2});
    a.set("pads", std::vector<int64_t>{0, 0, 0, 0});
    a.set("dilations", std::vector<int64_t>{1, 1});
    a.set("ceil_mode", int64_t{0});
    return node(OpKind::MaxPool, name, {x}, a);
  }
  ValueId flatten(const std::string &name, ValueId x) {
    Attrs a;
    a.set("axis", int64_t{1});
    return node(OpKind::Flatten, name, {x}, a);
  }
  ValueId gemm(const std::string &name, ValueId x, int64_t out) {
    ValueId w = param(name + ".weight", {out, g_.type(x).shape[1]});
    ValueId b = param(name + ".bias", {out});
    Attrs a;
    a.set("alpha", 1.f);
    a.set("beta", 1.f);
    a.set("transA", int64_t{0});
    a.set("transB", int64_t{1});
    return node(OpKind::Gemm, name, {x, w, b}, a);
  }
  ValueId dropout(const std::string &name, ValueId x) {
    Attrs a;
    a.set("ratio", 0.5f);
    return node(OpKind::Dropout, name, {x}, a);
  }
  ValueId softmax(const std::string &name, ValueId x) {
    Attrs a;
    a.set("axis", int64_t{1});
    return node(OpKind::Softmax, name, {x}, a);
  }

  ValueId node(OpKind op, const std::string &name, std::vector<ValueId> inputs, Attrs attrs) {
    Node n{op, name, std::move(inputs), {}, std::move(attrs), 0};
    std::vector<TensorType> types;
    for (ValueId v : n.inputs)
      types.push_back(g_.type(v));
    n.outputs = {-1};
    auto out = infer_shapes(n, types);
    if (!out.ok())
      throw std::runtime_error(out.error().message);
    n.outputs[0] = g_.add_value(name, (*out)[0], ValueKind::Activation);
    g_.add_node(std::move(n));
    return g_.nodes.back().outputs[0];
  }

  Graph finish(std::vector<ValueId> outputs) {
    g_.outputs = std::move(outputs);
    return std::move(g_);
  }

private:
  Graph g_;
};

/// The paper's AlexNet as IR (227x227 input), outputs fc8's logits and prob.
inline Graph paper_alexnet_ir(int64_t batch) {
  IrBuilder b("alexnet");
  ValueId x = b.input("data", {batch, 3, 227, 227});
  x = b.maxpool("pool1", b.lrn("norm1", b.relu("relu1", b.conv("conv1", x, 96, 11, 4, 0, 1))));
  x = b.maxpool("pool2", b.lrn("norm2", b.relu("relu2", b.conv("conv2", x, 256, 5, 1, 2, 2))));
  x = b.relu("relu3", b.conv("conv3", x, 384, 3, 1, 1, 1));
  x = b.relu("relu4", b.conv("conv4", x, 384, 3, 1, 1, 2));
  x = b.maxpool("pool5", b.relu("relu5", b.conv("conv5", x, 256, 3, 1, 1, 2)));
  x = b.flatten("flatten", x);
  x = b.dropout("drop6", b.relu("relu6", b.gemm("fc6", x, 4096)));
  x = b.dropout("drop7", b.relu("relu7", b.gemm("fc7", x, 4096)));
  ValueId logits = b.gemm("fc8", x, 1000);
  return b.finish({logits, b.softmax("prob", logits)});
}

} // namespace anet::testing
