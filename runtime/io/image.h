#pragma once
/// Image decoding and the paper's test-time preprocessing: decode a JPEG or
/// PNG (recognised by its content, not its name), rescale so the shorter side
/// is `Preprocess::resize`, cut out the central crop, subtract the mean and
/// scale. The result is what the `infer` program takes for one image.
///
/// The steps are public one by one so that tests (and the data pipeline) can
/// check and reuse each of them.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ir/error.h"
#include "ir/plan.h"
#include "ir/tensor.h"

namespace anet {

/// Largest image the decoders accept, in pixels (width * height): a guard
/// against decompression bombs (a few kilobytes of PNG can claim gigapixels).
/// 2^26 = 67 M pixels is above any camera's photographs and bounds the
/// decoded floats of one image to 768 MiB.
inline constexpr int64_t kMaxImagePixels = int64_t{1} << 26;

/// Largest image file read into memory, in bytes (1 GiB).
inline constexpr int64_t kMaxImageFileBytes = int64_t{1} << 30;

/// The container formats the decoders know.
enum class ImageFormat { Unknown, Jpeg, Png };

/// The format `bytes` starts with (its magic number), or Unknown.
ImageFormat sniff_image_format(const uint8_t *bytes, size_t size);

/// A decoded image: interleaved RGB (HWC), values in [0, 255] as floats.
/// 16-bit PNG samples keep their precision (v * 255 / 65535).
struct RgbImage {
  int64_t height = 0;
  int64_t width = 0;
  std::vector<float> pixels; ///< height * width * 3 values, row-major HWC
};

/// Decodes a JPEG or PNG held in memory. `name` prefixes error messages.
/// Grey images are expanded to RGB, palettes looked up, alpha dropped (as
/// PIL's convert("RGB") does), CMYK JPEGs converted. Corrupt, truncated or
/// unknown data and images over kMaxImagePixels fail with ExitCode::Dataset.
Expected<RgbImage> decode_image(const std::string &name, const std::vector<uint8_t> &bytes);

/// Reads a whole file. A missing or unreadable file is ExitCode::IO with
/// "path: <reason>"; a file over `max_bytes` is ExitCode::Dataset.
Expected<std::vector<uint8_t>> read_file_bytes(const std::string &path, int64_t max_bytes);

/// Rescales `image` so that its shorter side is `shorter_side` (the longer
/// side keeps the aspect ratio, rounded to the nearest pixel) and returns the
/// central crop_h x crop_w window of the result, still HWC RGB.
///
/// Resampling is separable with a triangle (bilinear) filter on pixel
/// centres; when shrinking, the filter is widened by the scale factor so
/// every source pixel contributes (antialiasing, as PIL's resize). The crop
/// starts at floor((H - crop_h) / 2), floor((W - crop_w) / 2) of the rescaled
/// image, as Caffe's centre crop. Only the cropped window is computed.
/// Requires crop_h, crop_w <= shorter_side (asserted).
RgbImage resize_and_center_crop(const RgbImage &image, int64_t shorter_side, int64_t crop_h,
                                int64_t crop_w);

/// The size of `image` rescaled so its shorter side is `shorter_side`:
/// {height, width}.
std::pair<int64_t, int64_t> rescaled_size(int64_t height, int64_t width, int64_t shorter_side);

/// Loads the image at `path` as the `infer` program's input for one image:
/// decode, resize_and_center_crop(pp.resize, crop_h, crop_w), convert to
/// `channels` (3: RGB; 1: luminance 0.299 R + 0.587 G + 0.114 B), lay out as
/// CHW, subtract pp.mean_image (when given: C*crop_h*crop_w values, or
/// C*resize*resize values of which the centre is used, as the paper's
/// 256x256 mean image) else pp.mean per channel (when given), then multiply
/// by pp.scale. Returns f32[1, channels, crop_h, crop_w]. A crop larger than
/// pp.resize (possible with pp.pad) is the centre of the framed patch: the
/// image amid zeros, placed as the loader's centre crop places it.
///
/// Errors: missing/unreadable file ExitCode::IO; corrupt or unknown image
/// data ExitCode::Dataset; a `channels` other than 1 or 3, or a framed
/// patch (resize + 2 pad) smaller than the crop, ExitCode::Usage; a mean of the wrong size
/// ExitCode::IncompatiblePlan.
Expected<Tensor> load_image(const std::string &path, const Preprocess &pp, int64_t channels,
                            int64_t crop_h, int64_t crop_w);

} // namespace anet
