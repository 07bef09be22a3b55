#pragma once
/// Kernels of the training ops (ir/reference/training.cpp has the
/// semantics): the loss and its gradient, DropoutMask, BatchNormTrain and
/// BatchNormGrad, ReduceSum, the gradients of the activations, LRN, the
/// pools and (Log)Softmax, and the SGD update. Instantiated by
/// codegen/cpu/emit_training.cpp.
///
/// Exactness. SgdUpdate, ActivationGrad, DropoutMask, MaxPoolGrad and
/// AveragePoolGrad compute the reference's float expressions in its order
/// (FMA contraction off), so they are bit-identical to it. The sums the
/// reference accumulates in double (ReduceSum, the batch statistics, the
/// softmax sums, the loss) are accumulated in double here too, in another
/// order; LRNGrad works in float. Those differ by rounding only.
///
/// The pool gradients copy each plane into per-worker scratch split by
/// column phase, as the forward pools of pooling.h do (pool::PaddedPlane),
/// so the taps of 16 neighbouring windows are one contiguous load. MaxPoolGrad
/// finds each window's first maximal tap 16 windows at a time; both then add
/// each window's gradient into a phase-split accumulator, tap by tap, with
/// the columns of a window row in descending order: every input element then
/// receives its windows' contributions in the reference's (row-major window)
/// order. Planes run in parallel; each worker owns its planes' outputs.
///
/// LRNGrad streams the channels of a chunk of spatial positions of one image
/// through three rings of per-worker scratch, as the forward LRN of
/// normalization.h does: channel c's squares, then its window sum s, s^-beta
/// and dy * y / s; dx of channel c - before follows as soon as the last ratio
/// its window sum needs exists. Every row a chunk reads stays in cache
/// between its uses.
///
/// SoftmaxCrossEntropy adds its rows' losses per worker; the final sum over
/// workers depends on how the pool sliced the rows (by rounding only).

#include "anet/activation.h"
#include "anet/base.h"
#include "anet/layout.h"
#include "anet/normalization.h"
#include "anet/pooling.h"
#include "anet/random.h"

