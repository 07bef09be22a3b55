/// The paper's test-time preprocessing of one image: rescale the shorter
/// side, cut out the centre, subtract the mean (image or per channel), scale.
///
/// Design note: resampling is separable. For each output pixel of an axis
/// the source pixels under a triangle filter centred on it are weighted and
/// normalised ("taps"). The triangle's half-width is one source pixel when
/// enlarging (plain bilinear interpolation between pixel centres) and the
/// scale factor when shrinking, so every source pixel contributes to the
/// output (no aliasing). Since only the centre crop is kept, taps are built
/// for the crop's rows and columns only, and the horizontal pass runs only
/// over the source rows the vertical taps read.

#include <algorithm>
#include <cmath>

#include "runtime/io/image.h"

namespace anet {

namespace {

/// The filter taps of one axis: output pixel i reads source pixels
/// first[i] .. first[i] + count[i] - 1 with weights[offset[i] + k].
struct AxisTaps {
  std::vector<int64_t> first;
  std::vector<int64_t> count;
  std::vector<size_t> offset;
  std::vector<float> weights;
};

/// Taps for output pixels [out_begin, out_begin + out_count) of an axis of
/// `in_size` source pixels rescaled to `out_size`.
AxisTaps make_taps(int64_t in_size, int64_t out_size, int64_t out_begin, int64_t out_count) {
  const double scale = static_cast<double>(in_size) / static_cast<double>(out_size);
  const double support = std::max(scale, 1.0); // triangle half-width, in source pixels
  AxisTaps taps;
  std::vector<double> w;
  for (int64_t o = out_begin; o < out_begin + out_count; ++o) {
    const double center = (static_cast<double>(o) + 0.5) * scale;
    // Source pixel j (centre j + 0.5) has a non-zero weight iff
    // |j + 0.5 - center| < support.
    const int64_t lo = std::max<int64_t>(0, static_cast<int64_t>(std::floor(center - support)));
    const int64_t hi =
        std::min<int64_t>(in_size, static_cast<int64_t>(std::ceil(center + support)) + 1);
    w.clear();
    double sum = 0;
    for (int64_t j = lo; j < hi; ++j) {
      const double d = std::abs((static_cast<double>(j) + 0.5 - center) / support);
      w.push_back(std::max(0.0, 1.0 - d));
      sum += w.back();
    }
    // Trim zero weights at both ends so the inner loops touch no extra pixel.
    size_t a = 0, b = w.size();
    while (a < b && w[a] == 0)
      ++a;
    while (b > a && w[b - 1] == 0)
      --b;
    assert(a < b && sum > 0 && "a triangle around a point inside the image covers a pixel");
    taps.first.push_back(lo + static_cast<int64_t>(a));
    taps.count.push_back(static_cast<int64_t>(b - a));
    taps.offset.push_back(taps.weights.size());
    for (size_t k = a; k < b; ++k)
      taps.weights.push_back(static_cast<float>(w[k] / sum));
  }
  return taps;
}

} // namespace

std::pair<int64_t, int64_t> rescaled_size(int64_t height, int64_t width, int64_t shorter_side) {
  assert(height > 0 && width > 0 && shorter_side > 0);
  if (height <= width) {
    const double w = std::round(static_cast<double>(width) * static_cast<double>(shorter_side) /
                                static_cast<double>(height));
    return {shorter_side, std::max<int64_t>(shorter_side, static_cast<int64_t>(w))};
  }
  const double h = std::round(static_cast<double>(height) * static_cast<double>(shorter_side) /
                              static_cast<double>(width));
  return {std::max<int64_t>(shorter_side, static_cast<int64_t>(h)), shorter_side};
}

RgbImage resize_and_center_crop(const RgbImage &image, int64_t shorter_side, int64_t crop_h,
                                int64_t crop_w) {
  assert(crop_h > 0 && crop_w > 0 && crop_h <= shorter_side && crop_w <= shorter_side);
  assert(static_cast<int64_t>(image.pixels.size()) == image.height * image.width * 3);
  const auto [out_h, out_w] = rescaled_size(image.height, image.width, shorter_side);
  const int64_t y0 = (out_h - crop_h) / 2;
  const int64_t x0 = (out_w - crop_w) / 2;
  const AxisTaps rows = make_taps(image.height, out_h, y0, crop_h);
  const AxisTaps cols = make_taps(image.width, out_w, x0, crop_w);

  // Horizontal pass over the source rows the vertical taps read.
  const int64_t row_lo = rows.first.front();
  const int64_t row_hi = rows.first.back() + rows.count.back();
  std::vector<float> mid(static_cast<size_t>((row_hi - row_lo) * crop_w * 3));
  for (int64_t y = row_lo; y < row_hi; ++y) {
    const float *src = image.pixels.data() + y * image.width * 3;
    float *dst = mid.data() + (y - row_lo) * crop_w * 3;
    for (int64_t x = 0; x < crop_w; ++x) {
      const float *w = cols.weights.data() + cols.offset[x];
      const float *s = src + cols.first[x] * 3;
      float r = 0, g = 0, b = 0;
      for (int64_t k = 0; k < cols.count[x]; ++k) {
        r += w[k] * s[3 * k];
        g += w[k] * s[3 * k + 1];
        b += w[k] * s[3 * k + 2];
      }
      dst[3 * x] = r;
      dst[3 * x + 1] = g;
      dst[3 * x + 2] = b;
    }
  }

  // Vertical pass.
  RgbImage out;
  out.height = crop_h;
  out.width = crop_w;
  out.pixels.assign(static_cast<size_t>(crop_h * crop_w * 3), 0.0f);
  const int64_t row_len = crop_w * 3;
  for (int64_t y = 0; y < crop_h; ++y) {
    float *dst = out.pixels.data() + y * row_len;
    const float *w = rows.weights.data() + rows.offset[y];
    for (int64_t k = 0; k < rows.count[y]; ++k) {
      const float *src = mid.data() + (rows.first[y] + k - row_lo) * row_len;
      for (int64_t i = 0; i < row_len; ++i)
        dst[i] += w[k] * src[i];
    }
  }
  return out;
}

Expected<Tensor> load_image(const std::string &path, const Preprocess &pp, int64_t channels,
                            int64_t crop_h, int64_t crop_w) {
  if (channels != 1 && channels != 3)
    return make_error(ExitCode::Usage, path, ": the model's input has ", channels,
                      " channels; images can feed only 1 (grey) or 3 (RGB) channel inputs "
                      "(give a .npy tensor instead)");
  if (crop_h <= 0 || crop_w <= 0 || crop_h > pp.patch() || crop_w > pp.patch())
    return make_error(ExitCode::Usage, path, ": the resize to a shorter side of ", pp.resize,
                      " pixels", pp.pad > 0 ? " and its frame" : "", " cannot hold the model's ",
                      crop_h, "x", crop_w, " input crop");
  if (crop_h > pp.resize || crop_w > pp.resize) {
    // The centre crop reaches into the frame: the image's central part
    // (whole along the sides the crop exceeds) amid zeros.
    const int64_t inner_h = std::min(crop_h, pp.resize), inner_w = std::min(crop_w, pp.resize);
    ANET_ASSIGN_OR_RETURN(Tensor inner, load_image(path, pp, channels, inner_h, inner_w));
    Tensor t(TensorType{DType::F32, {1, channels, crop_h, crop_w}});
    const int64_t oy = (crop_h - inner_h + 1) / 2, ox = (crop_w - inner_w + 1) / 2;
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t y = 0; y < inner_h; ++y)
        std::copy_n(&inner.data[static_cast<size_t>((c * inner_h + y) * inner_w)], inner_w,
                    &t.data[static_cast<size_t>((c * crop_h + oy + y) * crop_w + ox)]);
    return t;
  }
  constexpr int64_t kMaxResize = int64_t{1} << 14;
  if (pp.resize > kMaxResize)
    return make_error(ExitCode::Usage, path, ": resize ", pp.resize, " is over the limit of ",
                      kMaxResize, " pixels");
  const size_t crop_size = static_cast<size_t>(channels * crop_h * crop_w);
  const size_t full_size = static_cast<size_t>(channels * pp.resize * pp.resize);
  if (!pp.mean_image.empty() && pp.mean_image.size() != crop_size &&
      pp.mean_image.size() != full_size)
    return make_error(ExitCode::IncompatiblePlan, path, ": the plan's mean image has ",
                      pp.mean_image.size(), " values; expected ", channels, "x", crop_h, "x",
                      crop_w, " = ", crop_size, " or ", channels, "x", pp.resize, "x", pp.resize,
                      " = ", full_size);
  if (pp.mean_image.empty() && !pp.mean.empty() && pp.mean.size() != static_cast<size_t>(channels))
    return make_error(ExitCode::IncompatiblePlan, path, ": the plan's mean has ", pp.mean.size(),
                      " values but the model's input has ", channels, " channels");

