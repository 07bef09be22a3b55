#pragma once
/// Elementwise CUDA kernels: the unary ops (Relu, Sigmoid, Tanh, Clip, and
/// the copies Identity and Dropout) and the broadcasting binary ops (Add,
/// Sub, Mul, Div), reading the parameter structs of
/// codegen/cpu/emit_elementwise.cpp as the CPU library's elementwise.h does.
///
/// One thread per output element, grid-stride. Every element is the
/// reference's expression of its inputs (ir/reference/elementwise.cpp), so
/// results are bit-identical to it.

#include "anet/activation.h"
#include "anet/base.h"

namespace ac {

namespace eltwise {

/// The binary ops' codes (P::op), as the CPU library's eltwise::BinaryOp.
enum BinaryOp : long { kAdd = 0, kSub = 1, kMul = 2, kDiv = 3 };

/// a OP b.
template <long Op> __device__ __forceinline__ float apply(float a, float b) {
  if constexpr (Op == kAdd)
    return a + b;
  else if constexpr (Op == kSub)
    return a - b;
  else if constexpr (Op == kMul)
    return a * b;
  else
    return a / b;
}

} // namespace eltwise

/// y[i] = f(x[i]) for i < P::n, where f is P's activation (P::act,
/// P::act_min, P::act_max); kNone copies (Identity, Dropout at inference).
/// The output may be the input itself (the memory plan runs activations in
/// place): each element is read once, by the thread that writes it.
template <class P> __device__ void eltwise_unary(const anet_cuda_args &args) {
  const float *x = args.in[0];
  float *y = args.out[0];
  if (P::act == kNone && x == y)
    return;
  grid_stride(P::n, [&](long i) { y[i] = activate_p<P>(x[i]); });
}

/// A broadcasting binary op, y = a OP b (P::op, eltwise::BinaryOp), over the
/// collapsed output: P::dims (outer axes, row-major) times P::inner. Operand
/// a starts row (i0, i1, ...) at sum(ik * P::a_strides[k]) and is contiguous
/// along the row if P::a_inner, else one scalar there; likewise b.
template <class P> __device__ void eltwise_binary(const anet_cuda_args &args) {
  constexpr long rank = P::dims_size;
  static_assert(P::a_strides_size == rank && P::b_strides_size == rank, "a stride per outer axis");
  constexpr auto dims = P::dims;
  constexpr auto a_strides = P::a_strides;
  constexpr auto b_strides = P::b_strides;
  constexpr long rows = [] {
    long r = 1;
    for (long d = 0; d < rank; ++d)
      r *= P::dims[d];
    return r;
  }();
  const float *a = args.in[0], *b = args.in[1];
  float *y = args.out[0];
  grid_stride(rows * P::inner, [&](long i) {
    const long j = i % P::inner;
    long oa = 0, ob = 0;
    for (long d = rank - 1, r = i / P::inner; d >= 0; --d) {
      const long k = r % dims[d];
      r /= dims[d];
      oa += k * a_strides[d];
      ob += k * b_strides[d];
    }
    if constexpr (P::a_inner)
      oa += j;
    if constexpr (P::b_inner)
      ob += j;
    y[i] = eltwise::apply<P::op>(a[oa], b[ob]);
  });
}

} // namespace ac
