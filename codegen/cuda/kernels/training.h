#pragma once
/// CUDA kernels of the training ops (ir/reference/training.cpp has the
/// semantics): the loss and its gradient, DropoutMask, BatchNormTrain and
/// BatchNormGrad, ReduceSum, the gradients of the activations, LRN, the
/// pools and (Log)Softmax, and the SGD update. The same templates and
/// parameter structs as the CPU library's training.h
/// (codegen/cpu/emit_training.cpp writes them).
///
/// Exactness. SgdUpdate, ActivationGrad, DropoutMask, MaxPoolGrad and
/// AveragePoolGrad compute the reference's float expressions in its order,
/// so they are bit-identical to it: a product that feeds a sum is written
/// with __fmul_rn / __fadd_rn, which no compiler contracts into an FMA. The
/// sums the reference keeps in double (ReduceSum, the batch statistics, the
/// softmax sums, the loss) are kept in double here too, in another order;
/// LRNGrad works in float. Those differ by rounding only.
///
/// Parallelism. The elementwise kernels give each thread its elements
/// (grid-stride). The pool gradients gather: one thread per input element
/// visits the windows that cover it in the reference's row-major window
/// order, so it adds their shares in the order the reference scatters them,
/// without atomics. A line that one sum spans (a loss or softmax row, a
/// batch-norm channel, a ReduceSum output whose inner run is reduced) is one
/// block's (block-stride), its sums a tree over the block's threads in
/// __shared__ memory; lines that are strided in memory (softmax along an
/// outer axis, ReduceSum with its inner run kept) are one thread's each, so
/// that neighbouring threads read neighbouring floats. The loss is one
/// block's alone, so that its sum does not depend on the grid.

#include "anet/activation.h"
#include "anet/base.h"
#include "anet/random.h"

