#pragma once
/// Exporting trained weights back into the ONNX model they were imported
/// from. The original model bytes (ImportedModel::onnx_bytes,
/// Plan::onnx_model) are parsed, every initializer named in the weight store
/// gets the trained values, and everything else (graph, node names, opsets,
/// IR version, metadata, the other initializers) stays as it was, so the
/// result opens in any ONNX tool exactly like the original.

#include <cstdint>
#include <string>

#include "ir/error.h"
#include "ir/graph.h"

namespace anet {

/// How write_exported_model lays out its files.
struct ExportOptions {
  /// A model whose serialized size exceeds this many bytes stores its
  /// initializers as ONNX external data in `<file name>.data` next to the
  /// model (protobuf refuses messages of 2 GiB and more).
  int64_t external_data_threshold_bytes = int64_t{1} << 30;
};

/// The original ONNX model `original_bytes` with every initializer named in
/// `weights` replaced by the trained values, stored as little-endian
/// raw_data (its float_data and external data fields are cleared). Float
/// initializers absent from `weights` (constants the importer folded, or
/// weights not trained) are kept silently, byte for byte, as are external
/// data references of untouched initializers. A weight that names no
/// initializer, or names one that is not float or whose dims hold a different
/// element count, is an ExitCode::IncompatiblePlan error naming it; bytes
/// that do not parse are ExitCode::InvalidModel; a result of 2 GiB or more
/// is ExitCode::Usage (write_exported_model stores it as external data).
/// Errors start with `display_name`. Returns the serialized model.
Expected<std::string> export_onnx(const std::string &original_bytes, const WeightStore &weights,
                                  const std::string &display_name);

/// Exports as export_onnx does and writes the model to `path` atomically
/// (a temporary file beside it, fsync, rename, fsync of the directory).
/// Above opts.external_data_threshold_bytes every initializer held in
/// raw_data moves to `<file name of path>.data` beside it (ONNX external
/// data: relative location, offset and length, offsets 4 KiB aligned),
/// written atomically as well, before the model. On failure an existing
/// file at `path` is left as it was and no temporary file remains. I/O
/// failures are ExitCode::IO errors naming the file.
Status write_exported_model(const std::string &original_bytes, const WeightStore &weights,
                            const std::string &path, const ExportOptions &opts = {});

} // namespace anet
