#pragma once
/// Training checkpoints: the step a run has reached, its weights and
/// optimizer state, and the trainer's own state, in one versioned,
/// checksummed file (docs/checkpoint-format.md) written atomically; and a
/// directory of them that keeps the newest few and finds the latest for
/// `--resume auto`.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "ir/error.h"
#include "ir/graph.h"

namespace anet {

/// Everything a run needs to continue exactly where it stopped.
struct Checkpoint {
  int64_t step = 0;  ///< optimizer steps done
  int64_t epoch = 0; ///< epoch of the next step
  int64_t batch = 0; ///< batch index within that epoch of the next step
  /// Identifies the train program; a checkpoint for another plan is refused
  /// (check_plan_fingerprint).
  std::string plan_fingerprint;
  /// Model weights and optimizer state (momentum buffers are named
  /// "<weight>.momentum").
  WeightStore weights;
  /// The trainer's state (learning-rate schedule, best validation error,
  /// seed, ...): stored as given, opaque to this file.
  nlohmann::json state;
};

/// The file layout's constants (docs/checkpoint-format.md).
namespace checkpoint_layout {
inline constexpr std::string_view kMagic = "ANETCKPT"; ///< first 8 bytes
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr uint64_t kFixedHeaderBytes = 64; ///< magic .. CRCs; the JSON header follows
inline constexpr uint64_t kAlignment = 64;        ///< the data and every tensor start here
inline constexpr uint64_t kVersionAt = 8;         ///< u32 format version
inline constexpr uint64_t kFlagsAt = 12;          ///< u32 flags, 0
inline constexpr uint64_t kFileLengthAt = 16;     ///< u64 total bytes
inline constexpr uint64_t kJsonLengthAt = 24;     ///< u64 bytes of JSON header
inline constexpr uint64_t kHeaderCrcAt = 56;      ///< u32 CRC-32 of the header
inline constexpr uint64_t kDataCrcAt = 60;        ///< u32 CRC-32 of the data
inline constexpr int kMaxJsonDepth = 64;          ///< nesting of arrays and objects in the header
} // namespace checkpoint_layout

/// The checkpoint as file bytes. Refuses (ExitCode::Runtime) what could not
/// be read back: an empty weight name, text that is not UTF-8, a state
/// nested deeper than checkpoint_layout::kMaxJsonDepth.
Expected<std::string> serialize_checkpoint(const Checkpoint &checkpoint);

/// Reads checkpoint bytes. Every refusal is ExitCode::IncompatiblePlan with
/// a message that starts with `display_name` and says what is wrong: not a
/// checkpoint, another format version, truncated, or corrupt (and where).
/// Every length is checked against the bytes present before use.
Expected<Checkpoint> deserialize_checkpoint(std::string_view bytes,
                                            const std::string &display_name);

/// Writes the checkpoint atomically and durably (ir/atomic_file.h): on
/// failure an existing file at `path` is untouched and no temporary file
/// remains. I/O errors are ExitCode::IO naming the path and the system's
/// reason; a checkpoint serialize_checkpoint refuses is ExitCode::Runtime.
Status write_checkpoint(const Checkpoint &checkpoint, const std::string &path);

/// Reads and checks a checkpoint file: a missing or unreadable file is
/// ExitCode::IO, a bad one as deserialize_checkpoint says.
Expected<Checkpoint> read_checkpoint(const std::string &path);

/// Refuses (ExitCode::IncompatiblePlan) a checkpoint read from `path` whose
/// plan fingerprint is not `fingerprint`: it belongs to another train program.
Status check_plan_fingerprint(const Checkpoint &checkpoint, const std::string &fingerprint,
                              const std::string &path);

/// A directory of checkpoints named `step-<step, 8 digits or more>.ckpt`.
/// Other files in it (temporary files of interrupted writes, anything
/// foreign) are never read or deleted.
class CheckpointDir {
public:
  /// Checkpoints go to `dir`; save() keeps the newest `keep` (>= 1).
  CheckpointDir(std::string dir, int keep);

  /// The directory.
  const std::string &dir() const { return dir_; }

  /// The path save() gives the checkpoint of `step`.
  std::string path_for(int64_t step) const;

  /// Writes `checkpoint` to path_for(checkpoint.step) atomically (creating
  /// the directory if needed), then deletes the older checkpoints beyond the
  /// newest `keep`. Checkpoints of later steps than this one (left by a run
  /// that was resumed from an earlier checkpoint) are neither counted nor
  /// deleted. Returns the path written. Errors are ExitCode::IO naming the
  /// path; when only a deletion fails, the error says the new checkpoint
  /// was saved.
  Expected<std::string> save(const Checkpoint &checkpoint) const;

  /// The path of the checkpoint with the highest step in its name, or none
  /// when the directory has none or does not exist. Does not open it. An
  /// unreadable directory is ExitCode::IO.
  Expected<std::optional<std::string>> latest() const;

private:
  std::string dir_;
  int keep_;
};

/// What `--resume ARG` resumes from: for "auto", the latest checkpoint in
/// `checkpoint_dir`, or "" when there is none (start fresh); otherwise ARG
/// itself, a checkpoint file that must exist (ExitCode::IO if not). An empty
/// ARG is ExitCode::Usage.
Expected<std::string> resolve_resume(const std::string &arg, const std::string &checkpoint_dir);

} // namespace anet
