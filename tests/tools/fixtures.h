#pragma once
/// Test helpers for tests/tools: a scratch directory per test, files written
/// byte by byte, PNG and JPEG encoders (libpng, libturbojpeg) for images of
/// known content, and a runner that executes a built tool and captures its
/// exit status and output.

#include <cstdint>
#include <string>
#include <vector>

namespace anet::testing {

/// A fresh directory under the system's temp directory, removed with its
/// contents when the object goes away.
class ScratchDir {
public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir &) = delete;
  ScratchDir &operator=(const ScratchDir &) = delete;

  /// `name` inside the directory.
  std::string path(const std::string &name) const { return dir_ + "/" + name; }
  const std::string &dir() const { return dir_; }

private:
  std::string dir_;
};

/// Writes `bytes` to `path` (asserting success).
void write_bytes(const std::string &path, const std::vector<uint8_t> &bytes);
void write_text(const std::string &path, const std::string &text);
/// The whole file (asserting it can be read).
std::vector<uint8_t> read_bytes(const std::string &path);

/// What a PNG encoder is given: the IHDR fields, a palette and tRNS when
/// wanted, and each row already packed as the PNG stores it (sub-byte
/// samples packed MSB first, 16-bit samples big-endian).
struct PngSpec {
  uint32_t width = 0;
  uint32_t height = 0;
  int bit_depth = 8;
  int color_type = 2; ///< PNG_COLOR_TYPE_*: 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA
  bool interlaced = false;
  std::vector<uint8_t> palette_rgb; ///< 3 bytes an entry
  std::vector<uint8_t> trns;        ///< palette alpha values, or the grey key (2 bytes, big-endian)
  std::vector<std::vector<uint8_t>> rows;
};

/// Encodes `spec` as a PNG file's bytes.
std::vector<uint8_t> encode_png(const PngSpec &spec);

/// An 8-bit RGB PNG of `pixels` (HWC, 3 bytes a pixel).
std::vector<uint8_t> encode_png_rgb8(uint32_t width, uint32_t height,
                                     const std::vector<uint8_t> &pixels);

/// A JPEG of `pixels` (HWC with `channels` bytes a pixel: 1 grey, 3 RGB,
/// 4 CMYK) at `quality`, without chroma subsampling.
std::vector<uint8_t> encode_jpeg(int width, int height, int channels,
                                 const std::vector<uint8_t> &pixels, int quality);

/// Exit status and output of a finished process.
struct RunResult {
  int exit_code = -1; ///< -1 if it did not exit normally (a crash)
  int signal = 0;     ///< the signal that ended it, if any
  std::string out;
  std::string err;
};

/// Runs `program` with `args` (argv[1..]) and waits for it.
RunResult run_program(const std::string &program, const std::vector<std::string> &args);

} // namespace anet::testing
