// Export of trained weights into the original ONNX model (see
// onnx_export.h). The model is parsed once, the trained initializers are
// rewritten in place as raw_data, and the result is serialized
// deterministically. Files are written the crash-safe way (ir/atomic_file.h),
// so a reader sees either the old model or the new one.

#include "frontend/onnx_export.h"

#include <bit>
#include <climits>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <optional>
#include <string_view>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <onnx/onnx_pb.h>

#include "ir/atomic_file.h"

namespace anet {
namespace {

static_assert(std::endian::native == std::endian::little,
              "ONNX raw_data is little-endian; big-endian hosts need byte swapping");

using onnx::TensorProto;

/// External data offsets are multiples of this (ONNX's own writer aligns to
/// pages too, so tensors can be memory-mapped).
constexpr int64_t kExternalAlignment = 4096;

/// The number of elements `t`'s dims describe; none if a dim is negative or
/// the product overflows.
std::optional<int64_t> element_count(const TensorProto &t) {
  int64_t numel = 1;
  for (int64_t d : t.dims()) {
    if (d < 0 || (d > 0 && numel > INT64_MAX / d))
      return std::nullopt;
    numel *= d;
  }
  return numel;
}

/// Parses `bytes` and writes every weight of `weights` into its initializer.
Expected<onnx::ModelProto> apply_weights(const std::string &bytes, const WeightStore &weights) {
  onnx::ModelProto model;
  if (bytes.empty() || static_cast<int64_t>(bytes.size()) >= INT_MAX ||
      !model.ParseFromString(bytes) || !model.has_graph())
    return make_error(ExitCode::InvalidModel,
                      "the original model does not parse as an ONNX ModelProto with a graph");
  std::map<std::string, TensorProto *> initializers;
  for (TensorProto &t : *model.mutable_graph()->mutable_initializer())
    initializers.emplace(t.name(), &t);
  for (const auto &[name, values] : weights) {
    auto it = initializers.find(name);
    if (it == initializers.end())
      return make_error(ExitCode::IncompatiblePlan, "weight '", name,
                        "' is not an initializer of the model");
    TensorProto &t = *it->second;
    if (t.data_type() != TensorProto::FLOAT)
      return make_error(ExitCode::IncompatiblePlan, "weight '", name,
                        "' is stored in a non-float initializer");
    auto numel = element_count(t);
    if (!numel)
      return make_error(ExitCode::InvalidModel, "initializer '", name,
                        "' has negative or overflowing dims");
    if (*numel != static_cast<int64_t>(values.size()))
      return make_error(ExitCode::IncompatiblePlan, "weight '", name, "' has ", values.size(),
                        " elements, its initializer's dims hold ", *numel);
    t.clear_float_data();
    t.clear_external_data();
    t.clear_data_location();
    t.set_raw_data(values.data(), values.size() * sizeof(float));
  }
  return model;
}

/// Deterministic serialization; models of 2 GiB and more cannot be one message.
Expected<std::string> serialize(const onnx::ModelProto &model) {
  size_t size = model.ByteSizeLong();
  if (size >= static_cast<size_t>(INT_MAX))
    return make_error(ExitCode::Usage, "the exported model would be ", size,
                      " bytes; ONNX models must be under 2 GiB (write it with external data)");
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    model.SerializeToCodedStream(&coded);
  }
  return out;
}

/// Moves the raw_data of every initializer into one blob that will be the
/// file `location`, replacing it by external data references.
std::string externalize(onnx::ModelProto &model, const std::string &location) {
  std::string blob;
  for (TensorProto &t : *model.mutable_graph()->mutable_initializer()) {
    if (!t.has_raw_data() || t.data_location() == TensorProto::EXTERNAL)
      continue;
    auto offset = static_cast<int64_t>(blob.size());
    offset = (offset + kExternalAlignment - 1) / kExternalAlignment * kExternalAlignment;
    blob.resize(static_cast<size_t>(offset), '\0');
    blob += t.raw_data();
    auto add = [&](const std::string &key, const std::string &value) {
      auto *entry = t.add_external_data();
      entry->set_key(key);
      entry->set_value(value);
    };
    add("location", location);
    add("offset", std::to_string(offset));
    add("length", std::to_string(t.raw_data().size()));
    t.clear_raw_data();
    t.set_data_location(TensorProto::EXTERNAL);
  }
  return blob;
}

} // namespace

Expected<std::string> export_onnx(const std::string &original_bytes, const WeightStore &weights,
                                  const std::string &display_name) {
  auto model = apply_weights(original_bytes, weights);
  if (!model)
    return with_context(std::move(model).take_error(), display_name);
  auto bytes = serialize(*model);
  if (!bytes)
    return with_context(std::move(bytes).take_error(), display_name);
  return bytes;
}

Status write_exported_model(const std::string &original_bytes, const WeightStore &weights,
                            const std::string &path, const ExportOptions &opts) {
  auto model = apply_weights(original_bytes, weights);
  if (!model)
    return with_context(std::move(model).take_error(), path);
  std::string data_path = path + ".data";
  AtomicFile data_file(data_path, "external data");
  bool external = static_cast<int64_t>(model->ByteSizeLong()) > opts.external_data_threshold_bytes;
  if (external) {
    std::string location = std::filesystem::path(data_path).filename().string();
    std::string blob = externalize(*model, location);
    ANET_RETURN_IF_ERR(data_file.write({blob}));
  }
  auto bytes = serialize(*model);
  if (!bytes)
    return with_context(std::move(bytes).take_error(), path);
  AtomicFile model_file(path, "model");
  ANET_RETURN_IF_ERR(model_file.write({*bytes}));
  // The data goes first: the new model must never point at old data.
  if (external)
    ANET_RETURN_IF_ERR(data_file.commit());
  ANET_RETURN_IF_ERR(model_file.commit());
  return sync_directory_of(path, "model");
}

} // namespace anet
