#pragma once
/// The ONNX importer: reads an ONNX model (file or bytes), checks it (ONNX's
/// own checker and shape inference where the installed library knows the
/// model's versions, then our op table's shape rules and the IR verifier,
/// always) and lowers it into the one graph IR with canonical attributes,
/// static shapes and the float weights moved into a WeightStore.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "ir/error.h"
#include "ir/graph.h"
#include "ir/tensor.h"

namespace anet {

/// How to import a model.
struct ImportOptions {
  /// Binds a symbolic (dim_param or unknown) batch dimension: dimension 0 of
  /// the graph inputs. Unset, a symbolic batch dimension becomes 1. Any other
  /// unknown dimension is an error.
  std::optional<int64_t> batch;
  /// The sum of the sizes of all values of the graph (inputs, weights,
  /// constants, activations) must stay within this many bytes.
  int64_t memory_budget_bytes = int64_t{64} << 30;
  /// Graph inputs given as constants, by name: they feed constant operands
  /// (a Reshape's shape, a Slice's starts, ...) or become Constant values.
  /// Values are f32; operands ONNX types as int64 are converted back (they
  /// must hold integers).
  std::map<std::string, Tensor> bind_inputs;
};

/// The result of an import.
struct ImportedModel {
  /// The verified graph. Node names are the ONNX node names (or
  /// "<op_type>_<index>" for unnamed nodes); value names are the ONNX tensor
  /// names (helper values of multi-node lowerings get fresh names).
  Graph graph;
  /// Data of every graph value of kind Param (the float initializers that
  /// feed the graph), by name.
  WeightStore weights;
  /// The original model file bytes, unchanged (export writes trained
  /// weights back into them).
  std::string onnx_bytes;
  /// The model's default-domain ("ai.onnx") opset version.
  int64_t opset = 0;
};

/// Imports the ONNX model at `path`. External data is resolved inside the
/// model file's directory. Errors start with `path`.
Expected<ImportedModel> import_onnx_file(const std::string &path, const ImportOptions &opts);

/// Imports a serialized ONNX model. External data is resolved inside
/// `model_dir` (empty: the model may not use external data). Errors start
/// with `display_name`.
Expected<ImportedModel> import_onnx_bytes(const std::string &bytes, const std::string &model_dir,
                                          const std::string &display_name,
                                          const ImportOptions &opts);

/// Reads a serialized ONNX TensorProto (a .pb file as in ONNX's node tests)
/// as f32: float, double, int8/16/32/64, uint8/16 and bool elements are
/// converted; other element types are an error. Errors start with `path`.
Expected<Tensor> read_tensor_proto_file(const std::string &path);

} // namespace anet
