// Reference kernels of the ops that multiply and accumulate: Conv (2-D, with
// groups, asymmetric pads, strides, dilations and bias), Gemm, and MatMul
// (numpy semantics: batch broadcasting and 1-D operands). Sums are float,
// accumulated in the plain loop order. A fused node's activation
// (ir/activation.h) is applied to the finished output.

#include "ir/activation.h"
#include "ir/reference/indexing.h"
#include "ir/reference/reference.h"

namespace anet {
namespace {

void apply_fused_activation(const Attrs &attrs, const OutView &y) {
  std::optional<Activation> act = fused_activation(attrs);
  if (!act)
    return;
  int64_t n = ref::numel(y.shape);
  for (int64_t i = 0; i < n; ++i)
    y.data[i] = (*act)(y.data[i]);
}

} // namespace

// X[N,C,H,W] * W[M,C/group,kH,kW] (+ B[M]) -> Y[N,M,OH,OW]. Output channel m
// belongs to group m / (M/group) and reads that group's input channels.
void ref_Conv(const Attrs &attrs, const InViews &in, const OutViews &out) {
  const Shape &xs = in[0].shape, &ws = in[1].shape, &ys = out[0].shape;
  const float *x = in[0].data, *w = in[1].data;
  const float *bias = in.size() == 3 ? in[2].data : nullptr;
  float *y = out[0].data;
  ref::Window win = ref::window_of(attrs);
  int64_t batch = xs[0], channels = xs[1], height = xs[2], width = xs[3];
  int64_t maps = ws[0], group_channels = ws[1], kh = ws[2], kw = ws[3];
  int64_t out_h = ys[2], out_w = ys[3];
  int64_t maps_per_group = maps / attrs.i("group");

  for (int64_t n = 0; n < batch; ++n)
    for (int64_t m = 0; m < maps; ++m) {
      int64_t first_channel = (m / maps_per_group) * group_channels;
      for (int64_t oh = 0; oh < out_h; ++oh)
        for (int64_t ow = 0; ow < out_w; ++ow) {
          float sum = 0.f;
          for (int64_t c = 0; c < group_channels; ++c)
            for (int64_t i = 0; i < kh; ++i)
              for (int64_t j = 0; j < kw; ++j) {
                int64_t ih = win.tap(0, oh, i), iw = win.tap(1, ow, j);
                if (ih < 0 || ih >= height || iw < 0 || iw >= width)
                  continue;
                float xv = x[((n * channels + first_channel + c) * height + ih) * width + iw];
                float wv = w[((m * group_channels + c) * kh + i) * kw + j];
                sum += xv * wv;
              }
          if (bias)
            sum += bias[m];
          y[((n * maps + m) * out_h + oh) * out_w + ow] = sum;
        }
    }
  apply_fused_activation(attrs, out[0]);
}

// Y[M,N] = alpha * op(A) * op(B) + beta * C, op transposing when transA/B is
// set, C broadcast to [M,N].
void ref_Gemm(const Attrs &attrs, const InViews &in, const OutViews &out) {
  float alpha = attrs.f("alpha"), beta = attrs.f("beta");
  bool trans_a = attrs.i("transA") != 0, trans_b = attrs.i("transB") != 0;
  const float *a = in[0].data, *b = in[1].data;
  int64_t rows = out[0].shape[0], cols = out[0].shape[1];
  int64_t depth = in[0].shape[trans_a ? 0 : 1];
  auto a_at = [&](int64_t i, int64_t k) { return trans_a ? a[k * rows + i] : a[i * depth + k]; };
  auto b_at = [&](int64_t k, int64_t j) { return trans_b ? b[j * depth + k] : b[k * cols + j]; };
  std::vector<int64_t> c_strides;
  if (in.size() == 3)
    c_strides = ref::broadcast_strides(in[2].shape, out[0].shape);

  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      float sum = 0.f;
      for (int64_t k = 0; k < depth; ++k)
        sum += a_at(i, k) * b_at(k, j);
      float result = alpha * sum;
      if (in.size() == 3)
        result += beta * in[2].data[ref::offset_of({i, j}, c_strides)];
      out[0].data[i * cols + j] = result;
    }
  apply_fused_activation(attrs, out[0]);
}

// numpy matmul: a 1-D A is a row [1,K] and a 1-D B a column [K,1] (the added
// axis is dropped from the result); the batch axes before the last two
// broadcast against each other.
void ref_MatMul(const Attrs &attrs, const InViews &in, const OutViews &out) {
  Shape a = in[0].shape, b = in[1].shape;
  bool a_vector = a.size() == 1, b_vector = b.size() == 1;
  if (a_vector)
    a.insert(a.begin(), 1);
  if (b_vector)
    b.push_back(1);
  int64_t rows = a[a.size() - 2], depth = a.back(), cols = b.back();
  const Shape &ys = out[0].shape;
  Shape batch(ys.begin(), ys.end() - (a_vector ? 0 : 1) - (b_vector ? 0 : 1));
  std::vector<int64_t> a_strides = ref::broadcast_strides(Shape(a.begin(), a.end() - 2), batch);
  std::vector<int64_t> b_strides = ref::broadcast_strides(Shape(b.begin(), b.end() - 2), batch);

  float *y = out[0].data;
  ref::for_each_index(batch, [&](const ref::Index &index) {
    const float *am = in[0].data + ref::offset_of(index, a_strides) * rows * depth;
    const float *bm = in[1].data + ref::offset_of(index, b_strides) * depth * cols;
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) {
        float sum = 0.f;
        for (int64_t k = 0; k < depth; ++k)
          sum += am[i * depth + k] * bm[k * cols + j];
        *y++ = sum;
      }
  });
  apply_fused_activation(attrs, out[0]);
}

} // namespace anet
