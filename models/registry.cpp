// The table of model builders behind build_model(), the checks on
// BuildOptions, and write_model().

#include "models/alexnet.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string_view>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "models/builders.h"

namespace anet::models {
namespace {

struct ModelEntry {
  std::string_view name;
  onnx::ModelProto (*build)(const BuildOptions &);
};

// The order is the one model_names() reports.
constexpr ModelEntry kModels[] = {
    {"alexnet", build_alexnet},
    {"alexnet-mini", build_alexnet_mini},
    {"alexnet-caffe", build_alexnet_caffe},
    {"alexnet-torchvision", build_alexnet_torchvision},
};

// Limits that keep every model far below protobuf's 2 GiB message limit
// (fc8 of alexnet with 65536 classes is 1 GiB) and the builder's memory sane.
constexpr int64_t kMaxClasses = 65536;
constexpr int64_t kMaxChannels = 4096;

Status check_range(const char *what, const std::optional<int64_t> &value, int64_t max) {
  if (!value || (*value >= 1 && *value <= max))
    return {};
  return make_error(ExitCode::Usage, what, " must be in [1, ", max, "], is ", *value);
}

} // namespace

std::vector<std::string> model_names() {
  std::vector<std::string> names;
  for (const ModelEntry &m : kModels)
    names.emplace_back(m.name);
  return names;
}

Expected<onnx::ModelProto> build_model(const std::string &name, const BuildOptions &opts) {
  const ModelEntry *entry = nullptr;
  for (const ModelEntry &m : kModels)
    if (m.name == name)
      entry = &m;
  if (!entry) {
    std::string known;
    for (const ModelEntry &m : kModels)
      known += (known.empty() ? "" : ", ") + std::string(m.name);
    return make_error(ExitCode::Usage, "unknown model '", name, "'; the models are: ", known);
  }
  const std::string context = "model '" + name + "'";
  if (opts.batch && *opts.batch < 1)
    return make_error(ExitCode::Usage, context, ": batch must be at least 1, is ", *opts.batch);
  if (Status s = check_range("number of classes", opts.num_classes, kMaxClasses); !s)
    return with_context(std::move(s).take_error(), context);
  if (Status s = check_range("number of input channels", opts.channels, kMaxChannels); !s)
    return with_context(std::move(s).take_error(), context);
  return entry->build(opts);
}

Status write_model(const onnx::ModelProto &m, const std::string &path) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    if (!m.SerializeToCodedStream(&coded))
      return make_error(ExitCode::IO, "cannot serialise the model for '", path, "' (",
                        m.ByteSizeLong(), " bytes; protobuf allows at most 2 GiB)");
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out)
    return make_error(ExitCode::IO, "cannot open '", path, "' for writing: ", std::strerror(errno));
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out)
    return make_error(ExitCode::IO, "cannot write '", path, "': ", std::strerror(errno));
  return {};
}

} // namespace anet::models
