/// INPUT files of `anetrun infer` as samples, and top-k ranking (see
/// infer_inputs.h).

#include "tools/infer_inputs.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

#include "runtime/io/image.h"
#include "runtime/io/npy.h"

namespace anet::cli {

namespace {

/// What a file holds, from its first bytes.
enum class InputKind { Image, Npy, Unknown };

Expected<InputKind> sniff_input(const std::string &path) {
  struct Closer {
    void operator()(std::FILE *f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, Closer> f(std::fopen(path.c_str(), "rb"));
  if (!f)
    return make_error(ExitCode::IO, path, ": ", std::strerror(errno));
  uint8_t head[8] = {};
  const size_t n = std::fread(head, 1, sizeof head, f.get());
  if (std::ferror(f.get()))
    return make_error(ExitCode::IO, path, ": ", std::strerror(errno));
  if (is_npy_magic(head, n))
    return InputKind::Npy;
  if (sniff_image_format(head, n) != ImageFormat::Unknown)
    return InputKind::Image;
  return InputKind::Unknown;
}

} // namespace

Expected<std::vector<Sample>> load_samples(const std::vector<std::string> &paths,
                                           const Preprocess &pp, const Shape &sample_shape) {
  const int64_t sample_numel = checked_numel(sample_shape);
  assert(sample_numel >= 0 && "a verified program's input has a valid shape");
  std::vector<Sample> samples;
  for (const std::string &path : paths) {
    ANET_ASSIGN_OR_RETURN(InputKind kind, sniff_input(path));
    if (kind == InputKind::Unknown)
      return make_error(ExitCode::Dataset, path,
                        ": not a JPEG, PNG or .npy file (unrecognised content)");
    if (kind == InputKind::Image) {
      if (sample_shape.size() != 3)
        return make_error(ExitCode::Usage, path, ": the plan's input takes samples of shape ",
                          shape_string(sample_shape),
                          ", not images [C,H,W]; give .npy tensors instead");
      ANET_ASSIGN_OR_RETURN(
          Tensor t, load_image(path, pp, sample_shape[0], sample_shape[1], sample_shape[2]));
      samples.push_back(Sample{path, std::move(t.data)});
      continue;
    }
    ANET_ASSIGN_OR_RETURN(Tensor t, read_npy(path));
    const Shape &s = t.type.shape;
    if (s == sample_shape) {
      samples.push_back(Sample{path, std::move(t.data)});
      continue;
    }
    if (s.size() != sample_shape.size() + 1 ||
        !std::equal(s.begin() + 1, s.end(), sample_shape.begin()))
      return make_error(ExitCode::Dataset, path, ": tensor of shape ", shape_string(s),
                        " does not fit the plan's input: expected ", shape_string(sample_shape),
                        " or [k,", shape_string(sample_shape).substr(1));
    for (int64_t i = 0; i < s[0]; ++i) {
      const auto begin = t.data.begin() + i * sample_numel;
      samples.push_back(Sample{path + "[" + std::to_string(i) + "]",
                               std::vector<float>(begin, begin + sample_numel)});
    }
  }
  return samples;
}

bool is_softmax_output(const Graph &g, ValueId output) {
  const std::vector<NodeId> producers = g.producers();
  // Through copies, and through a partitioned program's gathers: a Concat
  // of per-device softmax parts along the batch (data parallelism).
  auto from_softmax = [&](auto &self, ValueId v) -> bool {
    const NodeId n = producers[static_cast<size_t>(v)];
    if (n < 0)
      return false;
    const Node &node = g.nodes[static_cast<size_t>(n)];
    switch (node.op) {
    case OpKind::Softmax:
      return true;
    case OpKind::Identity:
    case OpKind::Transfer:
      return self(self, node.inputs[0]);
    case OpKind::Concat:
      return node.attrs.i("axis") == 0 && std::all_of(node.inputs.begin(), node.inputs.end(),
                                                      [&](ValueId in) { return self(self, in); });
    default:
      return false;
    }
  };
  return from_softmax(from_softmax, output);
}

std::vector<Ranked> top_k(std::span<const float> values, int64_t k) {
  std::vector<Ranked> all(values.size());
  for (size_t i = 0; i < values.size(); ++i)
    all[i] = Ranked{static_cast<int64_t>(i), values[i]};
  const size_t n = std::min(all.size(), static_cast<size_t>(std::max<int64_t>(k, 0)));
  auto before = [](const Ranked &a, const Ranked &b) {
    const bool a_nan = std::isnan(a.value), b_nan = std::isnan(b.value);
    if (a_nan != b_nan)
      return b_nan;
    if (!a_nan && a.value != b.value)
      return a.value > b.value;
    return a.index < b.index;
  };
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n), all.end(), before);
  all.resize(n);
  return all;
}

} // namespace anet::cli
