#pragma once
/// A small builder for ONNX models in C++ (with ONNX's protobuf classes), so
/// that frontend tests state their models next to their expectations.

#include <cstdint>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "frontend/onnx_import.h"

namespace anet::test {

/// A dimension that is symbolic ("N") in graph input and output shapes.
inline constexpr int64_t kSymbolic = -1;

/// A float tensor stored in raw_data.
onnx::TensorProto float_tensor(const std::string &name, const std::vector<int64_t> &dims,
                               const std::vector<float> &data);
/// An int64 tensor stored in int64_data.
onnx::TensorProto int_tensor(const std::string &name, const std::vector<int64_t> &dims,
                             const std::vector<int64_t> &data);

/// Adds attributes to a node, chained: node(...).i("group", 2).ints("pads", {...}).
class NodeRef {
public:
  explicit NodeRef(onnx::NodeProto *node) : node_(node) {}
  NodeRef &i(const std::string &name, int64_t v);
  NodeRef &f(const std::string &name, float v);
  NodeRef &s(const std::string &name, const std::string &v);
  NodeRef &ints(const std::string &name, const std::vector<int64_t> &v);
  NodeRef &floats(const std::string &name, const std::vector<float> &v);
  NodeRef &t(const std::string &name, const onnx::TensorProto &v);
  onnx::NodeProto &proto() { return *node_; }

private:
  onnx::AttributeProto *add(const std::string &name, onnx::AttributeProto::AttributeType type);
  onnx::NodeProto *node_;
};

/// Builds a ModelProto: one graph, the default-domain opset `opset`.
class ModelBuilder {
public:
  explicit ModelBuilder(int64_t opset = 13, int64_t ir_version = 7);

  /// A graph input; kSymbolic dimensions get a dim_param.
  ModelBuilder &input(const std::string &name, const std::vector<int64_t> &dims,
                      int32_t elem_type = onnx::TensorProto::FLOAT);
  /// A graph output with a declared type and shape.
  ModelBuilder &output(const std::string &name, const std::vector<int64_t> &dims,
                       int32_t elem_type = onnx::TensorProto::FLOAT);
  /// A float graph output with no declared shape.
  ModelBuilder &output(const std::string &name);
  ModelBuilder &initializer(const onnx::TensorProto &t);
  ModelBuilder &initializer(const std::string &name, const std::vector<int64_t> &dims,
                            const std::vector<float> &data);
  ModelBuilder &int_initializer(const std::string &name, const std::vector<int64_t> &dims,
                                const std::vector<int64_t> &data);
  /// Appends a node (default domain unless `domain` is given).
  NodeRef node(const std::string &op, const std::vector<std::string> &inputs,
               const std::vector<std::string> &outputs, const std::string &name = "",
               const std::string &domain = "");

  onnx::ModelProto &proto() { return model_; }
  std::string bytes() const;
  /// Writes the model to `path`.
  void write(const std::string &path) const;
  /// Imports the model from memory, displayed as "test.onnx".
  Expected<ImportedModel> import(const ImportOptions &opts = {}) const;

private:
  onnx::ModelProto model_;
};

} // namespace anet::test
