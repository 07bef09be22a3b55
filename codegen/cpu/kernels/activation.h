#pragma once
/// Activations in kernels: the standalone unary ops, the epilogue of a fused
/// Conv/Gemm/MatMul, and ActivationGrad's slope. The same formulas as
/// ir/activation.h, which the emitters map onto these codes.

#include "anet/base.h"

namespace ak {

/// The activation codes a kernel's P::act holds (emit.h: add_activation).
enum Act : long { kNone = 0, kRelu = 1, kSigmoid = 2, kTanh = 3, kClip = 4 };

/// f(x) for activation A; lo and hi bound Clip.
template <long A> inline float activate(float x, float lo, float hi) {
  if constexpr (A == kRelu)
    return x > 0.f ? x : 0.f;
  else if constexpr (A == kSigmoid)
    return 1.f / (1.f + __builtin_expf(-x));
  else if constexpr (A == kTanh)
    return __builtin_tanhf(x);
  else if constexpr (A == kClip)
    return x < lo ? lo : (x > hi ? hi : x);
  else
    return x;
}

/// f(x) on 16 lanes; Sigmoid and Tanh go lane by lane through libm.
template <long A> inline v16 activate16(v16 x, float lo, float hi) {
  if constexpr (A == kRelu)
    return x > 0.f ? x : v16(0.f);
  else if constexpr (A == kClip)
    return x < lo ? v16(lo) : (x > hi ? v16(hi) : x);
  else if constexpr (A == kSigmoid || A == kTanh) {
    v16 y;
    for (int i = 0; i < 16; ++i)
      y[i] = activate<A>(x[i], lo, hi);
    return y;
  } else
    return x;
}

/// f'(x) written in terms of y = f(x), as Activation::slope_at_output.
template <long A> inline float slope_at_output(float y, float lo, float hi) {
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

/// Applies P's activation (P::act, P::act_min, P::act_max) to y[0, n).
template <class P> inline void activate_range(float *y, long n) {
  if constexpr (P::act == kNone)
    return;
  long i = 0;
  for (; i + 16 <= n; i += 16)
    store16(y + i, activate16<P::act>(load16(y + i), P::act_min, P::act_max));
  for (; i < n; ++i)
    y[i] = activate<P::act>(y[i], P::act_min, P::act_max);
}

} // namespace ak
