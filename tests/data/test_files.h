#pragma once
/// Writers of small dataset files for the data pipeline's tests: scratch
/// folders, IDX files (plain or gzipped) and PNG images.

#include <cstdint>
#include <string>
#include <vector>

namespace anet::testing {

/// A fresh, empty temporary folder, removed with everything in it on destruction.
class ScratchDir {
public:
  ScratchDir();
  ~ScratchDir();
  /// The folder's path.
  const std::string &path() const { return path_; }
  /// path() + "/" + rel, creating the parent folders.
  std::string file(const std::string &rel) const;

private:
  std::string path_;
};

/// Writes `bytes` to `path`, gzipped when `gzip`.
void write_file(const std::string &path, const std::vector<uint8_t> &bytes, bool gzip = false);

/// An IDX file image: big-endian `magic`, dimensions, then `data`.
std::vector<uint8_t> idx_bytes(uint32_t magic, const std::vector<uint32_t> &dims,
                               const std::vector<uint8_t> &data);

/// Writes an 8-bit PNG with `channels` 1 (grey) or 3 (RGB), HWC pixels.
void write_png(const std::string &path, int width, int height, int channels,
               const std::vector<uint8_t> &pixels);

} // namespace anet::testing
