#pragma once
/// Activations in CUDA kernels: the standalone unary ops, the epilogue of a
/// fused Conv/Gemm/MatMul, and ActivationGrad's slope. The same formulas as
/// ir/activation.h and the CPU library's activation.h, with the same codes
/// in P::act (codegen/cpu/emit.h: add_activation).

#include "anet/base.h"

namespace ac {

enum Act : long { kNone = 0, kRelu = 1, kSigmoid = 2, kTanh = 3, kClip = 4 };

/// f(x) for activation A; lo and hi bound Clip.
template <long A> __device__ __forceinline__ float activate(float x, float lo, float hi) {
  if constexpr (A == kRelu)
    return x > 0.f ? x : 0.f;
  else if constexpr (A == kSigmoid)
    return 1.f / (1.f + expf(-x));
  else if constexpr (A == kTanh)
    return tanhf(x);
  else if constexpr (A == kClip)
    return x < lo ? lo : (x > hi ? hi : x);
  else
    return x;
}

/// f'(x) written in terms of y = f(x), as Activation::slope_at_output.
template <long A> __device__ __forceinline__ float slope_at_output(float y, float lo, float hi) {
  if constexpr (A == kRelu)
    return y > 0.f ? 1.f : 0.f;
  else if constexpr (A == kSigmoid)
    return y * (1.f - y);
  else if constexpr (A == kTanh)
    return 1.f - y * y;
  else if constexpr (A == kClip)
    return y > lo && y < hi ? 1.f : 0.f;
  else
    return 1.f;
}

/// P's activation (P::act, P::act_min, P::act_max) of x.
template <class P> __device__ __forceinline__ float activate_p(float x) {
  return activate<P::act>(x, P::act_min, P::act_max);
}

} // namespace ac
