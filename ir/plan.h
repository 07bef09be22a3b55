#pragma once
/// The plan file: what `anetc compile` writes and `anetrun` loads. A plan
/// holds the programs (entry points as IR), the weights they share, the
/// image preprocessing they expect, optional class names and the original
/// ONNX model for export. The file is versioned and checksummed; a
/// truncated, corrupt or incompatible file is refused with a message that
/// says which. The byte layout is documented in docs/plan-format.md.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "ir/error.h"
#include "ir/graph.h"

namespace anet {

/// Image preprocessing the plan's programs expect (written by anetc, used by anetrun).
struct Preprocess {
  int64_t resize = 256; ///< shorter side rescaled to this before the centre crop
  /// Zeros framing the mean-subtracted resize x resize patch on each side
  /// (so the value of the mean), before the network's crops are cut: as the
  /// "pad 4, random crop 32" of small-image training. 0 (the paper): none.
  int64_t pad = 0;
  std::vector<float> mean;       ///< per-channel mean (0-255 scale) subtracted, size C, or empty
  std::vector<float> mean_image; ///< per-pixel mean image [C,H,W] (0-255), or empty; wins over
                                 ///< mean when present
  float scale = 1.0f;            ///< multiplied after mean subtraction
  /// Side of the padded patch the crops are cut from.
  int64_t patch() const { return resize + 2 * pad; }
  /// Field-wise equality (floats compare by value, so NaN != NaN).
  bool operator==(const Preprocess &) const = default;
};

/// One compiled CUDA kernel a plan carries, with what ptxas reported of it.
struct CudaBinary {
  std::string image;       ///< cubin (ELF), or PTX text for a compute_XY key
  int32_t registers = -1;  ///< per thread (-1: PTX, decided when the driver loads it)
  int64_t spill_bytes = 0; ///< spill stores plus loads
  int64_t shared_bytes = 0;
  bool operator==(const CudaBinary &) const = default;
};

/// Everything a plan file carries.
struct Plan {
  std::string producer_version;          ///< anet version that wrote it (kProducerVersion)
  std::string source_name;               ///< the ONNX file name it was compiled from
  std::map<std::string, Graph> programs; ///< entry points by name ("infer", "train_step", ...)
  WeightStore weights;                   ///< parameters shared by all programs, by value name
  Preprocess preprocess;
  std::vector<std::string> class_names; ///< optional labels for infer's top-k
  std::string onnx_model;               ///< the original ONNX file bytes, for export
  /// Compiled CPU kernels by JIT cache key (codegen/cpu/jit.h): a device
  /// whose CPU and compiler give the same key uses them instead of
  /// compiling; elsewhere they are ignored. Optional section KOBJ.
  std::map<std::string, std::string> kernel_objects;
  /// Compiled CUDA kernels (anetc compile --target cuda) by key
  /// "<arch>/<sha256>" (codegen/cuda/nvrtc.h: kernel_key): cubins for sm_XY,
  /// PTX for compute_XY. The cuda device uses those of its GPU's
  /// architecture, else the PTX, else compiles. Optional section CUBN.
  std::map<std::string, CudaBinary> cuda_kernels;
};

/// The one format version this anet reads and writes. Bump it when a reader
/// of the old version would misread the new layout; additions that old
/// readers may skip go into new optional sections instead.
inline constexpr uint32_t kPlanFormatVersion = 1;

/// Fixed facts of the version-1 layout (docs/plan-format.md), shared by the
/// reader, the writer and tools that inspect or repair plans.
namespace plan_layout {
inline constexpr std::string_view kMagic = "ANETPLAN";       ///< first 8 bytes
inline constexpr std::string_view kEndMagic{"ANETEND\0", 8}; ///< first 8 bytes of the trailer
inline constexpr uint64_t kHeaderFixedBytes = 32;   ///< header up to the producer version string
inline constexpr uint64_t kSectionHeaderBytes = 64; ///< tag, flags, length, CRC, reserved
inline constexpr uint64_t kTrailerBytes = 16;       ///< end magic, file CRC, reserved
inline constexpr uint64_t kAlignment = 64;          ///< sections and weight data start here
inline constexpr uint32_t kSectionRequired = 1;     ///< section flag: refuse if unknown
inline constexpr uint32_t kMaxSections = 4096;
inline constexpr uint32_t kMaxProducerBytes = 256;
inline constexpr uint32_t kMaxNameBytes = 4096; ///< program, weight, class and source names
inline constexpr uint32_t kMaxKernelObjects = 1u << 20;
inline constexpr uint64_t kMaxPad = 1u << 14; ///< Preprocess::pad
} // namespace plan_layout

/// The plan as file bytes. Refuses (ExitCode::InvalidModel) a plan that
/// could not be read back: no programs, a program that fails verification,
/// a parameter without weights of its size, or a name over the caps.
Expected<std::string> serialize_plan(const Plan &plan);

/// Reads plan bytes. Every refusal is ExitCode::IncompatiblePlan with a
/// message that starts with `display_name` and says what is wrong: not a
/// plan, truncated, corrupt (naming the section whose checksum fails),
/// another format version, an unknown required section, a program that
/// fails to parse or verify, weights missing or of the wrong size. Every
/// length in the file is checked against the bytes present before use.
Expected<Plan> deserialize_plan(std::string_view bytes, const std::string &display_name);

/// Writes the plan atomically: a temporary file in the same directory,
/// fsync, rename over `path`, fsync of the directory. On failure the
/// temporary file is removed and an existing file at `path` is untouched;
/// I/O errors are ExitCode::IO naming the path and the system's reason.
Status write_plan_file(const Plan &plan, const std::string &path);

/// Reads and checks a plan file; a missing or unreadable file is
/// ExitCode::IO, a bad one as deserialize_plan says.
Expected<Plan> read_plan_file(const std::string &path);

/// A value a program takes or returns, for summaries.
struct TypedName {
  std::string name;
  TensorType type;
};

/// One program of a plan, summarised.
/// One logical device of a program: its work and its memory.
struct DeviceSummary {
  int device = 0;
  int64_t nodes = 0;
  int64_t arena_bytes = 0;     ///< activations after memory planning (the peak)
  int64_t unplanned_bytes = 0; ///< activations with one buffer per value
  int64_t param_bytes = 0;     ///< weights and constants resident there
};

/// The bytes one layer reads from another device in one run.
struct TransferSummary {
  std::string layer; ///< the reading layer ("conv3", "norm1", ...)
  std::string kind;  ///< "copy", "gather", "halo"
  int from = 0;
  int to = 0;
  int64_t bytes = 0;
};

struct ProgramSummary {
  std::string name;
  int64_t node_count = 0;
  int64_t param_count = 0;                  ///< parameters the program reads
  std::map<std::string, int64_t> op_counts; ///< nodes per op name
  std::vector<TypedName> inputs;
  std::vector<TypedName> outputs;
  std::vector<DeviceSummary> devices;     ///< by logical device
  std::vector<TransferSummary> transfers; ///< by layer, in program order
  int64_t transfer_bytes = 0;             ///< all of them, per run
};

/// One section of the plan file as serialize_plan would write it.
struct SectionSummary {
  std::string tag;   ///< "META", "PROG", ...
  std::string label; ///< the program name for PROG sections, else empty
  uint64_t payload_bytes = 0;
};

/// What `anetc inspect` shows.
struct PlanSummary {
  uint32_t format_version = kPlanFormatVersion;
  std::string producer_version;
  std::string source_name;
  std::vector<ProgramSummary> programs;
  int64_t weight_tensors = 0;
  int64_t weight_elements = 0;
  int64_t weight_bytes = 0;
  std::vector<SectionSummary> sections;
  uint64_t file_bytes = 0;
  Preprocess preprocess;
  int64_t class_count = 0;
  uint64_t onnx_bytes = 0;
  /// The CUDA kernels carried (section CUBN), per architecture.
  struct CudaArch {
    std::string arch; ///< "sm_90", or "compute_90" for PTX
    int64_t kernels = 0;
    int32_t max_registers = -1; ///< -1 for PTX
    int64_t spilling = 0;       ///< kernels with spill bytes
    int64_t max_shared_bytes = 0;
    uint64_t bytes = 0;
  };
  std::vector<CudaArch> cuda;
};

/// The sections serialize_plan writes for `plan`, in file order, with their
/// payload sizes; `file_bytes` receives the whole file's size. Computed
/// without building the file.
std::vector<SectionSummary> plan_sections(const Plan &plan, uint64_t &file_bytes);

/// Summarises a plan (section sizes are those serialize_plan writes).
PlanSummary summarize(const Plan &plan);
/// The summary as indented, human-readable lines.
std::string summary_text(const PlanSummary &summary);
/// The summary as JSON, for scripts (`anetc inspect --json`).
nlohmann::json summary_json(const PlanSummary &summary);

} // namespace anet
