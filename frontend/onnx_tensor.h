#pragma once
/// Decoding ONNX TensorProtos: element types, shapes, the typed and raw data
/// fields, and external data, which is read only from inside the model's
/// directory (ONNX's security notes: no absolute paths, no "..", no symbolic
/// or hard links, offsets and lengths inside the file).
///
/// Internal to the frontend.

#include <cstdint>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "ir/error.h"
#include "ir/tensor_type.h"

namespace anet::frontend {

/// ONNX's name of an element type ("FLOAT", "INT64"); "type <n>" if unknown.
std::string onnx_type_name(int32_t data_type);

/// True for the element types tensor_floats and tensor_ints can decode.
bool is_decodable_type(int32_t data_type);
/// True for the integer and boolean element types.
bool is_integer_type(int32_t data_type);

/// The tensor's dimensions; an error if one is negative or the element count
/// exceeds kMaxTensorElements.
Expected<Shape> tensor_shape(const onnx::TensorProto &t);

/// Replaces `t`'s external data reference by the bytes it names (in
/// raw_data), read from inside `model_dir`. Refuses an empty `model_dir`,
/// absolute locations, ".." components, symbolic links (of the file and of
/// every directory between it and `model_dir`), hard links, offsets and
/// lengths outside the file, and a length that disagrees with the shape.
/// `max_bytes` bounds how much is read. No-op for tensors stored inline.
Status internalize_external_data(onnx::TensorProto &t, const std::string &model_dir,
                                 int64_t max_bytes);

/// The tensor's elements converted to float. With `release`, the proto's
/// data fields are freed afterwards (weights are copied once, then dropped).
Expected<std::vector<float>> tensor_floats(onnx::TensorProto &t, bool release);

/// The elements of an integer or boolean tensor, exactly.
Expected<std::vector<int64_t>> tensor_ints(const onnx::TensorProto &t);

} // namespace anet::frontend
