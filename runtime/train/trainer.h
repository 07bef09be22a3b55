#pragma once
/// The training run behind `anetrun train`: the paper's recipe on a plan
/// compiled with `--mode train`. Each step feeds the next augmented batch
/// (prepared by the loader's worker threads meanwhile), the labels, the
/// learning rate and the step number to the plan's `train_step` program,
/// which runs forward, loss, backward and the SGD update in place. Each
/// epoch ends with validation (top-1/top-5 error, centre crop; ten crops at
/// the end of the run), the learning-rate schedule, a checkpoint, metrics
/// (JSONL and CSV) and training curves (PNG).
///
/// Determinism: batch order and augmentation are functions of (seed,
/// epoch, batch), dropout masks of (node, step), and checkpoints carry the
/// weights, momentum, position and schedule, so a run resumed from any
/// checkpoint ends with the same weights as one never interrupted.

#include <cstdint>
#include <ostream>
#include <string>

#include "ir/error.h"
#include "ir/plan.h"
#include "runtime/device.h"

namespace anet {

/// The learning-rate policy.
struct LrSchedule {
  /// "plateau": divide by 10 when the validation top-1 error has not
  /// improved for `patience` epochs (the paper); "step": multiply by
  /// `factor` every `every` epochs; "constant".
  std::string kind = "plateau";
  int64_t patience = 2;
  int64_t every = 30;
  double factor = 0.1;
};

/// Parses "plateau", "constant" or "step:E:F" (every E epochs times F);
/// anything else is ExitCode::Usage.
Expected<LrSchedule> parse_lr_schedule(const std::string &text);

/// Everything `anetrun train` takes.
struct TrainOptions {
  std::string plan_path;
  std::string data_dir; ///< the training split (and validation, if it has one)
  std::string val_dir;  ///< validation data; empty: data_dir's val/test split
  int64_t epochs = 0;   ///< stop after this many epochs (0: use steps)
  int64_t steps = 0;    ///< or after this many steps in all
  double lr = 0.01;     ///< initial learning rate (the paper's)
  LrSchedule schedule;
  std::string checkpoint_dir;   ///< empty: no checkpoints
  int keep = 3;                 ///< checkpoints kept
  int64_t checkpoint_every = 0; ///< also every N steps (0: at epoch ends only)
  std::string resume;           ///< "", "auto" or a checkpoint path
  uint64_t seed = 0;
  std::string log_dir;   ///< metrics and curves; empty: none
  std::string cache_dir; ///< the training set's statistics cache
  int threads = 2;       ///< data pipeline threads
  std::string device = device_names().front();
  DeviceOptions device_options;
  int64_t log_every = 20;            ///< steps between metric records / plain progress lines
  int64_t val_limit = 0;             ///< validate on the first N examples (0: all)
  bool final_ten_crop = true;        ///< ten-crop validation after the last epoch
  bool ten_crop_every_epoch = false; ///< ten-crop validation after every epoch too
  bool terminal = false;             ///< the log is a terminal: progress bars redraw in place
};

/// How a run ended.
struct TrainResult {
  int64_t steps = 0;
  int64_t epochs = 0;
  double final_loss = 0;
  double val_top1 = -1, val_top5 = -1;                 ///< last validation, centre crop
  double val_tencrop_top1 = -1, val_tencrop_top5 = -1; ///< after the run, ten crops
  double seconds = 0;
  double step_images_per_second = 0;
  double pipeline_images_per_second = 0;
  std::string last_checkpoint;
  int exit_code = 0; ///< 0, or 130/143 after a signal's checkpoint
};

/// Trains as `options` say, reporting progress to `log`. Errors carry the
/// README's exit codes: a plan without train_step is IncompatiblePlan, data
/// problems Dataset, a NaN or infinite loss NonFinite (naming the step; no
/// checkpoint is written for it, so the last good one stays).
Expected<TrainResult> train(const TrainOptions &options, std::ostream &log);

/// The fingerprint a checkpoint records of its plan's train program.
std::string plan_fingerprint(const Plan &plan);

/// The weight-store key under which checkpoints keep the training set's
/// mean image (HWC, 0-255), which inference after training subtracts.
inline constexpr const char *kMeanImageKey = "anet/mean_image";

} // namespace anet
