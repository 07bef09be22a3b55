#pragma once
/// Building blocks every CPU kernel template uses: SIMD vector types,
/// parallel loops over the host's thread pool, and the kernel_info maker.
/// Freestanding: kernel sources are compiled in process by Clang without the
/// system's C++ library, so this folder includes nothing but itself; math
/// comes from Clang's builtins (which resolve to libm in the host process).

#include "anet/abi.h"

/// The arrays of a kernel's parameter struct (codegen/cpu/emit.h); host code
/// uses one as the plain array it holds.
template <class T, long N> struct anet_array {
  T v[N];
  constexpr operator const T *() const { return v; }
};

namespace ak {

/// 16 floats: one AVX-512 register.
typedef float v16 __attribute__((ext_vector_type(16)));
/// The same, at any 4-byte alignment (for loads and stores).
typedef float v16u __attribute__((ext_vector_type(16), aligned(4)));
/// 8 floats: one AVX register.
typedef float v8 __attribute__((ext_vector_type(8)));
typedef float v8u __attribute__((ext_vector_type(8), aligned(4)));

inline v16 load16(const float *p) { return *reinterpret_cast<const v16u *>(p); }
inline void store16(float *p, v16 v) { *reinterpret_cast<v16u *>(p) = v; }
inline v16 splat16(float x) { return v16(x); }

template <class T> constexpr T min_of(T a, T b) { return a < b ? a : b; }
template <class T> constexpr T max_of(T a, T b) { return a < b ? b : a; }
constexpr long ceil_div(long a, long b) { return (a + b - 1) / b; }
constexpr long round_up(long a, long b) { return ceil_div(a, b) * b; }

/// Runs f(begin, end, worker) over [0, n) on the host's thread pool, in
/// slices of at least `grain` iterations.
template <class F> void parallel_for(const anet_cpu_rt *rt, long n, long grain, const F &f) {
  if (n <= 0)
    return;
  if (rt->workers == 1 || n <= grain) {
    f(0L, n, 0);
    return;
  }
  rt->parallel_for(
      rt->pool, n, grain,
      [](void *ctx, long begin, long end, int worker) {
        (*static_cast<const F *>(ctx))(begin, end, worker);
      },
      const_cast<F *>(&f));
}

/// The kernel_info of a kernel whose entry is Run and which needs
/// `scratch` floats per worker and `state` floats kept between runs.
template <anet_kernel_fn Run>
constexpr anet_kernel_info kernel_info(long scratch = 0, long state = 0) {
  return anet_kernel_info{Run, scratch, state};
}

} // namespace ak
