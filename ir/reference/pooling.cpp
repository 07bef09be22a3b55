// Reference kernels of the pools: MaxPool and AveragePool over 2-D windows
// (asymmetric pads, strides, dilations, ceil_mode), and GlobalAveragePool.
//
// Padding never holds a value: MaxPool ignores it (as if it were -inf), and
// AveragePool adds only input elements. AveragePool's divisor is the number
// of taps inside the input, or with count_include_pad the whole kernel, as
// ONNX's reference implementation and ONNX Runtime do (a ceil_mode window
// that runs past the end of the padded input still divides by the kernel
// size; PyTorch would count only the taps inside pads + input).

#include <limits>

#include "ir/reference/indexing.h"
#include "ir/reference/reference.h"

namespace anet {
namespace {

// Calls f(value) for every tap of the window at output (oh, ow) that lies
// inside the input plane `plane` of size height x width.
template <class F>
void for_each_tap(const ref::Window &win, const float *plane, int64_t height, int64_t width,
                  int64_t oh, int64_t ow, F f) {
  for (int64_t i = 0; i < win.kernel[0]; ++i)
    for (int64_t j = 0; j < win.kernel[1]; ++j) {
      int64_t ih = win.tap(0, oh, i), iw = win.tap(1, ow, j);
      if (ih >= 0 && ih < height && iw >= 0 && iw < width)
        f(plane[ih * width + iw]);
    }
}

// Runs `pool(plane, oh, ow)` for every output element of an NCHW pool.
template <class F> void pool_planes(const InViews &in, const OutViews &out, F pool) {
  const Shape &xs = in[0].shape, &ys = out[0].shape;
  int64_t planes = xs[0] * xs[1], plane_size = xs[2] * xs[3];
  float *y = out[0].data;
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t oh = 0; oh < ys[2]; ++oh)
      for (int64_t ow = 0; ow < ys[3]; ++ow)
        *y++ = pool(in[0].data + p * plane_size, oh, ow);
}

} // namespace

void ref_MaxPool(const Attrs &attrs, const InViews &in, const OutViews &out) {
  ref::Window win = ref::window_of(attrs);
  int64_t height = in[0].shape[2], width = in[0].shape[3];
  pool_planes(in, out, [&](const float *plane, int64_t oh, int64_t ow) {
    float best = -std::numeric_limits<float>::infinity();
    for_each_tap(win, plane, height, width, oh, ow, [&](float v) { best = v > best ? v : best; });
    return best;
  });
}

void ref_AveragePool(const Attrs &attrs, const InViews &in, const OutViews &out) {
  ref::Window win = ref::window_of(attrs);
  bool include_pad = attrs.i("count_include_pad") != 0;
  int64_t height = in[0].shape[2], width = in[0].shape[3];
  pool_planes(in, out, [&](const float *plane, int64_t oh, int64_t ow) {
    float sum = 0.f;
    for_each_tap(win, plane, height, width, oh, ow, [&](float v) { sum += v; });
    return sum / static_cast<float>(win.average_divisor(oh, ow, height, width, include_pad));
  });
}

// Mean over every axis after N and C.
void ref_GlobalAveragePool(const Attrs &, const InViews &in, const OutViews &out) {
  ref::AxisSplit s = ref::split_at_axis(in[0].shape, 1);
  for (int64_t p = 0; p < s.outer * s.n; ++p) {
    float sum = 0.f;
    for (int64_t i = 0; i < s.inner; ++i)
      sum += in[0].data[p * s.inner + i];
    out[0].data[p] = sum / static_cast<float>(s.inner);
  }
}

} // namespace anet
