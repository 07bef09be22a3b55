#pragma once
/// Training-set statistics the pipeline needs: the mean image (per pixel and
/// channel of the resize x resize patches) and the PCA of pixel colours.
/// Computed in one pass over the training split and cached on disk in a
/// caller-given folder, keyed by the dataset's content fingerprint and the
/// resize, so a changed dataset is never served stale statistics.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "runtime/data/augment.h"
#include "runtime/data/dataset.h"

namespace anet {

/// Receives one warning line (a skipped sample, naming its file).
using WarningSink = std::function<void(const std::string &)>;

/// Mean image and colour PCA of a training split.
struct TrainingStats {
  int64_t resize = 0;            ///< side of the patches averaged
  int64_t channels = 0;          ///< 1 (grey) or 3 (RGB)
  std::vector<float> mean_image; ///< resize * resize * channels, HWC, 0-255 scale
  Pca pca;
  /// Multiplies every value after mean subtraction and lighting: the plan's
  /// Preprocess::scale, set by its user (never computed or cached here).
  float scale = 1.0f;
  /// Zeros framing each mean-subtracted patch on each side before crops are
  /// cut: the plan's Preprocess::pad, likewise set by its user.
  int64_t pad = 0;
  /// Side of the framed patch the crops are cut from.
  int64_t patch() const { return resize + 2 * pad; }
  int64_t images = 0;  ///< images averaged
  int64_t skipped = 0; ///< unreadable or corrupt images left out
};

/// Computes the statistics over every example of `train` after
/// rescale_center_crop(resize). Corrupt images are skipped, reported to
/// `warn` (stderr when empty) and counted; if none is readable it is
/// ExitCode::Dataset.
Expected<TrainingStats> compute_training_stats(const Dataset &train, int64_t resize,
                                               const WarningSink &warn = {});

/// As compute_training_stats, but first looks for
/// `cache_dir/anet-stats-<fingerprint>-<resize>.bin` and writes it after
/// computing (creating `cache_dir`; written to a temporary then renamed, so
/// readers never see half a file). An unreadable or malformed cache file is
/// recomputed and replaced; failing to write it is ExitCode::IO.
Expected<TrainingStats> load_or_compute_training_stats(const Dataset &train, int64_t resize,
                                                       const std::string &cache_dir,
                                                       const WarningSink &warn = {});

} // namespace anet
