#pragma once
/// Training and evaluation datasets, recognised by the content of a folder:
///
/// - IDX (MNIST / Fashion-MNIST): `train-images-idx3-ubyte` and
///   `train-labels-idx1-ubyte` (and `t10k-*` for the test set), each plain or
///   gzipped (`.gz`). The whole split is read into memory and validated.
/// - ImageFolder: `train/CLASS/*.{jpg,jpeg,png}`, `val/CLASS/...`,
///   `test/CLASS/...`. Classes are the sub-folders sorted by name; images are
///   decoded lazily, one per `sample()` call.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ir/error.h"

namespace anet {

/// Which part of a dataset to open. IDX sets have only a test set (`t10k`),
/// which serves Val and Test alike.
enum class Split { Train, Val, Test };

/// "train", "val" or "test".
const char *split_name(Split s);

/// A decoded image: interleaved HWC, values in [0, 255] as floats.
struct RawImage {
  int64_t height = 0;
  int64_t width = 0;
  int64_t channels = 0;      ///< 1 (grey) or 3 (RGB)
  std::vector<float> pixels; ///< height * width * channels values

  /// Value at row y, column x, channel c.
  float at(int64_t y, int64_t x, int64_t c) const {
    return pixels[static_cast<size_t>((y * width + x) * channels + c)];
  }
};

/// One labelled example.
struct Sample {
  RawImage image;
  int label = 0;
};

/// An opened split of a dataset. Cheap to copy (shares its data);
/// `sample()` may be called from several threads at once.
class Dataset {
public:
  /// Number of examples.
  int64_t size() const;
  /// Number of classes (labels are 0 .. num_classes() - 1).
  int64_t num_classes() const;
  /// Class names, index = label. IDX sets use "0", "1", ...
  const std::vector<std::string> &class_names() const;
  /// Channels of every image (IDX: 1; ImageFolder: 3).
  int64_t channels() const;
  /// The label of example `i` without decoding it.
  int label(int64_t i) const;
  /// What names example `i` in messages: its file, or "file[i]" for IDX.
  std::string sample_name(int64_t i) const;
  /// Decodes example `i` (0 <= i < size()). A corrupt image is
  /// ExitCode::Dataset, an unreadable file ExitCode::IO, both naming it.
  Expected<Sample> sample(int64_t i) const;
  /// A 64-bit hash of the split's content (IDX: every byte; ImageFolder:
  /// relative paths, sizes and modification times), keying cached statistics.
  uint64_t fingerprint() const;

  /// The split's data (defined in dataset.cpp).
  struct Impl;

private:
  std::shared_ptr<const Impl> impl_;
  friend Expected<Dataset> open_dataset(const std::string &dir, Split split);
};

/// Opens `split` of the dataset in folder `dir`. A missing folder, an
/// unrecognised layout, malformed IDX files (bad magic, dimensions, counts,
/// truncation), or an empty class folder are ExitCode::Dataset; unreadable
/// files ExitCode::IO. Messages name the file or folder.
Expected<Dataset> open_dataset(const std::string &dir, Split split);

} // namespace anet