namespace ak {
namespace train {

/// 8 doubles: the accumulators of the sums the reference keeps in double.
typedef double v8d __attribute__((ext_vector_type(8)));
/// 16 ints: tap and lane numbers.
typedef int v16i __attribute__((ext_vector_type(16)));

/// The lane numbers.
constexpr v16i kLanes = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

/// Elements a parallel slice of an elementwise kernel covers at least.
constexpr long kElementGrain = 1L << 14;

/// Lanes 0-7 (widen_lo) or 8-15 (widen_hi) of x as doubles.
inline v8d widen_lo(v16 x) {
  return __builtin_convertvector(__builtin_shufflevector(x, x, 0, 1, 2, 3, 4, 5, 6, 7), v8d);
}
inline v8d widen_hi(v16 x) {
  return __builtin_convertvector(__builtin_shufflevector(x, x, 8, 9, 10, 11, 12, 13, 14, 15), v8d);
}
/// 8 floats from p (any 4-byte alignment) as doubles.
inline v8d load8d(const float *p) {
  return __builtin_convertvector(*reinterpret_cast<const v8u *>(p), v8d);
}
/// v rounded to floats, stored at p.
inline void store8d(float *p, v8d v) {
  *reinterpret_cast<v8u *>(p) = __builtin_convertvector(v, v8);
}

/// The sum of v's lanes, in lane order.
inline double lane_sum(v8d v) {
  double s = 0.0;
  for (int l = 0; l < 8; ++l)
    s += v[l];
  return s;
}

/// x[0, n) summed in double.
inline double sum_double(const float *x, long n) {
  v8d a = 0.0, b = 0.0, c = 0.0, d = 0.0;
  long i = 0;
  for (; i + 32 <= n; i += 32) {
    v16 u = load16(x + i), v = load16(x + i + 16);
    a += widen_lo(u);
    b += widen_hi(u);
    c += widen_lo(v);
    d += widen_hi(v);
  }
  double s = lane_sum((a + b) + (c + d));
  for (; i < n; ++i)
    s += x[i];
  return s;
}

/// The sum over x[0, n) of (x - mean)^2, in double.
inline double squared_deviation(const float *x, long n, double mean) {
#pragma clang fp contract(off)
  v8d a = 0.0, b = 0.0;
  long i = 0;
  for (; i + 16 <= n; i += 16) {
    v16 u = load16(x + i);
    v8d dl = widen_lo(u) - mean, dh = widen_hi(u) - mean;
    a += dl * dl;
    b += dh * dh;
  }
  double s = lane_sum(a + b);
  for (; i < n; ++i) {
    double dev = x[i] - mean;
    s += dev * dev;
  }
  return s;
}

/// Whether `label` is a class index below `classes` (false for NaN).
inline bool valid_label(float label, long classes) {
  return label >= 0.f && label < static_cast<float>(classes) && label == __builtin_floorf(label);
}

/// log(sum(exp(row))) in double, the maximum subtracted first, as the
/// reference's log_sum_exp.
inline double log_sum_exp(const float *row, long n) {
  const float max = norm::row_max(row, n);
  double sum = 0.0;
  for (long k = 0; k < n; ++k)
    sum += __builtin_exp(static_cast<double>(row[k]) - max);
  return max + __builtin_log(sum);
}

/// f'(x) of activation A from its output y, on 16 lanes
/// (slope_at_output's formulas).
template <long A> inline v16 slope16(v16 y, float lo, float hi) {
#pragma clang fp contract(off)
  if constexpr (A == kRelu)
    return y > 0.f ? v16(1.f) : v16(0.f);
  else if constexpr (A == kSigmoid)
    return y * (1.f - y);
  else if constexpr (A == kTanh)
    return 1.f - y * y;
  else if constexpr (A == kClip)
    return ((y > lo) & (y < hi)) ? v16(1.f) : v16(0.f);
  else
    return v16(1.f);
}

/// The taps k < kernel of the window at output `o` that lie inside an axis
/// of `size` (tap k at o * stride - pad + k * dilation): [first, last).
struct TapSpan {
  long first;
  long last;
};
inline TapSpan taps_inside(long o, long stride, long pad, long dilation, long kernel, long size) {
  const long start = o * stride - pad;
  const long first = start >= 0 ? 0 : ceil_div(-start, dilation);
  const long last = size > start ? min_of(kernel, ceil_div(size - start, dilation)) : 0;
  return {first, max_of(first, last)};
}

/// Up to 16 floats from p (n of them), the other lanes 0.
inline v16 load_partial(const float *p, long n) {
  if (n >= 16)
    return load16(p);
  v16 v = 0.f;
  for (long l = 0; l < n; ++l)
    v[l] = p[l];
  return v;
}

/// Writes the plane dx from the phase-split accumulator `acc` of pool P
/// (pool::PaddedPlane's layout); elements no window reaches are 0. With
/// stride 1 a row is one copy; with stride 2, 32 columns at a time
/// interleave 16 of each phase.
template <class P> inline void unsplit_plane(const float *acc, float *dx) {
  using L = pool::PaddedPlane<P>;
  for (long ih = 0; ih < P::height; ++ih) {
    const long r = ih + P::pad_top;
    float *row = dx + ih * P::width;
    if (r >= L::rows) {
      for (long iw = 0; iw < P::width; ++iw)
        row[iw] = 0.f;
      continue;
    }
    const float *src = acc + r * L::row_stride;
    long iw = 0;
    if constexpr (P::stride_w == 1) {
      iw = max_of(min_of(P::width, L::phase_width - P::pad_left), 0L);
      layout::copy_floats(row, src + P::pad_left, iw);
    } else if constexpr (P::stride_w == 2) {
      // Column c = iw + pad_left is in phase c % 2 at c / 2; c + 1 in the other.
      constexpr long parity = P::pad_left % 2;
      const float *first = src + parity * L::phase_width,
                  *second = src + (1 - parity) * L::phase_width;
      for (; iw + 32 <= P::width && (iw + P::pad_left + 31) / 2 < L::phase_width; iw += 32) {
        const long c = iw + P::pad_left;
        const v16 a = load16(first + c / 2), b = load16(second + (c + 1) / 2);
        store16(row + iw, __builtin_shufflevector(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6,
                                                  22, 7, 23));
        store16(row + iw + 16, __builtin_shufflevector(a, b, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28,
                                                       13, 29, 14, 30, 15, 31));
      }
    }
    for (; iw < P::width; ++iw) {
      const long c = iw + P::pad_left, m = c / P::stride_w;
      row[iw] = m < L::phase_width ? src[c % P::stride_w * L::phase_width + m] : 0.f;
    }
  }
}

/// Adds the gradients of the 16 windows (oh, ow .. ow + 15) into their taps
/// in the accumulator `acc`, tap row by tap row, each row's columns in
/// descending order; mask(i, j, share) is what each lane gives tap (i, j).
template <class P, class Mask>
inline void scatter_windows(float *acc, long oh, long ow, v16 share, const Mask &mask) {
  using L = pool::PaddedPlane<P>;
  for (long i = 0; i < P::kernel_h; ++i) {
    float *row = acc + (oh * P::stride_h + i * P::dilation_h) * L::row_stride + ow;
    for (long j = P::kernel_w - 1; j >= 0; --j) {
      const long c = j * P::dilation_w;
      float *at = row + c % P::stride_w * L::phase_width + c / P::stride_w;
      store16(at, load16(at) + mask(i, j, share));
    }
  }
}

} // namespace train

/// The body of softmax_cross_entropy<P>.
template <class P>
void softmax_cross_entropy_run(const float *const *in, float *const *out, const anet_cpu_rt *rt) {
  const float *logits = in[0], *labels = in[1];
  for (int w = 0; w < rt->workers; ++w)
    *reinterpret_cast<double *>(rt->scratch[w]) = 0.0;
  parallel_for(rt, P::rows, ceil_div(train::kElementGrain, max_of(P::classes, 1L)),
               [&](long begin, long end, int worker) {
                 double total = 0.0;
                 for (long n = begin; n < end; ++n) {
                   const float *row = logits + n * P::classes;
                   total +=
                       train::valid_label(labels[n], P::classes)
                           ? train::log_sum_exp(row, P::classes) - row[static_cast<long>(labels[n])]
                           : __builtin_nan("");
                 }
                 *reinterpret_cast<double *>(rt->scratch[worker]) += total;
               });
  double total = 0.0;
  for (int w = 0; w < rt->workers; ++w)
    total += *reinterpret_cast<double *>(rt->scratch[w]);
  out[0][0] = static_cast<float>(total / static_cast<double>(P::rows));
}

/// SoftmaxCrossEntropy of logits[P::rows, P::classes] and labels[P::rows]:
/// rows in parallel, each worker's partial sum (a double) in its scratch.
template <class P> constexpr anet_kernel_info softmax_cross_entropy() {
  return kernel_info<&softmax_cross_entropy_run<P>>(16);
}

/// The body of softmax_cross_entropy_grad<P>.
template <class P>
void softmax_cross_entropy_grad_run(const float *const *in, float *const *out,
                                    const anet_cpu_rt *rt) {
  const float *logits = in[0], *labels = in[1];
  const double per_row = static_cast<double>(in[2][0]) / static_cast<double>(P::rows);
  parallel_for(rt, P::rows, ceil_div(train::kElementGrain, max_of(P::classes, 1L)),
               [&](long begin, long end, int) {
                 for (long n = begin; n < end; ++n) {
                   const float *row = logits + n * P::classes;
                   float *grad = out[0] + n * P::classes;
                   if (!train::valid_label(labels[n], P::classes)) {
                     for (long k = 0; k < P::classes; ++k)
                       grad[k] = __builtin_nanf("");
                     continue;
                   }
                   const long label = static_cast<long>(labels[n]);
                   const double lse = train::log_sum_exp(row, P::classes);
                   for (long k = 0; k < P::classes; ++k) {
                     const double p = __builtin_exp(static_cast<double>(row[k]) - lse);
                     grad[k] = static_cast<float>((p - (k == label ? 1.0 : 0.0)) * per_row);
                   }
                 }
               });
}

/// SoftmaxCrossEntropyGrad: (softmax - onehot) * dloss / rows, rows in
/// parallel. P: rows, classes.
template <class P> constexpr anet_kernel_info softmax_cross_entropy_grad() {
  return kernel_info<&softmax_cross_entropy_grad_run<P>>();
}

/// The body of dropout_mask<P>.
template <class P>
void dropout_mask_run(const float *const *in, float *const *out, const anet_cpu_rt *rt) {
  // The step rounded half away from zero, as llround.
  const float step_value = in[0][0];
  long long step = static_cast<long long>(step_value);
  const float fraction = step_value - static_cast<float>(step);
  step += fraction >= 0.5f ? 1 : (fraction <= -0.5f ? -1 : 0);
  const auto seed = static_cast<unsigned long long>(P::seed);
  const auto draw_step = static_cast<unsigned long long>(step);
  float *y = out[0];
  parallel_for(rt, P::n, train::kElementGrain, [&](long begin, long end, int) {
    for (long i = begin; i < end; ++i)
      y[i] = anet::dropout_keeps(seed, draw_step, static_cast<unsigned long long>(i), P::ratio)
                 ? P::kept
                 : 0.f;
  });
}

/// DropoutMask: element i is P::kept (1 / (1 - ratio)) where random.h's draw
/// for (P::seed, step, i) keeps it, else 0. P: n, seed, ratio, kept.
template <class P> constexpr anet_kernel_info dropout_mask() {
  return kernel_info<&dropout_mask_run<P>>();
}

/// The body of batch_norm_train<P>.
template <class P>
void batch_norm_train_run(const float *const *in, float *const *out, const anet_cpu_rt *rt) {
#pragma clang fp contract(off)
  const float *x = in[0], *scale = in[1], *shift = in[2], *running_mean = in[3],
              *running_var = in[4];
  constexpr double count = static_cast<double>(P::outer * P::inner);
  parallel_for(
      rt, P::channels, ceil_div(train::kElementGrain, max_of(P::outer * P::inner, 1L)),
      [&](long begin, long end, int) {
        for (long c = begin; c < end; ++c) {
          double sum = 0.0;
          for (long o = 0; o < P::outer; ++o)
            sum += train::sum_double(x + (o * P::channels + c) * P::inner, P::inner);
          const double mean = sum / count;
          double squares = 0.0;
          for (long o = 0; o < P::outer; ++o)
            squares +=
                train::squared_deviation(x + (o * P::channels + c) * P::inner, P::inner, mean);
          const double var = squares / count;
          const float batch_mean = static_cast<float>(mean);
          const float inv_std =
              static_cast<float>(1.0 / __builtin_sqrt(var + static_cast<double>(P::epsilon)));
          const float sc = scale[c], sh = shift[c];
          for (long o = 0; o < P::outer; ++o) {
            const float *xo = x + (o * P::channels + c) * P::inner;
            float *yo = out[0] + (o * P::channels + c) * P::inner;
            long i = 0;
            for (; i + 16 <= P::inner; i += 16)
              store16(yo + i, sc * (load16(xo + i) - batch_mean) * inv_std + sh);
            for (; i < P::inner; ++i)
              yo[i] = sc * (xo[i] - batch_mean) * inv_std + sh;
          }
          // Read before written: outputs 1 and 2 may replace inputs 3 and 4.
          const float new_mean = running_mean[c] * P::momentum + batch_mean * (1.f - P::momentum);
          const float new_var =
              running_var[c] * P::momentum + static_cast<float>(var) * (1.f - P::momentum);
          out[1][c] = new_mean;
          out[2][c] = new_var;
          out[3][c] = batch_mean;
          out[4][c] = inv_std;
        }
      });
}

/// BatchNormTrain of X[P::outer, P::channels, P::inner]: channels in
/// parallel; the mean and variance in double over two passes, as the
/// reference. P: outer, channels, inner, epsilon, momentum.
template <class P> constexpr anet_kernel_info batch_norm_train() {
  return kernel_info<&batch_norm_train_run<P>>();
}

/// The body of batch_norm_grad<P>.
template <class P>
void batch_norm_grad_run(const float *const *in, float *const *out, const anet_cpu_rt *rt) {
#pragma clang fp contract(off)
  const float *x = in[0], *scale = in[1], *mean = in[2], *inv_std = in[3], *dy = in[4];
  constexpr double count = static_cast<double>(P::outer * P::inner);
  parallel_for(
      rt, P::channels, ceil_div(train::kElementGrain, max_of(P::outer * P::inner, 1L)),
      [&](long begin, long end, int) {
        for (long c = begin; c < end; ++c) {
          const double mu = mean[c], is = inv_std[c];
          train::v8d dshift8 = 0.0, dscale8 = 0.0;
          double dshift = 0.0, dscale = 0.0;
          for (long o = 0; o < P::outer; ++o) {
            const long at = (o * P::channels + c) * P::inner;
            long i = 0;
            for (; i + 8 <= P::inner; i += 8) {
              const train::v8d g = train::load8d(dy + at + i);
              dshift8 += g;
              dscale8 += g * ((train::load8d(x + at + i) - mu) * is);
            }
            for (; i < P::inner; ++i) {
              const double g = dy[at + i];
              dshift += g;
              dscale += g * ((x[at + i] - mu) * is);
            }
          }
          dshift += train::lane_sum(dshift8);
          dscale += train::lane_sum(dscale8);
          const double factor = static_cast<double>(scale[c]) * is / count;
          for (long o = 0; o < P::outer; ++o) {
            const long at = (o * P::channels + c) * P::inner;
            long i = 0;
            for (; i + 8 <= P::inner; i += 8) {
              const train::v8d xhat = (train::load8d(x + at + i) - mu) * is;
              train::store8d(out[0] + at + i, factor * (count * train::load8d(dy + at + i) -
                                                        dshift - xhat * dscale));
            }
            for (; i < P::inner; ++i) {
              const double xhat = (x[at + i] - mu) * is;
              out[0][at + i] =
                  static_cast<float>(factor * (count * dy[at + i] - dshift - xhat * dscale));
            }
          }
          out[1][c] = static_cast<float>(dscale);
          out[2][c] = static_cast<float>(dshift);
        }
      });
}

/// BatchNormGrad of X[P::outer, P::channels, P::inner]: channels in
/// parallel, in double as the reference. P: outer, channels, inner.
template <class P> constexpr anet_kernel_info batch_norm_grad() {
  return kernel_info<&batch_norm_grad_run<P>>();
}

/// Columns of a ReduceSum work item when the output's last axis is kept.
constexpr long kReduceColumns = 128;

/// The body of reduce_sum<P>.
template <class P>
void reduce_sum_run(const float *const *in, float *const *out, const anet_cpu_rt *rt) {
  static_assert(P::kept_strides_size == P::kept_dims_size &&
                P::reduced_strides_size == P::reduced_dims_size);
  const float *x = in[0];
  float *y = out[0];
  auto kept_offset = [](long o) {
    return layout::offset_of<P::kept_dims_size>(o, P::kept_dims, P::kept_strides);
  };
  auto reduced_offset = [](long r) {
    return layout::offset_of<P::reduced_dims_size>(r, P::reduced_dims, P::reduced_strides);
  };
  if constexpr (P::inner_kept) {
    // y[o * inner + j] = sum over r of x[kept(o) + reduced(r) + j], in column blocks.
    constexpr long blocks = ceil_div(P::inner, kReduceColumns);
    parallel_for(rt, P::outputs * blocks,
                 ceil_div(train::kElementGrain, max_of(P::reduced * kReduceColumns, 1L)),
                 [&](long begin, long end, int) {
                   for (long t = begin; t < end; ++t) {
                     const long o = t / blocks, j0 = t % blocks * kReduceColumns;
                     const long width = min_of(kReduceColumns, P::inner - j0);
                     const float *xo = x + kept_offset(o) + j0;
                     double acc[kReduceColumns] = {};
                     for (long r = 0; r < P::reduced; ++r) {
                       const float *row = xo + reduced_offset(r);
                       for (long j = 0; j < width; ++j)
                         acc[j] += row[j];
                     }
                     float *yo = y + o * P::inner + j0;
                     for (long j = 0; j < width; ++j)
                       yo[j] = static_cast<float>(acc[j]);
                   }
                 });
  } else {
    // y[o] = sum over r and the contiguous run j < inner of x[kept(o) + reduced(r) + j].
    parallel_for(rt, P::outputs, ceil_div(train::kElementGrain, max_of(P::reduced * P::inner, 1L)),
                 [&](long begin, long end, int) {
                   for (long o = begin; o < end; ++o) {
                     const float *xo = x + kept_offset(o);
                     double sum = 0.0;
                     for (long r = 0; r < P::reduced; ++r)
                       sum += train::sum_double(xo + reduced_offset(r), P::inner);
                     y[o] = static_cast<float>(sum);
                   }
                 });
  }
}

/// ReduceSum, summed in double. The emitter collapses the input's axes into
/// alternating kept and reduced groups; the innermost group (P::inner
/// elements, contiguous) is kept (P::inner_kept: the output's last axis) or
/// reduced. The other kept axes (P::kept_dims, input strides
/// P::kept_strides; P::outputs in all) enumerate output rows, the other
/// reduced ones (P::reduced_dims, P::reduced_strides; P::reduced in all)
/// the runs each output row adds.
template <class P> constexpr anet_kernel_info reduce_sum() {
  return kernel_info<&reduce_sum_run<P>>();
}

/// The body of activation_grad<P>.
template <class P>
void activation_grad_run(const float *const *in, float *const *out, const anet_cpu_rt *rt) {
#pragma clang fp contract(off)
  const float *dy = in[0], *y = in[1];
  float *dx = out[0];
  parallel_for(rt, P::n, train::kElementGrain, [&](long begin, long end, int) {
    long i = begin;
    for (; i + 16 <= end; i += 16)
      store16(dx + i,
              load16(dy + i) * train::slope16<P::act>(load16(y + i), P::act_min, P::act_max));
    if (i == end)
      return;
    const v16 tail =
        train::load_partial(dy + i, end - i) *
        train::slope16<P::act>(train::load_partial(y + i, end - i), P::act_min, P::act_max);
    for (long l = 0; l < end - i; ++l)
      dx[i + l] = tail[l];
  });
}

/// ActivationGrad: dx = dy * f'(x) from f's output y. P: n, act, act_min,
/// act_max (activation.h).
template <class P> constexpr anet_kernel_info activation_grad() {
  return kernel_info<&activation_grad_run<P>>();
}

/// Spatial positions of one LRNGrad work item.
constexpr long kLrnGradChunk = 512;

namespace train {

/// s^-beta of LRN P from s and r = 1 / s: with beta = 0.75, s^(1/4) * r.
template <class P> inline v16 lrn_power(v16 s, v16 r) {
  if constexpr (P::beta == 0.75f) {
    return __builtin_elementwise_sqrt(__builtin_elementwise_sqrt(s)) * r;
  } else {
    v16 power;
    for (int l = 0; l < 16; ++l)
      power[l] = __builtin_powf(s[l], -P::beta);
    return power;
  }
}

/// The sum of rows first..last of a ring of `size` rows of `chunk` floats,
/// at lane offset i.
inline v16 ring_sum(const float *ring, long first, long last, long size, long chunk, long i) {
  v16 sum = load16(ring + first % size * chunk + i);
  for (long j = first + 1; j <= last; ++j)
    sum += load16(ring + j % size * chunk + i);
  return sum;
}

} // namespace train

/// The body of lrn_grad<P>.
template <class P>
void lrn_grad_run(const float *const *in, float *const *out, const anet_cpu_rt *rt) {
#pragma clang fp contract(off)
  constexpr long chunk = min_of(round_up(max_of(P::inner, 1L), 16), kLrnGradChunk);
  constexpr long chunks = max_of(ceil_div(P::inner, chunk), 1L);
  constexpr long size = P::before + P::after + 1;
  const float *x = in[0], *y = in[1], *dy = in[2];
  parallel_for(rt, P::outer * chunks, 1, [&](long begin, long end, int worker) {
    // Rings of `size` rows: x^2 by channel, dy * y / s and s^-beta.
    float *squares = rt->scratch[worker], *ratios = squares + size * chunk,
          *powers = ratios + size * chunk;
    for (long t = begin; t < end; ++t) {
      const long i0 = t % chunks * chunk, width = min_of(chunk, P::inner - i0);
      const long image = t / chunks * P::channels * P::inner + i0;
      long squared = 0; // channels [0, squared) have their squares in the ring
      // Step c makes channel c's ratio and power, and dx of channel c - before,
      // the last whose window sum needs channel c's ratio.
      for (long c = 0; c < P::channels + P::before; ++c) {
        if (c < P::channels) {
          const long first = max_of(0L, c - P::before),
                     last = min_of(P::channels - 1, c + P::after);
          for (; squared <= last; ++squared) {
            const float *xc = x + image + squared * P::inner;
            float *sq = squares + squared % size * chunk;
            long i = 0;
            for (; i < width; ++i)
              sq[i] = xc[i] * xc[i];
            for (; i < chunk; ++i)
              sq[i] = 0.f;
          }
          const float *yc = y + image + c * P::inner, *gc = dy + image + c * P::inner;
          float *ra = ratios + c % size * chunk, *pw = powers + c % size * chunk;
          for (long i = 0; i < width; i += 16) {
            const v16 s = P::bias + P::alpha_over_size *
                                        train::ring_sum(squares, first, last, size, chunk, i);
            const v16 r = 1.f / s;
            const long n = min_of(16L, width - i);
            store16(ra + i, train::load_partial(gc + i, n) * train::load_partial(yc + i, n) * r);
            store16(pw + i, train::lrn_power<P>(s, r));
          }
        }
        const long k = c - P::before;
        if (k < 0)
          continue;
        const long first = max_of(0L, k - P::after), last = min_of(P::channels - 1, k + P::before);
        const float *xk = x + image + k * P::inner, *gk = dy + image + k * P::inner;
        const float *pw = powers + k % size * chunk;
        float *dx = out[0] + image + k * P::inner;
        for (long i = 0; i < width; i += 16) {
          const v16 sum = train::ring_sum(ratios, first, last, size, chunk, i);
          const long n = min_of(16L, width - i);
          const v16 d = train::load_partial(gk + i, n) * load16(pw + i) -
                        P::coef * train::load_partial(xk + i, n) * sum;
          if (n == 16) {
            store16(dx + i, d);
            continue;
          }
          for (long l = 0; l < n; ++l)
            dx[i + l] = d[l];
        }
      }
    }
  });
}

/// LRNGrad of X, Y, dY [P::outer, P::channels, P::inner]:
///   dx_k = dy_k * s_k^-beta - coef * x_k * sum over c with k in c's window of dy_c y_c / s_c
/// with s_c = bias + alpha_over_size * (sum of x_j^2 over c - before .. c + after) and
/// coef = 2 * alpha / size * beta. Work items are kLrnGradChunk positions of one image,
/// whose channels stream through rings of `size` rows (per-worker scratch).
/// P: outer, channels, inner, before, after, bias, alpha_over_size, beta, coef.
template <class P> constexpr anet_kernel_info lrn_grad() {
  return kernel_info<&lrn_grad_run<P>>(3 * (P::before + P::after + 1) *
                                       min_of(round_up(max_of(P::inner, 1L), 16), kLrnGradChunk));
}

/// The body of pool_grad<P>.
template <class P>
void pool_grad_run(const float *const *in, float *const *out, const anet_cpu_rt *rt) {
#pragma clang fp contract(off)
  using L = pool::PaddedPlane<P>;
  constexpr long in_plane = P::height * P::width, out_plane = P::out_h * P::out_w;
  const float *dy = in[P::is_max ? 1 : 0];
  parallel_for(
      rt, P::planes, ceil_div(train::kElementGrain, out_plane * P::kernel_h * P::kernel_w),
      [&](long begin, long end, int worker) {
        float *acc = rt->scratch[worker];
        float *padded = acc + L::floats;
        for (long p = begin; p < end; ++p) {
          for (long k = 0; k < L::floats; ++k)
            acc[k] = 0.f;
          if constexpr (P::is_max)
            pool::copy_plane<P>(in[0] + p * in_plane, (P::planes - p) * in_plane, padded);
          const float *dyp = dy + p * out_plane;
          for (long oh = 0; oh < P::out_h; ++oh) {
            const train::TapSpan rows = train::taps_inside(oh, P::stride_h, P::pad_top,
                                                           P::dilation_h, P::kernel_h, P::height);
            for (long ow = 0; ow < P::out_w; ow += 16) {
              const v16 g = train::load_partial(dyp + oh * P::out_w + ow, P::out_w - ow);
              if constexpr (P::is_max) {
                // The first tap, in window order, greater than all before it.
                const float *window = padded + oh * P::stride_h * L::row_stride + ow;
                v16 best = splat16(-__builtin_inff());
                train::v16i best_tap = -1;
                for (long i = 0; i < P::kernel_h; ++i)
                  for (long j = 0; j < P::kernel_w; ++j) {
                    const long c = j * P::dilation_w;
                    const v16 v = load16(window + i * P::dilation_h * L::row_stride +
                                         c % P::stride_w * L::phase_width + c / P::stride_w);
                    const train::v16i greater = v > best;
                    best = greater ? v : best;
                    best_tap =
                        greater ? train::v16i(static_cast<int>(i * P::kernel_w + j)) : best_tap;
                  }
                train::scatter_windows<P>(acc, oh, ow, g, [&](long i, long j, v16 share) {
                  return best_tap == static_cast<int>(i * P::kernel_w + j) ? share : v16(0.f);
                });
              } else {
                v16 divisor;
                if constexpr (P::include_pad) {
                  divisor = static_cast<float>(P::kernel_h * P::kernel_w);
                } else {
                  for (int l = 0; l < 16; ++l) {
                    const train::TapSpan cols = train::taps_inside(
                        ow + l, P::stride_w, P::pad_left, P::dilation_w, P::kernel_w, P::width);
                    divisor[l] =
                        static_cast<float>((rows.last - rows.first) * (cols.last - cols.first));
                  }
                }
                // Lanes past the row's end share nothing.
                const train::v16i live = train::kLanes < static_cast<int>(P::out_w - ow);
                const v16 share = live ? g / divisor : v16(0.f);
                train::scatter_windows<P>(acc, oh, ow, share, [](long, long, v16 s) { return s; });
              }
            }
          }
          train::unsplit_plane<P>(acc, out[0] + p * in_plane);
        }
      });
}

/// MaxPoolGrad (P::is_max; inputs X and dY) or AveragePoolGrad (input dY)
/// of planes of P::height x P::width, with pooling.h's window constants
/// (kernel_h/_w, stride_h/_w, dilation_h/_w, pad_top/_left, out_h/_w,
/// planes, include_pad). Scratch: the phase-split accumulator and, for
/// MaxPoolGrad, the padded input plane.
template <class P> constexpr anet_kernel_info pool_grad() {
  return kernel_info<&pool_grad_run<P>>((P::is_max ? 2 : 1) * pool::PaddedPlane<P>::floats);
}

/// The body of softmax_grad<P>.
template <class P>
void softmax_grad_run(const float *const *in, float *const *out, const anet_cpu_rt *rt) {
#pragma clang fp contract(off)
  const float *y = in[0], *dy = in[1];
  float *dx = out[0];
  // dx from y, dy and the line's sum (dy * y, or dy for LogSoftmax).
  auto grad = [](float yv, float g, double sum) {
    if constexpr (P::log)
      return static_cast<float>(g - __builtin_exp(static_cast<double>(yv)) * sum);
    else
      return static_cast<float>(yv * (g - sum));
  };
  if constexpr (P::inner == 1) {
    parallel_for(
        rt, P::outer, ceil_div(train::kElementGrain, max_of(P::n, 1L)),
        [&](long begin, long end, int) {
          for (long o = begin; o < end; ++o) {
            const float *yo = y + o * P::n, *go = dy + o * P::n;
            float *xo = dx + o * P::n;
            train::v8d acc = 0.0;
            long k = 0;
            for (; k + 8 <= P::n; k += 8)
              acc += P::log ? train::load8d(go + k) : train::load8d(go + k) * train::load8d(yo + k);
            double sum = train::lane_sum(acc);
            for (; k < P::n; ++k)
              sum += P::log ? static_cast<double>(go[k]) : static_cast<double>(go[k]) * yo[k];
            if constexpr (P::log) {
              for (k = 0; k < P::n; ++k)
                xo[k] = grad(yo[k], go[k], sum);
            } else {
              for (k = 0; k + 8 <= P::n; k += 8)
                train::store8d(xo + k, train::load8d(yo + k) * (train::load8d(go + k) - sum));
              for (; k < P::n; ++k)
                xo[k] = grad(yo[k], go[k], sum);
            }
          }
        });
  } else {
    // 16 neighbouring lines at once, one per lane.
    constexpr long blocks = ceil_div(P::inner, 16);
    parallel_for(rt, P::outer * blocks, ceil_div(train::kElementGrain, 16 * max_of(P::n, 1L)),
                 [&](long begin, long end, int) {
                   for (long t = begin; t < end; ++t) {
                     const long i = t % blocks * 16, lanes = min_of(16L, P::inner - i);
                     const long at = t / blocks * P::n * P::inner + i;
                     double sum[16] = {};
                     for (long k = 0; k < P::n; ++k) {
                       const float *yk = y + at + k * P::inner, *gk = dy + at + k * P::inner;
                       for (long l = 0; l < lanes; ++l)
                         sum[l] += P::log ? static_cast<double>(gk[l])
                                          : static_cast<double>(gk[l]) * yk[l];
                     }
                     for (long k = 0; k < P::n; ++k) {
                       const float *yk = y + at + k * P::inner, *gk = dy + at + k * P::inner;
                       float *xk = dx + at + k * P::inner;
                       for (long l = 0; l < lanes; ++l)
                         xk[l] = grad(yk[l], gk[l], sum[l]);
                     }
                   }
                 });
  }
}

/// SoftmaxGrad (dx = y * (dy - sum(dy * y))) or, with P::log,
/// LogSoftmaxGrad (dx = dy - exp(y) * sum(dy)) along the middle axis of
/// [P::outer, P::n, P::inner]; the sums in double.
template <class P> constexpr anet_kernel_info softmax_grad() {
  return kernel_info<&softmax_grad_run<P>>();
}

/// The body of sgd_update<P>.
template <class P>
void sgd_update_run(const float *const *in, float *const *out, const anet_cpu_rt *rt) {
#pragma clang fp contract(off)
  const float *w = in[0], *v = in[1], *g = in[2];
  const float lr = in[3][0];
  const float decay = P::weight_decay * lr;
  float *w_out = out[0], *v_out = out[1];
  // Each element is read before it is written: W' and V' may be W and V.
  parallel_for(rt, P::n, 4 * train::kElementGrain, [&](long begin, long end, int) {
    long i = begin;
    for (; i + 16 <= end; i += 16) {
      const v16 wi = load16(w + i);
      const v16 velocity = P::momentum * load16(v + i) - decay * wi - lr * load16(g + i);
      store16(w_out + i, wi + velocity);
      store16(v_out + i, velocity);
    }
    for (; i < end; ++i) {
      const float wi = w[i];
      const float velocity = P::momentum * v[i] - decay * wi - lr * g[i];
      w_out[i] = wi + velocity;
      v_out[i] = velocity;
    }
  });
}

/// SgdUpdate: V' = momentum * V - weight_decay * lr * W - lr * G; W' = W + V',
/// one vectorised pass in parallel. P: n, momentum, weight_decay.
template <class P> constexpr anet_kernel_info sgd_update() {
  return kernel_info<&sgd_update_run<P>>();
}

} // namespace ak
