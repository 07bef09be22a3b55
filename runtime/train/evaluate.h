#pragma once
/// Classification accuracy of a plan's inference programs on a dataset
/// split: top-1 and top-5 error with a single centre crop (program
/// `infer`) or averaged over the paper's ten crops (program
/// `infer_tencrop`). Shared by the trainer's validation and `anetrun eval`.

#include <cstdint>
#include <functional>

#include "ir/graph.h"
#include "runtime/data/dataset.h"
#include "runtime/data/stats.h"
#include "runtime/executor.h"

namespace anet {

/// Error rates over the examples evaluated.
struct EvalResult {
  int64_t examples = 0;
  int64_t skipped = 0; ///< unreadable or corrupt images left out
  double top1_error = 0;
  double top5_error = 0;
};

/// How to evaluate.
struct EvalOptions {
  bool ten_crop = false; ///< program infer_tencrop instead of infer
  int64_t limit = 0;     ///< evaluate the first `limit` examples only (0: all)
  int threads = 2;       ///< decoding threads (single crop)
  /// Called after each batch with the examples done so far and the total.
  std::function<void(int64_t, int64_t)> progress;
};

/// Runs `program` (infer: input [B, C, crop, crop]; infer_tencrop: input
/// [10k, C, crop, crop], output the average over each image's ten crops)
/// through `executor` over `data` preprocessed with `stats` (the training
/// set's mean image), and counts the examples whose label is not the top
/// (top-5) class. The last partial batch is padded. Errors: the dataset's
/// (ExitCode::Dataset / IO) and the executor's; a program whose input or
/// output does not fit is ExitCode::IncompatiblePlan.
Expected<EvalResult> evaluate(const Graph &program, Executor &executor, const Dataset &data,
                              const TrainingStats &stats, const EvalOptions &options);

/// Whether `label` is among the `k` largest of `scores` (ties broken by the
/// lower index, as the ranking anetrun prints; NaN ranks lowest).
bool in_top_k(const float *scores, int64_t classes, int64_t label, int64_t k);

} // namespace anet
