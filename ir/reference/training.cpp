// Reference kernels of the training ops (the "Training" section of
// ir/ops.def): the loss, the training-mode forms of Dropout and
// BatchNormalization, ReduceSum, the gradient ops the autodiff pass emits, and
// the SGD update.
//
// Each gradient kernel is the exact derivative of the forward reference
// kernel it belongs to (linear.cpp, normalization.cpp, pooling.cpp): LRN's
// channel window, MaxPool's first maximal tap, AveragePool's divisor. Long
// sums (the convolution gradients, ReduceSum, batch statistics, the loss's
// mean) are accumulated in double. Outputs never share memory with inputs,
// except that the executor may write SgdUpdate's W' and V', and
// BatchNormTrain's running statistics, over the inputs they replace
// (Graph::updates): those kernels read an element before writing it.

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include "ir/activation.h"
#include "ir/random.h"
#include "ir/reference/indexing.h"
#include "ir/reference/reference.h"

namespace anet {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Whether `label` names one of `classes` classes: an integer in [0, classes).
// False for NaN.
bool valid_label(float label, int64_t classes) {
  return label >= 0.f && label < static_cast<float>(classes) && label == std::floor(label);
}

// log(sum(exp(row))) over `classes` values, with the maximum subtracted
// before exponentiating.
double log_sum_exp(const float *row, int64_t classes) {
  float max = -std::numeric_limits<float>::infinity();
  for (int64_t k = 0; k < classes; ++k)
    max = std::max(max, row[k]);
  double sum = 0.0;
  for (int64_t k = 0; k < classes; ++k)
    sum += std::exp(static_cast<double>(row[k]) - max);
  return max + std::log(sum);
}

} // namespace

// loss = mean over the rows n of log(sum_k exp(x[n,k])) - x[n,label[n]]; NaN
// when a label is not a class index.
void ref_SoftmaxCrossEntropy(const Attrs &, const InViews &in, const OutViews &out) {
  int64_t rows = in[0].shape[0], classes = in[0].shape[1];
  const float *logits = in[0].data, *labels = in[1].data;
  double total = 0.0;
  for (int64_t n = 0; n < rows; ++n) {
    const float *row = logits + n * classes;
    total += valid_label(labels[n], classes)
                 ? log_sum_exp(row, classes) - row[static_cast<int64_t>(labels[n])]
                 : kNaN;
  }
  out[0].data[0] = static_cast<float>(total / static_cast<double>(rows));
}

// Element i (row-major) is 1/(1-ratio) when ir/random.h's draw for (seed,
// step, i) keeps it, else 0. The step input holds an integer as a float.
void ref_DropoutMask(const Attrs &attrs, const InViews &in, const OutViews &out) {
  float ratio = attrs.f("ratio");
  auto seed = static_cast<uint64_t>(attrs.i("seed"));
  auto step = static_cast<uint64_t>(std::llround(in[0].data[0]));
  float kept = 1.f / (1.f - ratio);
  int64_t n = ref::numel(out[0].shape);
  for (int64_t i = 0; i < n; ++i)
    out[0].data[i] = dropout_keeps(seed, step, static_cast<uint64_t>(i), ratio) ? kept : 0.f;
}

// Per channel (axis 1): the batch mean and population variance over the
// other axes; y = scale * (x - mean) * inv_std + B as in
// ref_BatchNormalization, with inv_std = 1/sqrt(var + epsilon); running
// statistics become running * momentum + batch * (1 - momentum); the batch
// mean and inv_std are saved for BatchNormGrad. A channel's running values
// are read before outputs 1 and 2 are written, so they may replace inputs 3
// and 4 in place.
void ref_BatchNormTrain(const Attrs &attrs, const InViews &in, const OutViews &out) {
  float epsilon = attrs.f("epsilon"), momentum = attrs.f("momentum");
  const float *x = in[0].data, *scale = in[1].data, *shift = in[2].data, *running_mean = in[3].data,
              *running_var = in[4].data;
  float *y = out[0].data;
  ref::AxisSplit s = ref::split_at_axis(in[0].shape, 1);
  auto count = static_cast<double>(s.outer * s.inner);
  for (int64_t c = 0; c < s.n; ++c) {
    auto at = [&](int64_t o, int64_t i) { return (o * s.n + c) * s.inner + i; };
    double sum = 0.0;
    for (int64_t o = 0; o < s.outer; ++o)
      for (int64_t i = 0; i < s.inner; ++i)
        sum += x[at(o, i)];
    double mean = sum / count;
    double squares = 0.0;
    for (int64_t o = 0; o < s.outer; ++o)
      for (int64_t i = 0; i < s.inner; ++i) {
        double d = x[at(o, i)] - mean;
        squares += d * d;
      }
    double var = squares / count;

    auto batch_mean = static_cast<float>(mean);
    auto inv_std = static_cast<float>(1.0 / std::sqrt(var + epsilon));
    for (int64_t o = 0; o < s.outer; ++o)
      for (int64_t i = 0; i < s.inner; ++i)
        y[at(o, i)] = scale[c] * (x[at(o, i)] - batch_mean) * inv_std + shift[c];
    float new_mean = running_mean[c] * momentum + batch_mean * (1.f - momentum);
    float new_var = running_var[c] * momentum + static_cast<float>(var) * (1.f - momentum);
    out[1].data[c] = new_mean;
    out[2].data[c] = new_var;
    out[3].data[c] = batch_mean;
    out[4].data[c] = inv_std;
  }
}