namespace ac {
namespace train {

/// CUDA's largest block: the size of the __shared__ buffers of the block
/// reductions, which hold one double per thread.
constexpr long kMaxBlockThreads = 1024;

/// IEEE single infinity and quiet NaN (no header defines them under NVRTC).
__device__ __forceinline__ float infinity() { return __uint_as_float(0x7f800000u); }
__device__ __forceinline__ float quiet_nan() { return __uint_as_float(0x7fc00000u); }

/// op over every thread's v in the block, returned to every thread: a tree
/// over `buf` (kMaxBlockThreads doubles of __shared__ memory), the same
/// order for any launch with this block size. Every thread of the block must
/// call it; `buf` may be reused as soon as it returns.
template <class Op> __device__ __forceinline__ double block_reduce(double v, double *buf, Op op) {
  const long t = threadIdx.x, n = blockDim.x;
  buf[t] = v;
  __syncthreads();
  for (long stride = 1; stride < n; stride *= 2) {
    if (t % (2 * stride) == 0 && t + stride < n)
      buf[t] = op(buf[t], buf[t + stride]);
    __syncthreads();
  }
  const double result = buf[0];
  __syncthreads();
  return result;
}

/// The sum over the block's threads of v (block_reduce).
__device__ __forceinline__ double block_sum(double v, double *buf) {
  return block_reduce(v, buf, [](double a, double b) { return a + b; });
}

/// Whether `label` is a class index below `classes` (false for NaN).
__device__ __forceinline__ bool valid_label(float label, long classes) {
  return label >= 0.f && label < static_cast<float>(classes) && label == floorf(label);
}

/// log(sum(exp(row))) of a row of n logits in double, the row's maximum
/// subtracted first, as the reference's log_sum_exp; the block's threads
/// share the row (block_reduce).
__device__ __forceinline__ double log_sum_exp(const float *row, long n, double *buf) {
  float max = -infinity();
  for (long k = threadIdx.x; k < n; k += blockDim.x)
    max = max < row[k] ? row[k] : max;
  max =
      static_cast<float>(block_reduce(max, buf, [](double a, double b) { return a < b ? b : a; }));
  double sum = 0.0;
  for (long k = threadIdx.x; k < n; k += blockDim.x)
    sum += exp(static_cast<double>(row[k]) - max);
  return max + log(block_sum(sum, buf));
}

/// f'(x) of activation A from its output y, as Activation::slope_at_output,
/// rounded as the reference rounds it (no FMA).
template <long A> __device__ __forceinline__ float exact_slope(float y, float lo, float hi) {
  if constexpr (A == kSigmoid)
    return __fmul_rn(y, __fadd_rn(1.f, -y));
  else if constexpr (A == kTanh)
    return __fadd_rn(1.f, -__fmul_rn(y, y));
  else
    return slope_at_output<A>(y, lo, hi);
}

/// The windows [first, last) of an axis of `outputs` positions whose taps
/// (tap k of window o at o * stride - pad + k * dilation, k < kernel) can
/// reach input position `at`: stride * o lies in [at + pad - (kernel - 1) *
/// dilation, at + pad].
struct WindowSpan {
  long first;
  long last;
};
__device__ __forceinline__ WindowSpan windows_over(long at, long stride, long pad, long dilation,
                                                   long kernel, long outputs) {
  const long high = at + pad, low = high - (kernel - 1) * dilation;
  return {low > 0 ? (low + stride - 1) / stride : 0, min_of(outputs, high / stride + 1)};
}

/// The taps k < kernel of window o that lie inside an axis of `size`.
__device__ __forceinline__ long taps_inside(long o, long stride, long pad, long dilation,
                                            long kernel, long size) {
  long count = 0;
  for (long k = 0; k < kernel; ++k) {
    const long at = o * stride - pad + k * dilation;
    count += at >= 0 && at < size;
  }
  return count;
}

/// The tap i * kernel_w + j that MaxPool P takes in window (oh, ow) of the
/// plane x: the first, in window order, greater than every tap before it,
/// never the padding; -1 if none is (all -inf or NaN).
template <class P> __device__ __forceinline__ long first_max_tap(const float *x, long oh, long ow) {
  float best = -infinity();
  long best_tap = -1;
  for (long i = 0; i < P::kernel_h; ++i) {
    const long ih = oh * P::stride_h - P::pad_top + i * P::dilation_h;
    if (ih < 0 || ih >= P::height)
      continue;
    for (long j = 0; j < P::kernel_w; ++j) {
      const long iw = ow * P::stride_w - P::pad_left + j * P::dilation_w;
      if (iw >= 0 && iw < P::width && x[ih * P::width + iw] > best) {
        best = x[ih * P::width + iw];
        best_tap = i * P::kernel_w + j;
      }
    }
  }
  return best_tap;
}

/// AveragePool P's divisor of window (oh, ow), as Window::average_divisor.
template <class P> __device__ __forceinline__ float average_divisor(long oh, long ow) {
  if constexpr (P::include_pad)
    return static_cast<float>(P::kernel_h * P::kernel_w);
  else
    return static_cast<float>(
        taps_inside(oh, P::stride_h, P::pad_top, P::dilation_h, P::kernel_h, P::height) *
        taps_inside(ow, P::stride_w, P::pad_left, P::dilation_w, P::kernel_w, P::width));
}

} // namespace train

/// SoftmaxCrossEntropy of logits[P::rows, P::classes] and labels[P::rows]:
/// the mean over rows of log_sum_exp(row) - row[label], NaN where a label is
/// not a class index. Block 0 alone walks the rows, its threads sharing
/// each row; the sum over rows in double, in row order.
template <class P> __device__ void softmax_cross_entropy(const anet_cuda_args &args) {
  if (blockIdx.x != 0)
    return;
  __shared__ double buf[train::kMaxBlockThreads];
  const float *logits = args.in[0], *labels = args.in[1];
  double total = 0.0;
  for (long n = 0; n < P::rows; ++n) {
    const float *row = logits + n * P::classes;
    const float label = labels[n];
    total += train::valid_label(label, P::classes)
                 ? train::log_sum_exp(row, P::classes, buf) - row[static_cast<long>(label)]
                 : static_cast<double>(train::quiet_nan());
  }
  if (threadIdx.x == 0)
    args.out[0][0] = static_cast<float>(total / static_cast<double>(P::rows));
}

/// SoftmaxCrossEntropyGrad: dlogits = (softmax(row) - onehot(label)) * dloss
/// / P::rows in double, NaN for a row whose label is not a class index; a
/// block per row. P: rows, classes.
template <class P> __device__ void softmax_cross_entropy_grad(const anet_cuda_args &args) {
  __shared__ double buf[train::kMaxBlockThreads];
  const float *logits = args.in[0], *labels = args.in[1];
  const double per_row = static_cast<double>(args.in[2][0]) / static_cast<double>(P::rows);
  block_stride(P::rows, [&](long n) {
    const float *row = logits + n * P::classes;
    float *grad = args.out[0] + n * P::classes;
    const float label_value = labels[n];
    if (!train::valid_label(label_value, P::classes)) {
      for (long k = threadIdx.x; k < P::classes; k += blockDim.x)
        grad[k] = train::quiet_nan();
      return;
    }
    const long label = static_cast<long>(label_value);
    const double lse = train::log_sum_exp(row, P::classes, buf);
    for (long k = threadIdx.x; k < P::classes; k += blockDim.x) {
      const double p = exp(static_cast<double>(row[k]) - lse);
      grad[k] = static_cast<float>((p - (k == label ? 1.0 : 0.0)) * per_row);
    }
  });
}

/// DropoutMask: element i is P::kept (1 / (1 - ratio)) where random.h's draw
/// for (P::seed, step, i) keeps it, else 0; the step input (a float) rounded
/// half away from zero, as llround. P: n, seed, ratio, kept.
template <class P> __device__ void dropout_mask(const anet_cuda_args &args) {
  const float step_value = args.in[0][0];
  long long step = static_cast<long long>(step_value);
  const float fraction = step_value - static_cast<float>(step);
  step += fraction >= 0.5f ? 1 : (fraction <= -0.5f ? -1 : 0);
  const auto seed = static_cast<unsigned long long>(P::seed);
  const auto draw_step = static_cast<unsigned long long>(step);
  float *y = args.out[0];
  grid_stride(P::n, [&](long i) {
    y[i] = anet::dropout_keeps(seed, draw_step, static_cast<unsigned long long>(i), P::ratio)
               ? P::kept
               : 0.f;
  });
}

/// BatchNormTrain of X[P::outer, P::channels, P::inner]: a block per
/// channel; the batch mean and population variance in double over two
/// passes, as the reference; Y = scale * (x - mean) * inv_std + shift; the
/// running statistics, batch mean and inv_std written by thread 0, which
/// reads a channel's running values before writing them (outputs 1 and 2
/// may replace inputs 3 and 4). P: outer, channels, inner, epsilon, momentum.
template <class P> __device__ void batch_norm_train(const anet_cuda_args &args) {
  __shared__ double buf[train::kMaxBlockThreads];
  const float *x = args.in[0], *scale = args.in[1], *shift = args.in[2], *running_mean = args.in[3],
              *running_var = args.in[4];
  constexpr long count = P::outer * P::inner;
  block_stride(P::channels, [&](long c) {
    auto at = [c](long e) { return (e / P::inner * P::channels + c) * P::inner + e % P::inner; };
    double sum = 0.0;
    for (long e = threadIdx.x; e < count; e += blockDim.x)
      sum += x[at(e)];
    const double mean = train::block_sum(sum, buf) / static_cast<double>(count);
    double squares = 0.0;
    for (long e = threadIdx.x; e < count; e += blockDim.x) {
      const double d = x[at(e)] - mean;
      squares += d * d;
    }
    const double var = train::block_sum(squares, buf) / static_cast<double>(count);
    const float batch_mean = static_cast<float>(mean);
    const float inv_std = static_cast<float>(1.0 / sqrt(var + static_cast<double>(P::epsilon)));
    const float sc = scale[c], sh = shift[c];
    for (long e = threadIdx.x; e < count; e += blockDim.x)
      args.out[0][at(e)] = __fadd_rn(__fmul_rn(__fmul_rn(sc, x[at(e)] - batch_mean), inv_std), sh);
    if (threadIdx.x != 0)
      return;
    const float new_mean = running_mean[c] * P::momentum + batch_mean * (1.f - P::momentum);
    const float new_var =
        running_var[c] * P::momentum + static_cast<float>(var) * (1.f - P::momentum);
    args.out[1][c] = new_mean;
    args.out[2][c] = new_var;
    args.out[3][c] = batch_mean;
    args.out[4][c] = inv_std;
  });
}

/// BatchNormGrad of X[P::outer, P::channels, P::inner] from the saved batch
/// mean and inv_std: with xhat = (x - mean) * inv_std over a channel's M
/// values, dshift = sum(dy), dscale = sum(dy * xhat) and
/// dx = scale * inv_std / M * (M * dy - dshift - xhat * dscale), in double;
/// a block per channel. P: outer, channels, inner.
template <class P> __device__ void batch_norm_grad(const anet_cuda_args &args) {
  __shared__ double buf[train::kMaxBlockThreads];
  const float *x = args.in[0], *scale = args.in[1], *mean = args.in[2], *inv_std = args.in[3],
              *dy = args.in[4];
  constexpr long count = P::outer * P::inner;
  block_stride(P::channels, [&](long c) {
    auto at = [c](long e) { return (e / P::inner * P::channels + c) * P::inner + e % P::inner; };
    const double mu = mean[c], is = inv_std[c];
    double dshift = 0.0, dscale = 0.0;
    for (long e = threadIdx.x; e < count; e += blockDim.x) {
      const double g = dy[at(e)];
      dshift += g;
      dscale += g * ((x[at(e)] - mu) * is);
    }
    dshift = train::block_sum(dshift, buf);
    dscale = train::block_sum(dscale, buf);
    const double m = static_cast<double>(count);
    const double factor = static_cast<double>(scale[c]) * is / m;
    for (long e = threadIdx.x; e < count; e += blockDim.x) {
      const double xhat = (x[at(e)] - mu) * is;
      args.out[0][at(e)] = static_cast<float>(factor * (m * dy[at(e)] - dshift - xhat * dscale));
    }
    if (threadIdx.x == 0) {
      args.out[1][c] = static_cast<float>(dscale);
      args.out[2][c] = static_cast<float>(dshift);
    }
  });
}

/// ReduceSum, summed in double. The emitter collapses the input's axes into
/// alternating kept and reduced groups; the innermost group (P::inner
/// elements, contiguous) is kept (P::inner_kept: the output's last axis) or
/// reduced. The other kept axes (P::kept_dims, input strides
/// P::kept_strides; P::outputs in all) enumerate output rows, the other
/// reduced ones (P::reduced_dims, P::reduced_strides; P::reduced in all)
/// the runs each output row adds. With the inner run kept, a thread per
/// output element adds its column in the reference's order; else a block per
/// output adds its P::reduced runs of P::inner.
template <class P> __device__ void reduce_sum(const anet_cuda_args &args) {
  static_assert(P::kept_strides_size == P::kept_dims_size &&
                P::reduced_strides_size == P::reduced_dims_size);
  constexpr auto kept_dims = P::kept_dims, kept_strides = P::kept_strides;
  constexpr auto reduced_dims = P::reduced_dims, reduced_strides = P::reduced_strides;
  const float *x = args.in[0];
  float *y = args.out[0];
  auto kept_offset = [&](long o) {
    return offset_of<P::kept_dims_size>(o, kept_dims, kept_strides);
  };
  auto reduced_offset = [&](long r) {
    return offset_of<P::reduced_dims_size>(r, reduced_dims, reduced_strides);
  };
  if constexpr (P::inner_kept) {
    grid_stride(P::outputs * P::inner, [&](long t) {
      const float *column = x + kept_offset(t / P::inner) + t % P::inner;
      double sum = 0.0;
      for (long r = 0; r < P::reduced; ++r)
        sum += column[reduced_offset(r)];
      y[t] = static_cast<float>(sum);
    });
  } else {
    __shared__ double buf[train::kMaxBlockThreads];
    block_stride(P::outputs, [&](long o) {
      const float *xo = x + kept_offset(o);
      double sum = 0.0;
      for (long e = threadIdx.x; e < P::reduced * P::inner; e += blockDim.x)
        sum += xo[reduced_offset(e / P::inner) + e % P::inner];
      sum = train::block_sum(sum, buf);
      if (threadIdx.x == 0)
        y[o] = static_cast<float>(sum);
    });
  }
}

/// ActivationGrad: dx = dy * f'(x) from f's output y, rounded as the
/// reference. P: n, act, act_min, act_max (activation.h).
template <class P> __device__ void activation_grad(const anet_cuda_args &args) {
  const float *dy = args.in[0], *y = args.in[1];
  float *dx = args.out[0];
  grid_stride(P::n, [&](long i) {
    dx[i] = __fmul_rn(dy[i], train::exact_slope<P::act>(y[i], P::act_min, P::act_max));
  });
}

/// LRNGrad of X, Y, dY [P::outer, P::channels, P::inner]:
///   dx_k = dy_k * s_k^-beta - coef * x_k * sum over c with k in c's window of dy_c y_c / s_c
/// with s_c = bias + alpha_over_size * (sum of x_j^2 over c - before .. c + after) and
/// coef = 2 * alpha / size * beta, in float; a thread per element, which
/// squares the 2 * size - 1 channels around its own once.
/// P: outer, channels, inner, before, after, bias, alpha_over_size, beta, coef.
template <class P> __device__ void lrn_grad(const anet_cuda_args &args) {
  constexpr long size = P::before + P::after + 1, reach = size - 1;
  const float *x = args.in[0], *y = args.in[1], *dy = args.in[2];
  float *dx = args.out[0];
  grid_stride(P::outer * P::channels * P::inner, [&](long e) {
    const long k = e / P::inner % P::channels;
    const long base = e - k * P::inner; // channel 0 at this position
    // squares[j - (k - reach)]: x_j^2 for the channels j that any window of k's reaches.
    float squares[2 * size - 1];
    for (long j = k - reach; j <= k + reach; ++j) {
      const float xj = j >= 0 && j < P::channels ? x[base + j * P::inner] : 0.f;
      squares[j - (k - reach)] = xj * xj;
    }
    // s_c of channel c in [k - reach, k + reach].
    auto scale_of = [&](long c) {
      const long first = max_of(0L, c - P::before), last = min_of(P::channels - 1, c + P::after);
      float sum = squares[first - (k - reach)];
      for (long j = first + 1; j <= last; ++j)
        sum += squares[j - (k - reach)];
      return P::bias + P::alpha_over_size * sum;
    };
    const long first = max_of(0L, k - P::after), last = min_of(P::channels - 1, k + P::before);
    float sum = 0.f;
    for (long c = first; c <= last; ++c) {
      const long at = base + c * P::inner;
      sum += dy[at] * y[at] / scale_of(c);
    }
    dx[e] = dy[e] * powf(scale_of(k), -P::beta) - P::coef * x[e] * sum;
  });
}

/// MaxPoolGrad (P::is_max; inputs X and dY) or AveragePoolGrad (input dY)
/// of planes of P::height x P::width, with pooling.h's window constants
/// (kernel_h/_w, stride_h/_w, dilation_h/_w, pad_top/_left, out_h/_w,
/// planes, include_pad). A thread per input element adds, in row-major
/// window order, the gradient of each window whose maximal tap it is
/// (MaxPool's rule: first_max_tap) or its share dy / divisor of every window
/// it lies in: the reference's sums, in its order.
template <class P> __device__ void pool_grad(const anet_cuda_args &args) {
  constexpr long in_plane = P::height * P::width, out_plane = P::out_h * P::out_w;
  const float *x = args.in[0], *dy = args.in[P::is_max ? 1 : 0];
  float *dx = args.out[0];
  grid_stride(P::planes * in_plane, [&](long e) {
    const long p = e / in_plane, ih = e % in_plane / P::width, iw = e % P::width;
    const float *xp = x + p * in_plane, *dyp = dy + p * out_plane;
    const train::WindowSpan rows =
        train::windows_over(ih, P::stride_h, P::pad_top, P::dilation_h, P::kernel_h, P::out_h);
    const train::WindowSpan cols =
        train::windows_over(iw, P::stride_w, P::pad_left, P::dilation_w, P::kernel_w, P::out_w);
    float acc = 0.f;
    for (long oh = rows.first; oh < rows.last; ++oh) {
      const long down = ih + P::pad_top - oh * P::stride_h;
      if (down % P::dilation_h != 0)
        continue;
      for (long ow = cols.first; ow < cols.last; ++ow) {
        const long across = iw + P::pad_left - ow * P::stride_w;
        if (across % P::dilation_w != 0)
          continue;
        const float g = dyp[oh * P::out_w + ow];
        if constexpr (P::is_max) {
          const long tap = down / P::dilation_h * P::kernel_w + across / P::dilation_w;
          if (train::first_max_tap<P>(xp, oh, ow) == tap)
            acc += g;
        } else {
          acc += g / train::average_divisor<P>(oh, ow);
        }
      }
    }
    dx[e] = acc;
  });
}

/// SoftmaxGrad (dx = y * (dy - sum(dy * y))) or, with P::log,
/// LogSoftmaxGrad (dx = dy - exp(y) * sum(dy)) along the middle axis of
/// [P::outer, P::n, P::inner]; the sums in double. A line of contiguous
/// elements (P::inner == 1) is a block's; strided lines are a thread's each.
template <class P> __device__ void softmax_grad(const anet_cuda_args &args) {
  const float *y = args.in[0], *dy = args.in[1];
  float *dx = args.out[0];
  // The line's terms and dx from y, dy and the line's sum.
  auto term = [](float yv, float g) {
    return P::log ? static_cast<double>(g) : static_cast<double>(g) * yv;
  };
  auto grad = [](float yv, float g, double sum) {
    if constexpr (P::log)
      return static_cast<float>(g - exp(static_cast<double>(yv)) * sum);
    else
      return static_cast<float>(yv * (g - sum));
  };
  if constexpr (P::inner == 1) {
    __shared__ double buf[train::kMaxBlockThreads];
    block_stride(P::outer, [&](long o) {
      const float *yo = y + o * P::n, *go = dy + o * P::n;
      double sum = 0.0;
      for (long k = threadIdx.x; k < P::n; k += blockDim.x)
        sum += term(yo[k], go[k]);
      sum = train::block_sum(sum, buf);
      for (long k = threadIdx.x; k < P::n; k += blockDim.x)
        dx[o * P::n + k] = grad(yo[k], go[k], sum);
    });
  } else {
    grid_stride(P::outer * P::inner, [&](long t) {
      const long at = t / P::inner * P::n * P::inner + t % P::inner;
      double sum = 0.0;
      for (long k = 0; k < P::n; ++k)
        sum += term(y[at + k * P::inner], dy[at + k * P::inner]);
      for (long k = 0; k < P::n; ++k)
        dx[at + k * P::inner] = grad(y[at + k * P::inner], dy[at + k * P::inner], sum);
    });
  }
}

/// SgdUpdate: V' = momentum * V - weight_decay * lr * W - lr * G; W' = W + V',
/// rounded as the reference. Each element is read before it is written: W'
/// and V' may be W and V. P: n, momentum, weight_decay.
template <class P> __device__ void sgd_update(const anet_cuda_args &args) {
  const float *w = args.in[0], *v = args.in[1], *g = args.in[2];
  const float lr = args.in[3][0];
  const float decay = __fmul_rn(P::weight_decay, lr);
  float *w_out = args.out[0], *v_out = args.out[1];
  grid_stride(P::n, [&](long i) {
    const float wi = w[i];
    const float velocity = __fadd_rn(__fadd_rn(__fmul_rn(P::momentum, v[i]), -__fmul_rn(decay, wi)),
                                     -__fmul_rn(lr, g[i]));
    w_out[i] = __fadd_rn(wi, velocity);
    v_out[i] = velocity;
  });
}

} // namespace ac
