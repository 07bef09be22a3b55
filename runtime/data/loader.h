#pragma once
/// Batches for training and evaluation. Worker threads decode, preprocess
/// and augment whole batches ahead of the caller (a bounded prefetch window)
/// while it consumes them in order.
///
/// Determinism: batch b of epoch e is a pure function of (seed, e, b) and
/// the dataset. The epoch's sample order is a Fisher-Yates shuffle driven by
/// CounterRng(seed, e); each sample's crop, flip and lighting by
/// CounterRng(seed, e, sample index). So results do not depend on the number
/// of threads, and a run resumes exactly from (epoch, batch).
///
/// Bad samples: a corrupt or unreadable image is skipped; its slot is filled
/// by the samples following the batch's nominal range in the epoch order
/// (wrapping around), so a fill-in also appears, identically, where the
/// order puts it. Each skip is reported (warning naming the file) and counted
/// when its batch is handed to the caller.

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "ir/tensor.h"
#include "runtime/data/stats.h"

namespace anet {

/// Train: random crop, random reflection, PCA lighting. Eval: centre crop.
/// Crops are cut from the mean-subtracted patch framed by stats.pad zeros.
enum class AugmentMode { Train, Eval };

/// How a Loader builds batches.
struct LoaderOptions {
  int64_t batch_size = 128;
  int64_t resize = 256; ///< shorter side rescaled to this, then the central resize x resize patch
  int64_t crop = 224;   ///< side of the crops fed to the network
  AugmentMode mode = AugmentMode::Train;
  bool shuffle = true;         ///< a new order every epoch (else dataset order)
  bool drop_last = true;       ///< drop an epoch's final partial batch
  double lighting_sigma = 0.1; ///< standard deviation of the PCA lighting coefficients (0: off)
  int threads = 2;             ///< worker threads (>= 1)
  int prefetch = 4;            ///< batches prepared ahead (>= 1)
  uint64_t seed = 0;
  WarningSink warn; ///< receives skipped-sample warnings (stderr when empty)
};

/// One batch: f32[B, C, crop, crop], the mean image subtracted (0-255 scale)
/// and the result times stats.scale.
struct Batch {
  Tensor images;
  std::vector<int> labels;
  std::vector<int64_t> indices;      ///< dataset index of each example
  std::vector<std::string> warnings; ///< skipped samples, one line each
  int64_t epoch = 0;
  int64_t index = 0; ///< batch number within the epoch
};

/// Builds batch `index` of `epoch` directly (what the workers run): a pure
/// function of its arguments. `order` is the epoch's sample order.
Expected<Batch> build_batch(const Dataset &data, const TrainingStats &stats,
                            const LoaderOptions &opt, const std::vector<int64_t> &order,
                            int64_t epoch, int64_t index);

/// The sample order of `epoch`: a permutation of 0 .. n-1 (identity when
/// !shuffle).
std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, int64_t epoch, bool shuffle);

/// The paper's ten-crop test input for one image: rescale_center_crop(
/// stats.resize), subtract the mean image, frame with stats.pad zeros, then
/// ten_crop(crop) times stats.scale, laid out as
/// f32[10, C, crop, crop] (four corners, centre, then their mirrors).
/// Requires crop <= stats.patch() and matching channels (asserted).
Tensor ten_crop_batch(const RawImage &image, const TrainingStats &stats, int64_t crop);

/// Whether `input` (f32[N, C, H, W]) takes square crops that the patches
/// `stats` describes can hold; if not, ExitCode::IncompatiblePlan naming
/// `who` (the program) and the preprocessing.
Status check_crops_fit(const TrainingStats &stats, const TensorType &input, const std::string &who);

/// Hands out batches in order, epoch after epoch, prepared by worker threads.
class Loader {
public:
  /// Starts the workers at (`epoch`, `batch`). Options that make no sense
  /// (crop > resize + 2 pad, sizes < 1, statistics for another resize or channel
  /// count, fewer examples than one batch with drop_last) are ExitCode::Usage.
  static Expected<std::unique_ptr<Loader>> create(Dataset data, TrainingStats stats,
                                                  LoaderOptions opt, int64_t epoch = 0,
                                                  int64_t batch = 0);
  ~Loader();
  Loader(const Loader &) = delete;
  Loader &operator=(const Loader &) = delete;

  /// Batches in one epoch.
  int64_t batches_per_epoch() const { return per_epoch_; }
  /// The next batch (waits for it). An error (no readable sample at all) is
  /// ExitCode::Dataset.
  Expected<Batch> next();
  /// Samples skipped so far in the batches handed out.
  int64_t skipped() const { return skipped_; }

private:
  Loader(Dataset data, TrainingStats stats, LoaderOptions opt, int64_t first);
  void work();

  Dataset data_;
  TrainingStats stats_;
  LoaderOptions opt_;
  int64_t per_epoch_ = 0;
  int64_t skipped_ = 0;
  std::mutex mu_;
  std::condition_variable work_cv_, ready_cv_;
  int64_t next_claim_ = 0;   ///< global batch number the next idle worker builds
  int64_t next_deliver_ = 0; ///< global batch number next() returns
  bool stop_ = false;
  std::map<int64_t, Expected<Batch>> ready_;
  std::vector<std::thread> workers_;
};

/// The pipeline's throughput alone: pulls `batches` batches from `loader`
/// and returns images per second. Errors are the loader's.
Expected<double> measure_images_per_second(Loader &loader, int64_t batches);

} // namespace anet
