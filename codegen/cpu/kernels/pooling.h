#pragma once
/// Pooling kernels: MaxPool and AveragePool over 2-D windows (strides,
/// dilations, asymmetric pads, ceil_mode, count_include_pad), and
/// GlobalAveragePool (ir/reference/pooling.cpp has the semantics).
///
/// A 2-D pool copies each input plane into per-worker scratch, padded with
/// the pool's identity (-inf for max, 0 for a sum) wherever a window may
/// reach outside the input, and split by column phase: with stride s, padded
/// column c lands in phase c % s at c / s. Every tap of 16 consecutive
/// outputs of a row is then one contiguous load, at any stride and with no
/// bounds checks. Each lane folds its window's taps in the reference's order
/// and the padding is exactly neutral (a running sum that starts at +0 is
/// never -0, so adding +0 changes nothing), so both pools are bit-identical
/// to the reference. GlobalAveragePool puts 16 planes in the lanes (through
/// a 16 x 16 transpose), each summed in order, so it is bit-identical too.

#include "anet/base.h"

namespace ak {

namespace pool {

/// The padded, phase-split copy of one input plane of pool P: `rows` rows
/// (input rows -pad_top ...) of `stride_w` phases of `phase_width` floats.
template <class P> struct PaddedPlane {
  static constexpr long out_w16 = round_up(P::out_w, 16);
  static constexpr long rows = (P::out_h - 1) * P::stride_h + (P::kernel_h - 1) * P::dilation_h + 1;
  static constexpr long phase_width = out_w16 + (P::kernel_w - 1) * P::dilation_w / P::stride_w;
  static constexpr long row_stride = P::stride_w * phase_width;
  static constexpr long floats = rows * row_stride;
  /// The value of a tap outside the input: the pool's identity.
  static constexpr float fill = P::is_max ? -__builtin_inff() : 0.f;
};

/// Number of m >= 0 with m * step + offset < limit (0 if none).
constexpr long count_below(long limit, long offset, long step) {
  return limit > offset ? ceil_div(limit - offset, step) : 0;
}

/// p[0, 16) (Step 1) or p[0, 2, ..., 30] (Step 2), from whole vector loads.
template <long Step> inline v16 every_other16(const float *p) {
  if constexpr (Step == 1)
    return load16(p);
  else
    return __builtin_shufflevector(load16(p), load16(p + 16), 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20,
                                   22, 24, 26, 28, 30);
}

/// Writes input plane x (height x width) into `buf` as PaddedPlane<P> lays
/// it out. x[0, readable) may be read (the rest of the input): with stride 1
/// or 2, 16 columns of a phase are copied at a time from whole vector loads,
/// which may read past the row.
template <class P> inline void copy_plane(const float *x, long readable, float *buf) {
  using L = PaddedPlane<P>;
  for (long r = 0; r < L::rows; ++r) {
    const long ih = r - P::pad_top;
    float *dst = buf + r * L::row_stride;
    if (ih < 0 || ih >= P::height) {
      for (long m = 0; m < L::row_stride; ++m)
        dst[m] = L::fill;
      continue;
    }
    // Padded column c of this row is x[row + c].
    const long row = ih * P::width - P::pad_left;
    for (long q = 0; q < P::stride_w; ++q, dst += L::phase_width) {
      // Phase q holds padded columns m * stride_w + q; input ones lie in
      // [pad_left, pad_left + width).
      const long lo = min_of(count_below(P::pad_left, q, P::stride_w), L::phase_width);
      const long hi =
          max_of(lo, min_of(count_below(P::pad_left + P::width, q, P::stride_w), L::phase_width));
      long m = 0;
      for (; m < lo; ++m)
        dst[m] = L::fill;
      if constexpr (P::stride_w <= 2) {
        // Lanes past `hi` are overwritten by the fill below.
        for (; m < hi && m + 16 <= L::phase_width && row + P::stride_w * (m + 16) + q <= readable;
             m += 16)
          store16(dst + m, every_other16<P::stride_w>(x + row + P::stride_w * m + q));
        m = min_of(m, hi);
      }
      for (; m < hi; ++m)
        dst[m] = x[row + m * P::stride_w + q];
      for (; m < L::phase_width; ++m)
        dst[m] = L::fill;
    }
  }
}

/// Pools the padded plane `buf` into the output plane y.
template <class P> inline void pool_plane(const float *buf, float *y) {
#pragma clang fp contract(off)
  using L = PaddedPlane<P>;
  static_assert(!P::is_max || !P::include_pad, "count_include_pad is AveragePool's");
  if constexpr (!P::is_max && !P::include_pad)
    static_assert(P::row_taps_size == P::out_h && P::col_taps_size == L::out_w16,
                  "a divisor per output row and column");
  for (long oh = 0; oh < P::out_h; ++oh) {
    const float *window_row = buf + oh * P::stride_h * L::row_stride;
    float *yr = y + oh * P::out_w;
    for (long ow = 0; ow < P::out_w; ow += 16) {
      v16 acc = splat16(L::fill);
      for (long i = 0; i < P::kernel_h; ++i) {
        const float *r = window_row + i * P::dilation_h * L::row_stride + ow;
        for (long j = 0; j < P::kernel_w; ++j) {
          const long c = j * P::dilation_w;
          const v16 v = load16(r + c % P::stride_w * L::phase_width + c / P::stride_w);
          if constexpr (P::is_max)
            acc = v > acc ? v : acc;
          else
            acc = acc + v;
        }
      }
      if constexpr (!P::is_max) {
        if constexpr (P::include_pad)
          acc = acc / static_cast<float>(P::kernel_h * P::kernel_w);
        else // the product of two small integers: exact
          acc = acc / (static_cast<float>(P::row_taps[oh]) * load16(P::col_taps + ow));
      }
      if (ow + 16 <= P::out_w) {
        store16(yr + ow, acc);
        continue;
      }
      for (long l = 0; l < P::out_w - ow; ++l)
        yr[ow + l] = acc[l];
    }
  }
}

/// Index lists of 16 lanes, for __builtin_shufflevector.
template <class T, T... I> struct Lanes {};

/// One step of a 16 x 16 transpose on rows a and b (b is B rows below a):
/// swaps the lanes whose bit B is set in a with those whose bit B is clear
/// in b.
template <int B, int... I> inline void swap_lane_blocks(v16 &a, v16 &b, Lanes<int, I...>) {
  const v16 top = __builtin_shufflevector(a, b, ((I & B) ? 16 + I - B : I)...);
  const v16 bottom = __builtin_shufflevector(a, b, ((I & B) ? 16 + I : I + B)...);
  a = top;
  b = bottom;
}

/// Swaps bit B between the row and lane indices of m[row][lane].
template <int B> inline void transpose_step(v16 (&m)[16]) {
  for (int r = 0; r < 16; ++r)
    if (!(r & B))
      swap_lane_blocks<B>(m[r], m[r + B], __make_integer_seq<Lanes, int, 16>{});
}

/// Transposes the 16 x 16 matrix m[row][lane] in place.
inline void transpose16(v16 (&m)[16]) {
  transpose_step<8>(m);
  transpose_step<4>(m);
  transpose_step<2>(m);
  transpose_step<1>(m);
}

} // namespace pool

/// MaxPool (P::is_max) or AveragePool of X[N, C, P::height, P::width] into
/// [N, C, P::out_h, P::out_w]; P::planes = N * C. Window: P::kernel_h/_w,
/// P::stride_h/_w, P::dilation_h/_w, P::pad_top/_left (the bottom and right
/// pads and ceil_mode only show in the output size). AveragePool divides by
/// kernel_h * kernel_w with P::include_pad, else by P::row_taps[oh] *
/// P::col_taps[ow], the taps inside the input (col_taps padded to a
/// multiple of 16). Planes run in parallel.
template <class P>
void pool2d_run(const float *const *in, float *const *out, const anet_cpu_rt *rt) {
  const float *x = in[0];
  float *y = out[0];
  constexpr long plane_size = P::height * P::width;
  constexpr long plane_taps = P::out_h * P::out_w * P::kernel_h * P::kernel_w;
  parallel_for(rt, P::planes, max_of(1L, 16384 / plane_taps), [&](long begin, long end, int w) {
    float *buf = rt->scratch[w];
    for (long p = begin; p < end; ++p) {
      pool::copy_plane<P>(x + p * plane_size, (P::planes - p) * plane_size, buf);
      pool::pool_plane<P>(buf, y + p * P::out_h * P::out_w);
    }
  });
}

/// The MaxPool / AveragePool kernel (see pool2d_run); the padded plane is
/// per-worker scratch.
template <class P> constexpr anet_kernel_info pool2d() {
  return kernel_info<&pool2d_run<P>>(pool::PaddedPlane<P>::floats);
}

/// GlobalAveragePool: the mean of each of P::planes planes of P::inner
/// elements, summed in order. A block of 16 planes is summed as the 16 lanes
/// of one vector: 16 elements of each plane are loaded and transposed, so
/// that each vector added holds one element of every plane. The remaining
/// planes are summed one by one.
template <class P>
void global_average_pool_run(const float *const *in, float *const *out, const anet_cpu_rt *rt) {
#pragma clang fp contract(off)
  const float *x = in[0];
  float *y = out[0];
  constexpr long blocks = ceil_div(P::planes, 16);
  constexpr float count = static_cast<float>(P::inner);
  parallel_for(rt, blocks, max_of(1L, 1024 / max_of(1L, P::inner)), [&](long begin, long end, int) {
    for (long b = begin; b < end; ++b) {
      const float *xb = x + b * 16 * P::inner;
      if (b * 16 + 16 > P::planes) {
        for (long p = b * 16; p < P::planes; ++p, xb += P::inner) {
          float sum = 0.f;
          for (long i = 0; i < P::inner; ++i)
            sum += xb[i];
          y[p] = sum / count;
        }
        continue;
      }
      v16 sum = splat16(0.f);
      long i = 0;
      for (; i + 16 <= P::inner; i += 16) {
        v16 m[16];
        for (int l = 0; l < 16; ++l)
          m[l] = load16(xb + l * P::inner + i);
        pool::transpose16(m);
        for (int k = 0; k < 16; ++k)
          sum += m[k];
      }
      for (; i < P::inner; ++i) {
        v16 v;
        for (int l = 0; l < 16; ++l)
          v[l] = xb[l * P::inner + i];
        sum += v;
      }
      store16(y + b * 16, sum / count);
    }
  });
}

/// The GlobalAveragePool kernel (see global_average_pool_run).
template <class P> constexpr anet_kernel_info global_average_pool() {
  return kernel_info<&global_average_pool_run<P>>();
}

} // namespace ak
