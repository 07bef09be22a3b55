#pragma once
/// NumPy .npy files: tensors in and out of the CLIs (inputs to `anetrun
/// infer`, its raw outputs, test oracles written by numpy).
///
/// Format: the magic "\x93NUMPY", a version (1.0, 2.0 or 3.0), the header
/// length (2 bytes in 1.0, 4 bytes after), a Python dict literal
/// {'descr': ..., 'fortran_order': ..., 'shape': (...)}, then the raw data.

#include <string>

#include "ir/error.h"
#include "ir/tensor.h"

namespace anet {

/// Longest .npy header accepted, in bytes (numpy itself writes < 1 KiB).
inline constexpr size_t kMaxNpyHeaderBytes = size_t{1} << 16;

/// Reads a C-order .npy file. Element types '<f4' (read as is) and '<f8',
/// '<i8', '<i4', '|u1' (converted to f32) are accepted. A missing or
/// unreadable file is ExitCode::IO; a malformed header, an unsupported
/// element type, Fortran order, a shape over kMaxTensorElements, or a data
/// size that differs from what the header says is ExitCode::Dataset, with a
/// message that starts with the path.
Expected<Tensor> read_npy(const std::string &path);

/// Writes `t` as a version 1.0 '<f4' .npy file (2.0 if the header needs
/// it). The file appears atomically: it is written beside `path` and
/// renamed over it. Failures are ExitCode::IO.
Status write_npy(const std::string &path, const Tensor &t);

/// True if `bytes` (a file's first bytes) start with the .npy magic.
bool is_npy_magic(const uint8_t *bytes, size_t size);

} // namespace anet