// Sums over `axes`. keepdims changes only the output's shape: with or without
// the size-1 axes its elements lie in the same order.
void ref_ReduceSum(const Attrs &attrs, const InViews &in, const OutViews &out) {
  const Shape &xs = in[0].shape;
  if (xs.empty()) {
    out[0].data[0] = in[0].data[0];
    return;
  }
  Shape kept = xs;
  for (int64_t axis : attrs.ints("axes"))
    kept[static_cast<size_t>(axis)] = 1;
  // Offsets into the output of the input's indices (0 along reduced axes).
  std::vector<int64_t> to_out = ref::broadcast_strides(kept, xs);

  // The input as rows along its last axis.
  Shape rows(xs.begin(), xs.end() - 1);
  std::vector<int64_t> row_to_out(to_out.begin(), to_out.end() - 1);
  int64_t row_length = xs.back(), along_row = to_out.back();
  std::vector<double> sums(static_cast<size_t>(ref::numel(out[0].shape)), 0.0);
  const float *x = in[0].data;
  ref::for_each_index(rows, [&](const ref::Index &index) {
    double *sum = sums.data() + ref::offset_of(index, row_to_out);
    for (int64_t j = 0; j < row_length; ++j)
      sum[j * along_row] += x[j];
    x += row_length;
  });
  for (size_t i = 0; i < sums.size(); ++i)
    out[0].data[i] = static_cast<float>(sums[i]);
}

// dX = dY * f'(x), from the activation's output Y.
void ref_ActivationGrad(const Attrs &attrs, const InViews &in, const OutViews &out) {
  std::optional<Activation> act = fused_activation(attrs);
  assert(act && "ActivationGrad without an activation");
  int64_t n = ref::numel(out[0].shape);
  for (int64_t i = 0; i < n; ++i)
    out[0].data[i] = in[0].data[i] * act->slope_at_output(in[1].data[i]);
}

namespace {

// Output positions [first, last) along spatial axis `axis`.
struct OutputSpan {
  int64_t first = 0;
  int64_t last = 0;
};

// The output positions whose tap `k` along `axis` lies inside an input of
// `size` (Window::tap grows with the output position).
OutputSpan taps_inside(const ref::Window &win, int axis, int64_t k, int64_t size, int64_t outputs) {
  OutputSpan span{0, outputs};
  while (span.first < span.last && win.tap(axis, span.first, k) < 0)
    ++span.first;
  while (span.last > span.first && win.tap(axis, span.last - 1, k) >= size)
    --span.last;
  return span;
}

} // namespace

// dX[n,c,ih,iw] adds dY[n,m,oh,ow] * W[m,c',i,j] over every output (oh,ow) of
// the maps m of c's group whose tap (i,j) reads (ih,iw), c' being c within
// its group (ref_Conv's indexing). Scattered window by window into a double
// accumulator holding one image's channels of one group.
void ref_ConvGradInput(const Attrs &attrs, const InViews &in, const OutViews &out) {
  const Shape &ys = in[0].shape, &ws = in[1].shape, &xs = out[0].shape;
  const float *dy = in[0].data, *w = in[1].data;
  ref::Window win = ref::window_of(attrs);
  int64_t batch = xs[0], channels = xs[1], height = xs[2], width = xs[3];
  int64_t maps = ws[0], group_channels = ws[1], kh = ws[2], kw = ws[3];
  int64_t out_h = ys[2], out_w = ys[3];
  int64_t groups = attrs.i("group"), maps_per_group = maps / groups;
  int64_t group_size = group_channels * height * width;

  std::vector<double> acc(static_cast<size_t>(group_size));
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t g = 0; g < groups; ++g) {
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t m = g * maps_per_group; m < (g + 1) * maps_per_group; ++m)
        for (int64_t c = 0; c < group_channels; ++c)
          for (int64_t i = 0; i < kh; ++i) {
            OutputSpan rows = taps_inside(win, 0, i, height, out_h);
            for (int64_t j = 0; j < kw; ++j) {
              OutputSpan cols = taps_inside(win, 1, j, width, out_w);
              double wv = w[((m * group_channels + c) * kh + i) * kw + j];
              for (int64_t oh = rows.first; oh < rows.last; ++oh) {
                const float *dy_row = dy + ((n * maps + m) * out_h + oh) * out_w;
                double *acc_row = acc.data() + (c * height + win.tap(0, oh, i)) * width;
                for (int64_t ow = cols.first; ow < cols.last; ++ow)
                  acc_row[win.tap(1, ow, j)] += dy_row[ow] * wv;
              }
            }
          }
      float *dx = out[0].data + (n * channels + g * group_channels) * height * width;
      for (int64_t k = 0; k < group_size; ++k)
        dx[k] = static_cast<float>(acc[static_cast<size_t>(k)]);
    }
}

