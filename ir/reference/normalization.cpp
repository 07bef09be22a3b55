// Reference kernels of the normalising ops: BatchNormalization (inference),
// LRN across channels (ONNX's convention, alpha divided by size), and
// Softmax/LogSoftmax along one axis, computed stably by subtracting the
// maximum first.

#include <algorithm>
#include <cmath>
#include <limits>

#include "ir/reference/indexing.h"
#include "ir/reference/reference.h"

namespace anet {

// y = scale * (x - mean) / sqrt(var + epsilon) + B, per channel (axis 1).
void ref_BatchNormalization(const Attrs &attrs, const InViews &in, const OutViews &out) {
  float epsilon = attrs.f("epsilon");
  const float *x = in[0].data, *scale = in[1].data, *shift = in[2].data, *mean = in[3].data,
              *var = in[4].data;
  ref::AxisSplit s = ref::split_at_axis(in[0].shape, 1);
  for (int64_t o = 0; o < s.outer; ++o)
    for (int64_t c = 0; c < s.n; ++c) {
      float inv_std = 1.f / std::sqrt(var[c] + epsilon);
      for (int64_t i = 0; i < s.inner; ++i) {
        int64_t at = (o * s.n + c) * s.inner + i;
        out[0].data[at] = scale[c] * (x[at] - mean[c]) * inv_std + shift[c];
      }
    }
}

// y = x / (bias + alpha / size * square_sum)^beta, where square_sum adds x^2
// over channels c - floor((size-1)/2) .. c + ceil((size-1)/2) that exist.
void ref_LRN(const Attrs &attrs, const InViews &in, const OutViews &out) {
  float alpha = attrs.f("alpha"), beta = attrs.f("beta"), bias = attrs.f("bias");
  int64_t size = attrs.i("size");
  int64_t before = (size - 1) / 2, after = size - 1 - before;
  const float *x = in[0].data;
  ref::AxisSplit s = ref::split_at_axis(in[0].shape, 1);
  auto at = [&](int64_t n, int64_t c, int64_t i) { return (n * s.n + c) * s.inner + i; };
  for (int64_t n = 0; n < s.outer; ++n)
    for (int64_t c = 0; c < s.n; ++c)
      for (int64_t i = 0; i < s.inner; ++i) {
        float square_sum = 0.f;
        for (int64_t j = std::max<int64_t>(0, c - before); j <= std::min(s.n - 1, c + after); ++j)
          square_sum += x[at(n, j, i)] * x[at(n, j, i)];
        float scale = bias + alpha / static_cast<float>(size) * square_sum;
        out[0].data[at(n, c, i)] = x[at(n, c, i)] / std::pow(scale, beta);
      }
}

namespace {

// For every line along `axis`: y = x - max - log(sum(exp(x - max))) when
// `log` is set, else exp(x - max) / sum(exp(x - max)).
void softmax(const Attrs &attrs, const InViews &in, const OutViews &out, bool log) {
  const float *x = in[0].data;
  float *y = out[0].data;
  ref::AxisSplit s = ref::split_at_axis(in[0].shape, attrs.i("axis"));
  for (int64_t o = 0; o < s.outer; ++o)
    for (int64_t i = 0; i < s.inner; ++i) {
      auto at = [&](int64_t k) { return (o * s.n + k) * s.inner + i; };
      float max = -std::numeric_limits<float>::infinity();
      for (int64_t k = 0; k < s.n; ++k)
        max = std::max(max, x[at(k)]);
      float sum = 0.f;
      for (int64_t k = 0; k < s.n; ++k)
        sum += std::exp(x[at(k)] - max);
      for (int64_t k = 0; k < s.n; ++k)
        y[at(k)] = log ? x[at(k)] - max - std::log(sum) : std::exp(x[at(k)] - max) / sum;
    }
}

} // namespace

void ref_Softmax(const Attrs &attrs, const InViews &in, const OutViews &out) {
  softmax(attrs, in, out, false);
}

void ref_LogSoftmax(const Attrs &attrs, const InViews &in, const OutViews &out) {
  softmax(attrs, in, out, true);
}

} // namespace anet