  ANET_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, read_file_bytes(path, kMaxImageFileBytes));
  ANET_ASSIGN_OR_RETURN(RgbImage decoded, decode_image(path, bytes));
  bytes = {};
  const RgbImage crop = resize_and_center_crop(decoded, pp.resize, crop_h, crop_w);

  Tensor t(TensorType{DType::F32, {1, channels, crop_h, crop_w}});
  const int64_t plane = crop_h * crop_w;
  for (int64_t p = 0; p < plane; ++p) {
    const float *rgb = crop.pixels.data() + 3 * p;
    if (channels == 1) {
      t.data[p] = 0.299f * rgb[0] + 0.587f * rgb[1] + 0.114f * rgb[2];
      continue;
    }
    for (int64_t c = 0; c < 3; ++c)
      t.data[c * plane + p] = rgb[c];
  }

  if (pp.mean_image.size() == crop_size) {
    for (size_t i = 0; i < crop_size; ++i)
      t.data[i] -= pp.mean_image[i];
  } else if (!pp.mean_image.empty()) {
    // A resize x resize mean image: subtract its centre, where the crop is.
    const int64_t my0 = (pp.resize - crop_h) / 2, mx0 = (pp.resize - crop_w) / 2;
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t y = 0; y < crop_h; ++y)
        for (int64_t x = 0; x < crop_w; ++x)
          t.data[(c * crop_h + y) * crop_w + x] -=
              pp.mean_image[(c * pp.resize + my0 + y) * pp.resize + mx0 + x];
  } else if (!pp.mean.empty()) {
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t p = 0; p < plane; ++p)
        t.data[c * plane + p] -= pp.mean[c];
  }
  if (pp.scale != 1.0f)
    for (float &v : t.data)
      v *= pp.scale;
  return t;
}

} // namespace anet
