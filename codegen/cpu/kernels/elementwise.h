#pragma once
/// Elementwise kernels: the unary ops (Relu, Sigmoid, Tanh, Clip, and the
/// copies Identity and Dropout) and the broadcasting binary ops (Add, Sub,
/// Mul, Div).
///
/// Every output element is the reference's expression of its inputs in the
/// same order (ir/reference/elementwise.cpp), so results are bit-identical.
/// The binary emitter (codegen/cpu/emit_elementwise.cpp) collapses the
/// broadcast into `rows` of an innermost stream in which each operand is
/// either contiguous or one scalar; the row's start in each operand comes
/// from per-axis strides baked into P.

#include "anet/activation.h"
#include "anet/base.h"

namespace ak {

namespace eltwise {

/// Elements of one parallel work item of a unary op (a multiple of 16).
constexpr long kUnaryChunk = 1024;

/// The binary ops' codes (P::op).
enum BinaryOp : long { kAdd = 0, kSub = 1, kMul = 2, kDiv = 3 };

/// a OP b on floats or 16 lanes.
template <long Op, class T> inline T apply(T a, T b) {
  if constexpr (Op == kAdd)
    return a + b;
  else if constexpr (Op == kSub)
    return a - b;
  else if constexpr (Op == kMul)
    return a * b;
  else
    return a / b;
}

/// y[i] = a OP b over [lo, hi) of one row, where an operand that is not
/// contiguous along the row (A or B false) is the scalar at its address.
template <long Op, bool A, bool B>
inline void binary_stream(const float *a, const float *b, float *y, long lo, long hi) {
  long i = lo;
  if constexpr (A && B) {
    for (; i + 16 <= hi; i += 16)
      store16(y + i, apply<Op>(load16(a + i), load16(b + i)));
    for (; i < hi; ++i)
      y[i] = apply<Op>(a[i], b[i]);
  } else if constexpr (A) {
    const float s = *b;
    for (; i + 16 <= hi; i += 16)
      store16(y + i, apply<Op>(load16(a + i), splat16(s)));
    for (; i < hi; ++i)
      y[i] = apply<Op>(a[i], s);
  } else if constexpr (B) {
    const float s = *a;
    for (; i + 16 <= hi; i += 16)
      store16(y + i, apply<Op>(splat16(s), load16(b + i)));
    for (; i < hi; ++i)
      y[i] = apply<Op>(s, b[i]);
  } else {
    const float s = apply<Op>(*a, *b);
    for (; i < hi; ++i)
      y[i] = s;
  }
}

} // namespace eltwise

/// A unary op over P::n elements: P::act, P::act_min, P::act_max as
/// activation.h reads them; kNone copies (Identity, Dropout at inference).
/// The output may be the input itself (the memory plan runs activations in
/// place), so every element is read once, before its own write.
template <class P>
void eltwise_unary_run(const float *const *in, float *const *out, const anet_cpu_rt *rt) {
  const float *x = in[0];
  float *y = out[0];
  if (P::act == kNone && x == y)
    return;
  constexpr long chunk = eltwise::kUnaryChunk;
  // libm's expf/tanhf cost tens of flops an element; the rest cost one.
  constexpr long grain = P::act == kSigmoid || P::act == kTanh ? 1 : 16;
  parallel_for(rt, ceil_div(P::n, chunk), grain, [&](long begin, long end, int) {
    const long hi = min_of(end * chunk, P::n);
    long i = begin * chunk;
    for (; i + 16 <= hi; i += 16)
      store16(y + i, activate16<P::act>(load16(x + i), P::act_min, P::act_max));
    for (; i < hi; ++i)
      y[i] = activate<P::act>(x[i], P::act_min, P::act_max);
  });
}

/// The unary kernel (see eltwise_unary_run).
template <class P> constexpr anet_kernel_info eltwise_unary() {
  return kernel_info<&eltwise_unary_run<P>>();
}

/// A broadcasting binary op, y = a OP b (P::op, eltwise::BinaryOp), over the
/// collapsed output: P::dims (outer axes, row-major) times P::inner. Operand
/// a starts row (i0, i1, ...) at sum(ik * P::a_strides[k]) and is contiguous
/// along the row if P::a_inner, else one scalar; likewise b. A row is split
/// into work items of P::chunk elements (a multiple of 16, or the row).
template <class P>
void eltwise_binary_run(const float *const *in, float *const *out, const anet_cpu_rt *rt) {
  constexpr long rank = P::dims_size;
  static_assert(P::a_strides_size == rank && P::b_strides_size == rank, "a stride per outer axis");
  constexpr long chunks = ceil_div(P::inner, P::chunk);
  constexpr long rows = [] {
    long r = 1;
    for (long d = 0; d < rank; ++d)
      r *= P::dims[d];
    return r;
  }();
  const float *a = in[0], *b = in[1];
  float *y = out[0];
  parallel_for(rt, rows * chunks, max_of(1L, 16384 / P::chunk), [&](long begin, long end, int) {
    // The odometer of the row's outer index and the operands' offsets.
    long index[rank], row = begin / chunks, part = begin % chunks, oa = 0, ob = 0;
    for (long d = rank - 1, r = row; d >= 0; --d) {
      index[d] = r % P::dims[d];
      r /= P::dims[d];
      oa += index[d] * P::a_strides[d];
      ob += index[d] * P::b_strides[d];
    }
    for (long t = begin; t < end; ++t) {
      const long lo = part * P::chunk, hi = min_of(lo + P::chunk, P::inner);
      eltwise::binary_stream<P::op, P::a_inner, P::b_inner>(a + oa, b + ob, y + row * P::inner, lo,
                                                            hi);
      if (++part < chunks)
        continue;
      part = 0;
      ++row;
      for (long d = rank - 1; d >= 0; --d) {
        oa += P::a_strides[d];
        ob += P::b_strides[d];
        if (++index[d] < P::dims[d])
          break;
        oa -= P::a_strides[d] * P::dims[d];
        ob -= P::b_strides[d] * P::dims[d];
        index[d] = 0;
      }
    }
  });
}

/// The binary kernel (see eltwise_binary_run).
template <class P> constexpr anet_kernel_info eltwise_binary() {
  return kernel_info<&eltwise_binary_run<P>>();
}

} // namespace ak
