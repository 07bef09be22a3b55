#pragma once
/// CUDA kernels of the pools: MaxPool and AveragePool over 2-D windows
/// (strides, dilations, asymmetric pads, ceil_mode, count_include_pad) and
/// GlobalAveragePool, reading the parameter structs of
/// codegen/cpu/emit_pooling.cpp as the CPU library's pooling.h does
/// (ir/reference/pooling.cpp has the semantics).
///
/// One thread per output element folds its window's taps that lie inside
/// the input in the reference's order (rows, then columns; padding holds no
/// value), and GlobalAveragePool sums each plane in order, so every pool is
/// bit-identical to the reference.

#include "anet/base.h"

namespace ac {

/// MaxPool (P::is_max) or AveragePool of X[N, C, P::height, P::width] into
/// [N, C, P::out_h, P::out_w]; P::planes = N * C. Window: P::kernel_h/_w,
/// P::stride_h/_w, P::dilation_h/_w, P::pad_top/_left (the bottom and right
/// pads and ceil_mode only show in the output size). AveragePool divides by
/// kernel_h * kernel_w with P::include_pad, else by the number of taps
/// inside the input, counted as they are added: the product
/// P::row_taps[oh] * P::col_taps[ow] that the emitter lists.
template <class P> __device__ void pool2d(const anet_cuda_args &args) {
  static_assert(!P::is_max || !P::include_pad, "count_include_pad is AveragePool's");
  constexpr long out_plane = P::out_h * P::out_w;
  const float *x = args.in[0];
  float *y = args.out[0];
  grid_stride(P::planes * out_plane, [&](long at) {
    const long oh = at % out_plane / P::out_w, ow = at % P::out_w;
    const float *plane = x + at / out_plane * (P::height * P::width);
    // -infinity for a maximum: the value of a window with no tap inside.
    float acc = P::is_max ? __uint_as_float(0xff800000u) : 0.f;
    long inside = 0;
    for (long i = 0; i < P::kernel_h; ++i) {
      const long ih = oh * P::stride_h - P::pad_top + i * P::dilation_h;
      if (ih < 0 || ih >= P::height)
        continue;
      for (long j = 0; j < P::kernel_w; ++j) {
        const long iw = ow * P::stride_w - P::pad_left + j * P::dilation_w;
        if (iw < 0 || iw >= P::width)
          continue;
        const float v = plane[ih * P::width + iw];
        if constexpr (P::is_max)
          acc = v > acc ? v : acc;
        else
          acc += v;
        ++inside;
      }
    }
    if constexpr (!P::is_max)
      acc = acc / static_cast<float>(P::include_pad ? P::kernel_h * P::kernel_w : inside);
    y[at] = acc;
  });
}

/// GlobalAveragePool: the mean of each of P::planes planes of P::inner
/// elements, one thread per plane summing it in order.
template <class P> __device__ void global_average_pool(const anet_cuda_args &args) {
  const float *x = args.in[0];
  float *y = args.out[0];
  grid_stride(P::planes, [&](long p) {
    const float *plane = x + p * P::inner;
    float sum = 0.f;
    for (long i = 0; i < P::inner; ++i)
      sum += plane[i];
    y[p] = sum / static_cast<float>(P::inner);
  });
}

} // namespace ac