// dW[m,c,i,j] = sum over n, oh, ow of dY[n,m,oh,ow] times the input element
// that tap (i,j) of window (oh,ow) reads in channel c of m's group (none in
// the padding).
void ref_ConvGradWeight(const Attrs &attrs, const InViews &in, const OutViews &out) {
  const Shape &xs = in[0].shape, &ys = in[1].shape, &ws = out[0].shape;
  const float *x = in[0].data, *dy = in[1].data;
  ref::Window win = ref::window_of(attrs);
  int64_t batch = xs[0], channels = xs[1], height = xs[2], width = xs[3];
  int64_t maps = ws[0], group_channels = ws[1], kh = ws[2], kw = ws[3];
  int64_t out_h = ys[2], out_w = ys[3];
  int64_t maps_per_group = maps / attrs.i("group");

  float *dw = out[0].data;
  for (int64_t m = 0; m < maps; ++m) {
    int64_t first_channel = (m / maps_per_group) * group_channels;
    for (int64_t c = 0; c < group_channels; ++c)
      for (int64_t i = 0; i < kh; ++i) {
        OutputSpan rows = taps_inside(win, 0, i, height, out_h);
        for (int64_t j = 0; j < kw; ++j) {
          OutputSpan cols = taps_inside(win, 1, j, width, out_w);
          double sum = 0.0;
          for (int64_t n = 0; n < batch; ++n)
            for (int64_t oh = rows.first; oh < rows.last; ++oh) {
              const float *dy_row = dy + ((n * maps + m) * out_h + oh) * out_w;
              const float *x_row =
                  x + ((n * channels + first_channel + c) * height + win.tap(0, oh, i)) * width;
              for (int64_t ow = cols.first; ow < cols.last; ++ow)
                sum += static_cast<double>(dy_row[ow]) * x_row[win.tap(1, ow, j)];
            }
          *dw++ = static_cast<float>(sum);
        }
      }
  }
}

// With s_c = bias + alpha/size * (sum of x_j^2 over c's window) and
// y_c = x_c * s_c^-beta (ref_LRN), channel k is in the window of channels
// c = k - ceil((size-1)/2) .. k + floor((size-1)/2), so
//   dx_k = dy_k * s_k^-beta - 2 * alpha/size * beta * x_k * sum_c dy_c * y_c / s_c.
void ref_LRNGrad(const Attrs &attrs, const InViews &in, const OutViews &out) {
  double alpha = attrs.f("alpha"), beta = attrs.f("beta"), bias = attrs.f("bias");
  int64_t size = attrs.i("size");
  int64_t before = (size - 1) / 2, after = size - 1 - before;
  double alpha_per_size = alpha / static_cast<double>(size);
  const float *x = in[0].data, *y = in[1].data, *dy = in[2].data;
  ref::AxisSplit s = ref::split_at_axis(in[0].shape, 1);
  auto at = [&](int64_t n, int64_t c, int64_t i) { return (n * s.n + c) * s.inner + i; };

  // s_c and dy_c * y_c / s_c for every channel and position of one image.
  std::vector<double> scale(static_cast<size_t>(s.n * s.inner));
  std::vector<double> ratio(scale.size());
  for (int64_t n = 0; n < s.outer; ++n) {
    for (int64_t c = 0; c < s.n; ++c)
      for (int64_t i = 0; i < s.inner; ++i) {
        double square_sum = 0.0;
        for (int64_t j = std::max<int64_t>(0, c - before); j <= std::min(s.n - 1, c + after); ++j)
          square_sum += static_cast<double>(x[at(n, j, i)]) * x[at(n, j, i)];
        auto k = static_cast<size_t>(c * s.inner + i);
        scale[k] = bias + alpha_per_size * square_sum;
        ratio[k] = static_cast<double>(dy[at(n, c, i)]) * y[at(n, c, i)] / scale[k];
      }
    for (int64_t k = 0; k < s.n; ++k)
      for (int64_t i = 0; i < s.inner; ++i) {
        double sum = 0.0;
        for (int64_t c = std::max<int64_t>(0, k - after); c <= std::min(s.n - 1, k + before); ++c)
          sum += ratio[static_cast<size_t>(c * s.inner + i)];
        double own = std::pow(scale[static_cast<size_t>(k * s.inner + i)], -beta);
        out[0].data[at(n, k, i)] = static_cast<float>(
            dy[at(n, k, i)] * own - 2.0 * alpha_per_size * beta * x[at(n, k, i)] * sum);
      }
  }
}

