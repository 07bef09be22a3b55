#pragma once
/// The inputs and outputs of `anetrun infer`: INPUT files (images and .npy
/// tensors) turned into samples of the plan's input, and the ranking of one
/// sample's output for display.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "ir/error.h"
#include "ir/graph.h"
#include "ir/plan.h"

namespace anet::cli {

/// One sample of the program's input: its values (the input's shape without
/// the batch axis, row-major) and a label for output ("a.png", "x.npy[3]").
struct Sample {
  std::string label;
  std::vector<float> values;
};

/// Loads every INPUT. A JPEG or PNG (recognised by content) is decoded and
/// preprocessed with `pp` into one sample of `sample_shape` (which must be
/// [C,H,W]). A .npy tensor is taken as is: of shape `sample_shape` it is one
/// sample; of shape [k, ...sample_shape] it is k samples. Missing files are
/// ExitCode::IO; other content and mismatched shapes ExitCode::Dataset.
Expected<std::vector<Sample>> load_samples(const std::vector<std::string> &paths,
                                           const Preprocess &pp, const Shape &sample_shape);

/// Whether `output` of `g` is a probability distribution: it is computed by
/// a Softmax (possibly through Identity nodes).
bool is_softmax_output(const Graph &g, ValueId output);

/// One entry of a ranking: the class index and its value.
struct Ranked {
  int64_t index = 0;
  float value = 0;
};

/// The `k` largest values in decreasing order (ties: lower index first);
/// fewer if `values` is shorter. NaN ranks below every number.
std::vector<Ranked> top_k(std::span<const float> values, int64_t k);

} // namespace anet::cli
