#pragma once
/// Normalising kernels: BatchNormalization (inference), LRN across channels,
/// and Softmax / LogSoftmax along one axis (ir/reference/normalization.cpp
/// has the semantics).
///
/// Each lane of a vector is one output element computed by the reference's
/// expression in the reference's order, so BatchNormalization, Softmax,
/// LogSoftmax and LRN with a general beta are bit-identical to it; exp, log
/// and pow are libm's, called lane by lane. LRN with beta = 0.75 replaces
/// powf by square roots (see norm::lrn_value), within a few ulps.
///
/// LRN: the squares of a chunk of spatial positions are computed once per
/// channel into a ring of P::size rows (per-worker scratch) that slides
/// along the channels; each output sums its window's rows from the ring in
/// the reference's channel order, 16 spatial positions at a time.

#include "anet/base.h"

namespace ak {

namespace norm {

/// Square root of each lane, correctly rounded like the scalar one.
inline v16 square_root(v16 x) { return __builtin_elementwise_sqrt(x); }
inline float square_root(float x) { return __builtin_sqrtf(x); }

/// f applied lane by lane (libm's functions have no vector form).
template <class F> inline v16 per_lane(v16 x, F f) {
  v16 y;
  for (int l = 0; l < 16; ++l)
    y[l] = f(x[l]);
  return y;
}
template <class F> inline float per_lane(float x, F f) { return f(x); }

/// Spatial positions of one LRN work item over `inner` of them (a multiple
/// of 16): its ring holds P::size rows of this many squares.
constexpr long lrn_chunk(long inner) { return max_of(16L, min_of(round_up(inner, 16), 512L)); }

/// LRN's output x / (bias + alpha/size * square_sum)^beta on floats or 16
/// lanes; `beta` is P::beta as a run-time value (see lrn_run). With beta =
/// 0.75 it is x * s^(1/4) / s, s^(1/4) as two square roots: at most 3.5
/// roundings of 2^-24 apart from the exact value (powf and the division take
/// about 2.6), no overflow for finite s, and where s is 0 or infinite
/// (s^0.75 = s) exactly x / s as the reference computes.
template <class P, class T> inline T lrn_value(T x, T square_sum, float beta) {
#pragma clang fp contract(off)
  const T s = P::bias + P::alpha_over_size * square_sum;
  if constexpr (P::beta_is_three_quarters) {
    const T num = x * square_root(square_root(s));
    return (((s == 0.f) | (s == __builtin_inff())) ? x : num) / s;
  } else {
    return x / per_lane(s, [beta](float v) { return __builtin_powf(v, beta); });
  }
}

/// The largest of x[0, n) (-inf for none), ignoring NaN as the reference's
/// running maximum does. When the largest is a zero of both signs, either
/// may come back: no output depends on it but the sign of a zero that
/// LogSoftmax returns.
inline float row_max(const float *x, long n) {
  v16 m = splat16(-__builtin_inff());
  long k = 0;
  for (; k + 16 <= n; k += 16) {
    v16 v = load16(x + k);
    m = m < v ? v : m;
  }
  float best = -__builtin_inff();
  for (int l = 0; l < 16; ++l)
    best = best < m[l] ? m[l] : best;
  for (; k < n; ++k)
    best = best < x[k] ? x[k] : best;
  return best;
}

/// Softmax or LogSoftmax (Log) of one contiguous row x[0, n) into y.
template <bool Log> inline void softmax_row(const float *x, float *y, long n) {
#pragma clang fp contract(off)
  const float max = row_max(x, n);
  float sum = 0.f;
  for (long k = 0; k < n; ++k) {
    const float e = __builtin_expf(x[k] - max);
    if constexpr (!Log)
      y[k] = e;
    sum += e;
  }
  long k = 0;
  if constexpr (Log) {
    const float log_sum = __builtin_logf(sum);
    for (; k + 16 <= n; k += 16)
      store16(y + k, load16(x + k) - max - log_sum);
    for (; k < n; ++k)
      y[k] = x[k] - max - log_sum;
  } else {
    for (; k + 16 <= n; k += 16)
      store16(y + k, load16(y + k) / sum);
    for (; k < n; ++k)
      y[k] = y[k] / sum;
  }
}

/// Softmax or LogSoftmax of the lines x[k * stride], k < n, into y alike;
/// T is float (one line) or v16 (16 adjacent lines, one per lane).
template <bool Log, class T>
inline void softmax_lines(const float *x, float *y, long n, long stride) {
#pragma clang fp contract(off)
  auto load = [](const float *p) {
    if constexpr (sizeof(T) == sizeof(float))
      return *p;
    else
      return load16(p);
  };
  auto store = [](float *p, T v) {
    if constexpr (sizeof(T) == sizeof(float))
      *p = v;
    else
      store16(p, v);
  };
  T max = -__builtin_inff();
  for (long k = 0; k < n; ++k) {
    const T v = load(x + k * stride);
    max = max < v ? v : max;
  }
  T sum = 0.f;
  for (long k = 0; k < n; ++k) {
    const T e = per_lane(load(x + k * stride) - max, [](float v) { return __builtin_expf(v); });
    if constexpr (!Log)
      store(y + k * stride, e);
    sum += e;
  }
  if constexpr (Log) {
    const T log_sum = per_lane(sum, [](float v) { return __builtin_logf(v); });
    for (long k = 0; k < n; ++k)
      store(y + k * stride, load(x + k * stride) - max - log_sum);
  } else {
    for (long k = 0; k < n; ++k)
      store(y + k * stride, load(y + k * stride) / sum);
  }
}

} // namespace norm

/// BatchNormalization (inference) of X[P::outer, P::channels, P::inner]:
/// y = scale * (x - mean) * (1 / sqrt(var + P::epsilon)) + B per channel.
/// Planes run in parallel; with P::inner == 1 (X is [N, C]) the channels
/// are the vector lanes instead.
template <class P>
void batch_norm_run(const float *const *in, float *const *out, const anet_cpu_rt *rt) {
#pragma clang fp contract(off)
  const float *x = in[0], *scale = in[1], *shift = in[2], *mean = in[3], *var = in[4];
  float *y = out[0];
  if constexpr (P::inner == 1) {
    parallel_for(
        rt, P::outer, max_of(1L, 4096 / max_of(1L, P::channels)), [&](long begin, long end, int) {
          for (long o = begin; o < end; ++o) {
            const float *xo = x + o * P::channels;
            float *yo = y + o * P::channels;
            long c = 0;
            for (; c + 16 <= P::channels; c += 16) {
              const v16 inv_std = 1.f / norm::square_root(load16(var + c) + P::epsilon);
              store16(yo + c, load16(scale + c) * (load16(xo + c) - load16(mean + c)) * inv_std +
                                  load16(shift + c));
            }
            for (; c < P::channels; ++c) {
              const float inv_std = 1.f / __builtin_sqrtf(var[c] + P::epsilon);
              yo[c] = scale[c] * (xo[c] - mean[c]) * inv_std + shift[c];
            }
          }
        });
  } else {
    constexpr long planes = P::outer * P::channels;
    parallel_for(rt, planes, max_of(1L, 4096 / max_of(1L, P::inner)),
                 [&](long begin, long end, int) {
                   for (long p = begin; p < end; ++p) {
                     const long c = p % P::channels;
                     const float sc = scale[c], mu = mean[c], sh = shift[c];
                     const float inv_std = 1.f / __builtin_sqrtf(var[c] + P::epsilon);
                     const float *xp = x + p * P::inner;
                     float *yp = y + p * P::inner;
                     long i = 0;
                     for (; i + 16 <= P::inner; i += 16)
                       store16(yp + i, sc * (load16(xp + i) - mu) * inv_std + sh);
                     for (; i < P::inner; ++i)
                       yp[i] = sc * (xp[i] - mu) * inv_std + sh;
                   }
                 });
  }
}

/// The BatchNormalization kernel (see batch_norm_run).
template <class P> constexpr anet_kernel_info batch_norm() {
  return kernel_info<&batch_norm_run<P>>();
}

/// LRN across the channels of X[P::outer, P::channels, P::inner]: P::size,
/// P::alpha_over_size (alpha / size, as the reference rounds it), P::bias,
/// P::beta, P::beta_is_three_quarters. Work items are chunks of
/// norm::lrn_chunk spatial positions of one image; the window of channel c
/// is c - (size-1)/2 .. c + size/2, clipped to the channels.
template <class P> void lrn_run(const float *const *in, float *const *out, const anet_cpu_rt *rt) {
#pragma clang fp contract(off)
  constexpr long chunk = norm::lrn_chunk(P::inner);
  constexpr long chunks = ceil_div(P::inner, chunk);
  constexpr long before = (P::size - 1) / 2, after = P::size - 1 - before;
  const float *x = in[0];
  float *y = out[0];
  // Clang rewrites powf with some constant exponents (0.5 into sqrtf, ...),
  // which is not always libm's powf to the last bit: hide the constant.
  volatile float beta_at_run_time = P::beta;
  const float beta = beta_at_run_time;
  parallel_for(rt, P::outer * chunks, 1, [&](long begin, long end, int worker) {
    float *ring = rt->scratch[worker];
    for (long t = begin; t < end; ++t) {
      const long lo = t % chunks * chunk, len = min_of(chunk, P::inner - lo);
      const long image = t / chunks * P::channels * P::inner + lo;
      const float *xt = x + image;
      float *yt = y + image;
      long squared = 0; // channels [0, squared) have their squares in the ring
      for (long c = 0; c < P::channels; ++c) {
        const long first = max_of(0L, c - before), last = min_of(P::channels - 1, c + after);
        for (; squared <= last; ++squared) {
          const float *xc = xt + squared * P::inner;
          float *sq = ring + squared % P::size * chunk;
          for (long i = 0; i < len; ++i)
            sq[i] = xc[i] * xc[i];
        }
        const float *rows[P::size];
        const long count = last - first + 1;
        for (long j = 0; j < count; ++j)
          rows[j] = ring + (first + j) % P::size * chunk;
        const float *xc = xt + c * P::inner;
        float *yc = yt + c * P::inner;
        long i = 0;
        for (; i + 16 <= len; i += 16) {
          v16 sum = load16(rows[0] + i);
          for (long j = 1; j < count; ++j)
            sum += load16(rows[j] + i);
          store16(yc + i, norm::lrn_value<P>(load16(xc + i), sum, beta));
        }
        for (; i < len; ++i) {
          float sum = rows[0][i];
          for (long j = 1; j < count; ++j)
            sum += rows[j][i];
          yc[i] = norm::lrn_value<P>(xc[i], sum, beta);
        }
      }
    }
  });
}

/// The LRN kernel (see lrn_run); its ring is per-worker scratch.
template <class P> constexpr anet_kernel_info lrn() {
  return kernel_info<&lrn_run<P>>(P::size * norm::lrn_chunk(P::inner));
}

/// Softmax (P::log false) or LogSoftmax (true) along the middle axis of
/// X[P::outer, P::n, P::inner]. Lines along a last axis are rows; otherwise
/// 16 adjacent lines run at once, one per lane.
template <class P>
void softmax_run(const float *const *in, float *const *out, const anet_cpu_rt *rt) {
  const float *x = in[0];
  float *y = out[0];
  if constexpr (P::inner == 1) {
    parallel_for(rt, P::outer, max_of(1L, 1024 / max_of(1L, P::n)), [&](long begin, long end, int) {
      for (long o = begin; o < end; ++o)
        norm::softmax_row<P::log>(x + o * P::n, y + o * P::n, P::n);
    });
  } else {
    constexpr long blocks = ceil_div(P::inner, 16);
    parallel_for(rt, P::outer * blocks, max_of(1L, 64 / max_of(1L, P::n)),
                 [&](long begin, long end, int) {
                   for (long t = begin; t < end; ++t) {
                     const long i = t % blocks * 16, at = t / blocks * P::n * P::inner + i;
                     if (i + 16 <= P::inner) {
                       norm::softmax_lines<P::log, v16>(x + at, y + at, P::n, P::inner);
                       continue;
                     }
                     for (long l = 0; l < P::inner - i; ++l)
                       norm::softmax_lines<P::log, float>(x + at + l, y + at + l, P::n, P::inner);
                   }
                 });
  }
}

/// The Softmax / LogSoftmax kernel (see softmax_run).
template <class P> constexpr anet_kernel_info softmax() { return kernel_info<&softmax_run<P>>(); }

} // namespace ak