// Each window's gradient goes to the tap ref_MaxPool takes: the first, in
// window order, greater than every tap before it, never the padding. A window
// with no such tap (all of it padding, -inf or NaN) passes nothing on.
void ref_MaxPoolGrad(const Attrs &attrs, const InViews &in, const OutViews &out) {
  ref::Window win = ref::window_of(attrs);
  const Shape &xs = in[0].shape, &ys = in[1].shape;
  int64_t planes = xs[0] * xs[1], height = xs[2], width = xs[3], plane_size = height * width;
  const float *dy = in[1].data;
  std::fill(out[0].data, out[0].data + planes * plane_size, 0.f);
  for (int64_t p = 0; p < planes; ++p) {
    const float *plane = in[0].data + p * plane_size;
    float *grad = out[0].data + p * plane_size;
    for (int64_t oh = 0; oh < ys[2]; ++oh)
      for (int64_t ow = 0; ow < ys[3]; ++ow) {
        float best = -std::numeric_limits<float>::infinity();
        int64_t best_at = -1;
        for (int64_t i = 0; i < win.kernel[0]; ++i)
          for (int64_t j = 0; j < win.kernel[1]; ++j) {
            int64_t ih = win.tap(0, oh, i), iw = win.tap(1, ow, j);
            if (ih >= 0 && ih < height && iw >= 0 && iw < width && plane[ih * width + iw] > best) {
              best = plane[ih * width + iw];
              best_at = ih * width + iw;
            }
          }
        if (best_at >= 0)
          grad[best_at] += *dy;
        ++dy;
      }
  }
}

// Each window's gradient divided by ref_AveragePool's divisor (the whole
// kernel with count_include_pad, else the taps inside the input) goes to each
// of its taps inside the input.
void ref_AveragePoolGrad(const Attrs &attrs, const InViews &in, const OutViews &out) {
  ref::Window win = ref::window_of(attrs);
  bool include_pad = attrs.i("count_include_pad") != 0;
  const Shape &xs = out[0].shape, &ys = in[0].shape;
  int64_t planes = xs[0] * xs[1], height = xs[2], width = xs[3], plane_size = height * width;
  const float *dy = in[0].data;
  std::fill(out[0].data, out[0].data + planes * plane_size, 0.f);
  for (int64_t p = 0; p < planes; ++p) {
    float *grad = out[0].data + p * plane_size;
    for (int64_t oh = 0; oh < ys[2]; ++oh)
      for (int64_t ow = 0; ow < ys[3]; ++ow) {
        float share =
            *dy++ / static_cast<float>(win.average_divisor(oh, ow, height, width, include_pad));
        for (int64_t i = 0; i < win.kernel[0]; ++i)
          for (int64_t j = 0; j < win.kernel[1]; ++j) {
            int64_t ih = win.tap(0, oh, i), iw = win.tap(1, ow, j);
            if (ih >= 0 && ih < height && iw >= 0 && iw < width)
              grad[ih * width + iw] += share;
          }
      }
  }
}

namespace {

// For every line along `axis`, from the forward output Y and dY: softmax's
// dX = Y * (dY - sum(dY * Y)), or with `log` (Y = log-softmax)
// dX = dY - exp(Y) * sum(dY).
void softmax_grad(const Attrs &attrs, const InViews &in, const OutViews &out, bool log) {
  const float *y = in[0].data, *dy = in[1].data;
  float *dx = out[0].data;
  ref::AxisSplit s = ref::split_at_axis(in[0].shape, attrs.i("axis"));
  for (int64_t o = 0; o < s.outer; ++o)
    for (int64_t i = 0; i < s.inner; ++i) {
      auto at = [&](int64_t k) { return (o * s.n + k) * s.inner + i; };
      double sum = 0.0;
      for (int64_t k = 0; k < s.n; ++k)
        sum += log ? dy[at(k)] : static_cast<double>(dy[at(k)]) * y[at(k)];
      for (int64_t k = 0; k < s.n; ++k)
        dx[at(k)] =
            static_cast<float>(log ? dy[at(k)] - std::exp(static_cast<double>(y[at(k)])) * sum
                                   : y[at(k)] * (dy[at(k)] - sum));
    }
}

} // namespace

