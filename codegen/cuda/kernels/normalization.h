#pragma once
/// CUDA kernels of the normalising ops: BatchNormalization (inference), LRN
/// across channels, and Softmax / LogSoftmax along one axis, reading the
/// parameter structs of codegen/cpu/emit_normalization.cpp as the CPU
/// library's normalization.h does (ir/reference/normalization.cpp has the
/// semantics).
///
/// Each output is the reference's expression in the reference's order, its
/// products kept apart from its sums (__fmul_rn, __fadd_rn: no fused
/// multiply-add), so BatchNormalization, Softmax, LogSoftmax and LRN with a
/// general beta are bit-identical to it wherever expf, logf and powf are
/// the reference's (the emu device). LRN with beta = 0.75 takes square roots
/// instead of powf, as the CPU kernel does, within a few ulps.
///
/// BatchNormalization and LRN are one thread per output element. Softmax is
/// one thread per line, except for long rows (a last axis of at least
/// norm::kRowThreshold), where a block shares a row: the maximum and the
/// exponentials in parallel, their sum in order by one thread.

#include "anet/base.h"

namespace ac {
namespace norm {

/// Rows at least this long (along a last axis) take a whole block each.
constexpr long kRowThreshold = 128;

/// Exponentials a block computes together before one thread sums them.
constexpr long kChunk = 256;

/// -infinity, the identity of a running maximum.
__device__ __forceinline__ float minus_infinity() { return __uint_as_float(0xff800000u); }

/// std::max(m, v) as the reference's running maximum takes it: NaN ignored.
__device__ __forceinline__ float running_max(float m, float v) { return m < v ? v : m; }

/// LRN's output x / (bias + alpha/size * square_sum)^beta, `beta` being
/// P::beta as a run-time value (see lrn). With beta = 0.75 it is
/// x * s^(1/4) / s, s^(1/4) as two square roots (codegen/cpu/kernels/
/// normalization.h bounds the error), and where s is 0 or infinite
/// (s^0.75 = s) exactly x / s as the reference computes.
template <class P>
__device__ __forceinline__ float lrn_value(float x, float square_sum, float beta) {
  const float s = __fadd_rn(P::bias, __fmul_rn(P::alpha_over_size, square_sum));
  if constexpr (P::beta_is_three_quarters) {
    if (s == 0.f || s == -minus_infinity())
      return x / s;
    return x * sqrtf(sqrtf(s)) / s;
  } else {
    return x / powf(s, beta);
  }
}

/// Softmax or LogSoftmax (Log) of the line x[k * stride], k < n, into y
/// alike, by one thread in the reference's order.
template <bool Log>
__device__ __forceinline__ void softmax_line(const float *x, float *y, long n, long stride) {
  float max = minus_infinity();
  for (long k = 0; k < n; ++k)
    max = running_max(max, x[k * stride]);
  float sum = 0.f;
  for (long k = 0; k < n; ++k) {
    const float e = expf(x[k * stride] - max);
    if constexpr (!Log)
      y[k * stride] = e;
    sum += e;
  }
  if constexpr (Log) {
    const float log_sum = logf(sum);
    for (long k = 0; k < n; ++k)
      y[k * stride] = x[k * stride] - max - log_sum;
  } else {
    for (long k = 0; k < n; ++k)
      y[k * stride] = y[k * stride] / sum;
  }
}

/// Softmax or LogSoftmax of P::outer contiguous rows of P::n, one block a
/// row: the first min(blockDim.x, kChunk) threads take partial maxima that
/// thread 0 combines; then, kChunk at a time, the block computes the
/// exponentials into shared memory and thread 0 adds them in order; last,
/// every thread writes its share of the outputs.
template <class P, bool Log> __device__ void softmax_rows(const float *x, float *y) {
  __shared__ float part[kChunk];
  __shared__ float row_max, row_sum;
  const long t = threadIdx.x, threads = blockDim.x;
  const long workers = min_of(threads, kChunk);
  block_stride(P::outer, [&](long o) {
    const float *xo = x + o * P::n;
    float *yo = y + o * P::n;
    // No barrier is needed against the previous row: every thread has read
    // row_max and row_sum before it reaches the barrier after which thread
    // 0 writes them again, and part is last read before two barriers.
    if (t < workers) {
      float m = minus_infinity();
      for (long k = t; k < P::n; k += workers)
        m = running_max(m, xo[k]);
      part[t] = m;
    }
    __syncthreads();
    if (t == 0) {
      float m = part[0];
      for (long w = 1; w < workers; ++w)
        m = running_max(m, part[w]);
      row_max = m;
    }
    __syncthreads();
    const float max = row_max;
    float sum = 0.f; // thread 0's is the row's
    for (long base = 0; base < P::n; base += kChunk) {
      const long len = min_of(kChunk, P::n - base);
      for (long j = t; j < len; j += threads)
        part[j] = expf(xo[base + j] - max);
      __syncthreads();
      if (t == 0)
        for (long j = 0; j < len; ++j)
          sum += part[j];
      __syncthreads();
    }
    if (t == 0)
      row_sum = sum;
    __syncthreads();
    sum = row_sum;
    if constexpr (Log) {
      const float log_sum = logf(sum);
      for (long k = t; k < P::n; k += threads)
        yo[k] = xo[k] - max - log_sum;
    } else {
      for (long k = t; k < P::n; k += threads)
        yo[k] = expf(xo[k] - max) / sum;
    }
  });
}

} // namespace norm

/// BatchNormalization (inference) of X[P::outer, P::channels, P::inner]:
/// y = scale * (x - mean) * (1 / sqrt(var + P::epsilon)) + B per channel,
/// inputs X, scale, B, mean, var. One thread per element.
template <class P> __device__ void batch_norm(const anet_cuda_args &args) {
  const float *x = args.in[0], *scale = args.in[1], *shift = args.in[2], *mean = args.in[3],
              *var = args.in[4];
  float *y = args.out[0];
  grid_stride(P::outer * P::channels * P::inner, [&](long at) {
    const long c = at / P::inner % P::channels;
    const float inv_std = 1.f / sqrtf(var[c] + P::epsilon);
    y[at] = __fadd_rn(__fmul_rn(__fmul_rn(scale[c], x[at] - mean[c]), inv_std), shift[c]);
  });
}

/// LRN across the channels of X[P::outer, P::channels, P::inner]: P::size,
/// P::alpha_over_size (alpha / size, as the reference rounds it), P::bias,
/// P::beta, P::beta_is_three_quarters. The window of channel c is
/// c - (size-1)/2 .. c + size/2, clipped to the channels; one thread per
/// output element sums its window's squares in channel order.
template <class P> __device__ void lrn(const anet_cuda_args &args) {
  constexpr long before = (P::size - 1) / 2, after = P::size - 1 - before;
  const float *x = args.in[0];
  float *y = args.out[0];
  // Compilers rewrite powf with some constant exponents (0.5 into sqrtf,
  // ...), which is not always powf to the last bit: hide the constant.
  volatile float beta_at_run_time = P::beta;
  const float beta = beta_at_run_time;
  grid_stride(P::outer * P::channels * P::inner, [&](long at) {
    const long c = at / P::inner % P::channels;
    const float *column = x + (at - c * P::inner); // channel 0 at this image and position
    const long first = max_of(0L, c - before), last = min_of(P::channels - 1, c + after);
    float square_sum = 0.f;
    for (long j = first; j <= last; ++j) {
      const float v = column[j * P::inner];
      square_sum = __fadd_rn(square_sum, __fmul_rn(v, v));
    }
    y[at] = norm::lrn_value<P>(x[at], square_sum, beta);
  });
}

/// Softmax (P::log false) or LogSoftmax (true) along the middle axis of
/// X[P::outer, P::n, P::inner]: y = exp(x - max) / sum(exp(x - max)), or
/// x - max - log(sum(exp(x - max))), max and sum taken along the line.
/// Rows of at least norm::kRowThreshold along a last axis take a block each
/// (norm::softmax_rows); otherwise one thread per line.
template <class P> __device__ void softmax(const anet_cuda_args &args) {
  const float *x = args.in[0];
  float *y = args.out[0];
  if constexpr (P::inner == 1 && P::n >= norm::kRowThreshold) {
    norm::softmax_rows<P, P::log>(x, y);
  } else {
    grid_stride(P::outer * P::inner, [&](long line) {
      const long at = line / P::inner * P::n * P::inner + line % P::inner;
      norm::softmax_line<P::log>(x + at, y + at, P::n, P::inner);
    });
  }
}

} // namespace ac