void ref_SoftmaxGrad(const Attrs &attrs, const InViews &in, const OutViews &out) {
  softmax_grad(attrs, in, out, false);
}

void ref_LogSoftmaxGrad(const Attrs &attrs, const InViews &in, const OutViews &out) {
  softmax_grad(attrs, in, out, true);
}

// dlogits[n,k] = (softmax(x[n])[k] - (k == label[n])) * dloss / N, the
// derivative of ref_SoftmaxCrossEntropy; a row whose label is not a class
// index is NaN.
void ref_SoftmaxCrossEntropyGrad(const Attrs &, const InViews &in, const OutViews &out) {
  int64_t rows = in[0].shape[0], classes = in[0].shape[1];
  const float *logits = in[0].data, *labels = in[1].data;
  double per_row = static_cast<double>(in[2].data[0]) / static_cast<double>(rows);
  for (int64_t n = 0; n < rows; ++n) {
    const float *row = logits + n * classes;
    float *grad = out[0].data + n * classes;
    bool valid = valid_label(labels[n], classes);
    int64_t label = valid ? static_cast<int64_t>(labels[n]) : -1;
    double lse = log_sum_exp(row, classes);
    for (int64_t k = 0; k < classes; ++k) {
      double p = std::exp(static_cast<double>(row[k]) - lse);
      grad[k] = static_cast<float>(valid ? (p - (k == label ? 1.0 : 0.0)) * per_row : kNaN);
    }
  }
}

// With xhat = (x - mean) * inv_std over a channel's M values (BatchNormTrain's
// saved statistics): dB = sum(dY), dscale = sum(dY * xhat), and through the
// batch statistics dX = scale * inv_std / M * (M * dY - dB - xhat * dscale).
void ref_BatchNormGrad(const Attrs &, const InViews &in, const OutViews &out) {
  const float *x = in[0].data, *scale = in[1].data, *mean = in[2].data, *inv_std = in[3].data,
              *dy = in[4].data;
  ref::AxisSplit s = ref::split_at_axis(in[0].shape, 1);
  auto count = static_cast<double>(s.outer * s.inner);
  for (int64_t c = 0; c < s.n; ++c) {
    auto at = [&](int64_t o, int64_t i) { return (o * s.n + c) * s.inner + i; };
    auto normalised = [&](int64_t o, int64_t i) {
      return (static_cast<double>(x[at(o, i)]) - mean[c]) * inv_std[c];
    };
    double dshift = 0.0, dscale = 0.0;
    for (int64_t o = 0; o < s.outer; ++o)
      for (int64_t i = 0; i < s.inner; ++i) {
        dshift += dy[at(o, i)];
        dscale += dy[at(o, i)] * normalised(o, i);
      }
    double factor = static_cast<double>(scale[c]) * inv_std[c] / count;
    for (int64_t o = 0; o < s.outer; ++o)
      for (int64_t i = 0; i < s.inner; ++i)
        out[0].data[at(o, i)] = static_cast<float>(
            factor * (count * dy[at(o, i)] - dshift - normalised(o, i) * dscale));
    out[1].data[c] = static_cast<float>(dscale);
    out[2].data[c] = static_cast<float>(dshift);
  }
}

// V' = momentum * V - weight_decay * lr * W - lr * G; W' = W + V'. Element by
// element, reading W[i] and V[i] before writing W'[i] and V'[i], so the
// outputs may replace W and V in place.
void ref_SgdUpdate(const Attrs &attrs, const InViews &in, const OutViews &out) {
  float momentum = attrs.f("momentum"), weight_decay = attrs.f("weight_decay");
  float lr = in[3].data[0];
  int64_t n = ref::numel(in[0].shape);
  for (int64_t i = 0; i < n; ++i) {
    float w = in[0].data[i], v = in[1].data[i], g = in[2].data[i];
    float velocity = momentum * v - weight_decay * lr * w - lr * g;
    out[0].data[i] = w + velocity;
    out[1].data[i] = velocity;
  }
}

} // namespace anet
