#pragma once
/// The CUDA emulation header: CUDA C++ kernel source, compiled for the host
/// by the JIT after this header, runs on the CPU under the emu runtime
/// (runtime/emu/emu.h). Each CUDA thread is a fiber; a block's fibers run on
/// one worker thread and switch at barriers and warp collectives, so shared
/// memory is per worker: `__shared__` variables are thread_local, which the
/// JIT compiles as emulated TLS whose storage the runtime places in the
/// block's shared-memory arena (extern __shared__ arrays all resolve to its
/// dynamic part, as on a GPU).
///
/// Freestanding, like the CPU kernel library: no system header is read;
/// math comes from Clang's builtins (libm in the host process).

#include "anet/abi.h"

#define ANET_EMU 1
#define __CUDA_ARCH__ 900
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __restrict__ __restrict
#define __shared__ constinit thread_local
#define __constant__
#define __align__(n) __attribute__((aligned(n)))
#define __launch_bounds__(...)
#define __grid_constant__

typedef __SIZE_TYPE__ size_t;
typedef __PTRDIFF_TYPE__ ptrdiff_t;
typedef __INT8_TYPE__ int8_t;
typedef __INT16_TYPE__ int16_t;
typedef __INT32_TYPE__ int32_t;
typedef __INT64_TYPE__ int64_t;
typedef __UINT8_TYPE__ uint8_t;
typedef __UINT16_TYPE__ uint16_t;
typedef __UINT32_TYPE__ uint32_t;
typedef __UINT64_TYPE__ uint64_t;

extern "C" int printf(const char *format, ...);

// ---------------------------------------------------------------- threads

typedef anet_emu_dim3 uint3;

/// CUDA's dim3: unspecified sizes are 1.
struct dim3 {
  unsigned x = 1, y = 1, z = 1;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
  constexpr dim3(anet_emu_dim3 d) : x(d.x), y(d.y), z(d.z) {}
};

#define threadIdx (anet_emu_self()->thread_idx)
#define blockIdx (anet_emu_self()->block_idx)
#define blockDim (anet_emu_self()->block_dim)
#define gridDim (anet_emu_self()->grid_dim)
constexpr int warpSize = 32;

// Macros, so that each call passes its own line: barriers reached from
// different lines are divergent (a call's address would not tell, once the
// optimiser merges identical calls).
#define __syncthreads() ((void)anet_emu_barrier(ANET_EMU_REDUCE_NONE, 0, __LINE__))
#define __syncthreads_count(p) anet_emu_barrier(ANET_EMU_REDUCE_COUNT, (p) != 0, __LINE__)
#define __syncthreads_and(p) anet_emu_barrier(ANET_EMU_REDUCE_AND, (p) != 0, __LINE__)
#define __syncthreads_or(p) anet_emu_barrier(ANET_EMU_REDUCE_OR, (p) != 0, __LINE__)
__forceinline__ void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
__forceinline__ void __threadfence_block() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
__forceinline__ void __trap() { anet_emu_trap("__trap() called"); }
#define assert(e) ((e) ? (void)0 : anet_emu_trap("assertion failed: " #e))

// ---------------------------------------------------------- warp collectives

namespace anet_emu {

inline unsigned lane() { return anet_emu_self()->lane; }

/// Every lane of `mask` contributes `v`; returns lane `src`'s.
template <class T> inline T exchange(unsigned mask, T v, unsigned src) {
  static_assert(sizeof(T) <= ANET_EMU_WARP_SLOT_BYTES, "a warp collective moves at most 64 bytes");
  const auto *slots =
      static_cast<const unsigned char *>(anet_emu_warp_exchange(mask, &v, sizeof(T)));
  T out;
  __builtin_memcpy(&out, slots + src * ANET_EMU_WARP_SLOT_BYTES, sizeof(T));
  return out;
}

/// The slots of a collective among `mask` where each lane gave `v`.
template <class T> inline const unsigned char *gather(unsigned mask, T v) {
  return static_cast<const unsigned char *>(anet_emu_warp_exchange(mask, &v, sizeof(T)));
}

template <class T> inline T slot(const unsigned char *slots, unsigned lane) {
  T out;
  __builtin_memcpy(&out, slots + lane * ANET_EMU_WARP_SLOT_BYTES, sizeof(T));
  return out;
}

} // namespace anet_emu

__forceinline__ void __syncwarp(unsigned mask = 0xffffffffu) {
  anet_emu_warp_exchange(mask, nullptr, 0);
}

template <class T> inline T __shfl_sync(unsigned mask, T var, int src, int width = 32) {
  const unsigned lane = anet_emu::lane();
  const unsigned base = lane & ~static_cast<unsigned>(width - 1);
  return anet_emu::exchange(mask, var, base + (static_cast<unsigned>(src) & (width - 1)));
}

template <class T> inline T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = 32) {
  const unsigned lane = anet_emu::lane();
  const unsigned in_group = lane & (width - 1);
  return anet_emu::exchange(mask, var, in_group >= delta ? lane - delta : lane);
}

template <class T> inline T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = 32) {
  const unsigned lane = anet_emu::lane();
  const unsigned in_group = lane & (width - 1);
  return anet_emu::exchange(mask, var,
                            in_group + delta < static_cast<unsigned>(width) ? lane + delta : lane);
}

template <class T> inline T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = 32) {
  const unsigned lane = anet_emu::lane();
  const unsigned src = lane ^ static_cast<unsigned>(lane_mask);
  const unsigned group_end = (lane & ~static_cast<unsigned>(width - 1)) + width;
  return anet_emu::exchange(mask, var, src < group_end ? src : lane);
}

inline unsigned __ballot_sync(unsigned mask, int predicate) {
  const unsigned char *s = anet_emu::gather(mask, predicate);
  unsigned ballot = 0;
  for (unsigned l = 0; l < 32; ++l)
    if ((mask >> l & 1) && anet_emu::slot<int>(s, l))
      ballot |= 1u << l;
  return ballot;
}
inline int __all_sync(unsigned mask, int predicate) {
  return __ballot_sync(mask, predicate) == mask;
}
inline int __any_sync(unsigned mask, int predicate) { return __ballot_sync(mask, predicate) != 0; }

/// The lanes of the caller's warp that have not returned. Emulated warps
/// are always converged, so it is every lane of the warp in the block.
inline unsigned __activemask() {
  const anet_emu_thread *t = anet_emu_self();
  const unsigned threads = t->block_dim.x * t->block_dim.y * t->block_dim.z;
  const unsigned first = t->linear - t->lane;
  const unsigned lanes = threads - first < 32 ? threads - first : 32;
  return lanes == 32 ? 0xffffffffu : (1u << lanes) - 1;
}

template <class T, class Op> inline T anet_emu_reduce(unsigned mask, T v, Op op) {
  const unsigned char *s = anet_emu::gather(mask, v);
  bool first = true;
  T r{};
  for (unsigned l = 0; l < 32; ++l)
    if (mask >> l & 1) {
      const T x = anet_emu::slot<T>(s, l);
      r = first ? x : op(r, x);
      first = false;
    }
  return r;
}
inline unsigned __reduce_add_sync(unsigned mask, unsigned v) {
  return anet_emu_reduce(mask, v, [](unsigned a, unsigned b) { return a + b; });
}
inline int __reduce_add_sync(unsigned mask, int v) {
  return anet_emu_reduce(mask, v, [](int a, int b) { return a + b; });
}
inline unsigned __reduce_min_sync(unsigned mask, unsigned v) {
  return anet_emu_reduce(mask, v, [](unsigned a, unsigned b) { return a < b ? a : b; });
}
inline int __reduce_min_sync(unsigned mask, int v) {
  return anet_emu_reduce(mask, v, [](int a, int b) { return a < b ? a : b; });
}
inline unsigned __reduce_max_sync(unsigned mask, unsigned v) {
  return anet_emu_reduce(mask, v, [](unsigned a, unsigned b) { return a < b ? b : a; });
}
inline int __reduce_max_sync(unsigned mask, int v) {
  return anet_emu_reduce(mask, v, [](int a, int b) { return a < b ? b : a; });
}

// ------------------------------------------------------------------ atomics
// Sequentially consistent host atomics: correct across the worker threads
// that run different blocks.

#define ANET_EMU_ATOMIC_INT(T)                                                                     \
  inline T atomicAdd(T *p, T v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }             \
  inline T atomicSub(T *p, T v) { return __atomic_fetch_sub(p, v, __ATOMIC_SEQ_CST); }             \
  inline T atomicAnd(T *p, T v) { return __atomic_fetch_and(p, v, __ATOMIC_SEQ_CST); }             \
  inline T atomicOr(T *p, T v) { return __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST); }               \
  inline T atomicXor(T *p, T v) { return __atomic_fetch_xor(p, v, __ATOMIC_SEQ_CST); }             \
  inline T atomicExch(T *p, T v) { return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }           \
  inline T atomicMin(T *p, T v) { return __atomic_fetch_min(p, v, __ATOMIC_SEQ_CST); }             \
  inline T atomicMax(T *p, T v) { return __atomic_fetch_max(p, v, __ATOMIC_SEQ_CST); }             \
  inline T atomicCAS(T *p, T expected, T desired) {                                                \
    __atomic_compare_exchange_n(p, &expected, desired, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); \
    return expected;                                                                               \
  }
ANET_EMU_ATOMIC_INT(int)
ANET_EMU_ATOMIC_INT(unsigned)
ANET_EMU_ATOMIC_INT(long long)
ANET_EMU_ATOMIC_INT(unsigned long long)
#undef ANET_EMU_ATOMIC_INT

/// Floating-point read-modify-write as a compare-and-swap loop on the bits.
template <class F, class U, class Op> inline F anet_emu_atomic_float(F *p, F v, Op op) {
  U *bits = reinterpret_cast<U *>(p);
  U old = __atomic_load_n(bits, __ATOMIC_SEQ_CST);
  for (;;) {
    const F current = __builtin_bit_cast(F, old);
    const U next = __builtin_bit_cast(U, op(current, v));
    if (__atomic_compare_exchange_n(bits, &old, next, true, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
      return current;
  }
}
inline float atomicAdd(float *p, float v) {
  return anet_emu_atomic_float<float, unsigned>(p, v, [](float a, float b) { return a + b; });
}
inline double atomicAdd(double *p, double v) {
  return anet_emu_atomic_float<double, unsigned long long>(
      p, v, [](double a, double b) { return a + b; });
}
inline float atomicExch(float *p, float v) {
  return anet_emu_atomic_float<float, unsigned>(p, v, [](float, float b) { return b; });
}
/// ((old >= limit) ? 0 : old + 1), as CUDA's atomicInc.
inline unsigned atomicInc(unsigned *p, unsigned limit) {
  unsigned old = __atomic_load_n(p, __ATOMIC_SEQ_CST);
  while (!__atomic_compare_exchange_n(p, &old, old >= limit ? 0 : old + 1, true, __ATOMIC_SEQ_CST,
                                      __ATOMIC_SEQ_CST)) {
  }
  return old;
}
/// (((old == 0) || (old > limit)) ? limit : old - 1), as CUDA's atomicDec.
inline unsigned atomicDec(unsigned *p, unsigned limit) {
  unsigned old = __atomic_load_n(p, __ATOMIC_SEQ_CST);
  while (!__atomic_compare_exchange_n(p, &old, (old == 0 || old > limit) ? limit : old - 1, true,
                                      __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
  }
  return old;
}

// ------------------------------------------------------------- vector types

#define ANET_EMU_VECTORS(T, A2, A4)                                                                \
  ANET_EMU_VECTORS_BUT_3(T, A2, A4)                                                                \
  struct T##3 {                                                                                    \
    T x, y, z;                                                                                     \
  };                                                                                               \
  inline T##3 make_##T##3(T x, T y, T z) { return {x, y, z}; }
#define ANET_EMU_VECTORS_BUT_3(T, A2, A4)                                                          \
  struct T##1 {                                                                                    \
    T x;                                                                                           \
  };                                                                                               \
  struct __attribute__((aligned(A2))) T##2 {                                                       \
    T x, y;                                                                                        \
  };                                                                                               \
  struct __attribute__((aligned(A4))) T##4 {                                                       \
    T x, y, z, w;                                                                                  \
  };                                                                                               \
  inline T##1 make_##T##1(T x) { return {x}; }                                                     \
  inline T##2 make_##T##2(T x, T y) { return {x, y}; }                                             \
  inline T##4 make_##T##4(T x, T y, T z, T w) { return {x, y, z, w}; }
ANET_EMU_VECTORS(float, 8, 16)
ANET_EMU_VECTORS(int, 8, 16)
ANET_EMU_VECTORS(double, 16, 16)
typedef unsigned uint;
ANET_EMU_VECTORS_BUT_3(uint, 8, 16) // uint3 is threadIdx's type (above)
inline uint3 make_uint3(uint x, uint y, uint z) { return {x, y, z}; }
#undef ANET_EMU_VECTORS
#undef ANET_EMU_VECTORS_BUT_3

// -------------------------------------------------------------------- math

inline float expf(float x) { return __builtin_expf(x); }
inline float exp2f(float x) { return __builtin_exp2f(x); }
inline float logf(float x) { return __builtin_logf(x); }
inline float log2f(float x) { return __builtin_log2f(x); }
inline float powf(float x, float y) { return __builtin_powf(x, y); }
inline float sqrtf(float x) { return __builtin_sqrtf(x); }
inline float rsqrtf(float x) { return 1.0f / __builtin_sqrtf(x); }
inline float tanhf(float x) { return __builtin_tanhf(x); }
inline float sinf(float x) { return __builtin_sinf(x); }
inline float cosf(float x) { return __builtin_cosf(x); }
inline float erff(float x) { return __builtin_erff(x); }
inline float fabsf(float x) { return __builtin_fabsf(x); }
inline float fmaxf(float a, float b) { return __builtin_fmaxf(a, b); }
inline float fminf(float a, float b) { return __builtin_fminf(a, b); }
inline float fmaf(float a, float b, float c) { return __builtin_fmaf(a, b, c); }
inline float floorf(float x) { return __builtin_floorf(x); }
inline float ceilf(float x) { return __builtin_ceilf(x); }
inline float truncf(float x) { return __builtin_truncf(x); }
inline float roundf(float x) { return __builtin_roundf(x); }
inline float copysignf(float a, float b) { return __builtin_copysignf(a, b); }
inline double exp(double x) { return __builtin_exp(x); }
inline double log(double x) { return __builtin_log(x); }
inline double sqrt(double x) { return __builtin_sqrt(x); }
inline double fabs(double x) { return __builtin_fabs(x); }
inline double fma(double a, double b, double c) { return __builtin_fma(a, b, c); }
inline bool isnan(float x) { return __builtin_isnan(x); }
inline bool isinf(float x) { return __builtin_isinf(x); }
inline bool isfinite(float x) { return __builtin_isfinite(x); }
inline bool isnan(double x) { return __builtin_isnan(x); }
inline bool isinf(double x) { return __builtin_isinf(x); }
inline bool isfinite(double x) { return __builtin_isfinite(x); }
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a < b ? b : a; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a < b ? b : a; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a < b ? b : a; }
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }

// Intrinsics: the fast forms compute what the accurate ones do.
inline float __expf(float x) { return __builtin_expf(x); }
inline float __logf(float x) { return __builtin_logf(x); }
inline float __powf(float x, float y) { return __builtin_powf(x, y); }
inline float __fdividef(float x, float y) { return x / y; }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fsqrt_rn(float x) { return __builtin_sqrtf(x); }
inline float __fmaf_rn(float a, float b, float c) { return __builtin_fmaf(a, b, c); }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : x > 1.0f ? 1.0f : x == x ? x : 0.0f; }
inline int __float_as_int(float x) { return __builtin_bit_cast(int, x); }
inline unsigned __float_as_uint(float x) { return __builtin_bit_cast(unsigned, x); }
inline float __int_as_float(int x) { return __builtin_bit_cast(float, x); }
inline float __uint_as_float(unsigned x) { return __builtin_bit_cast(float, x); }
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz(static_cast<unsigned>(x)); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline unsigned __brev(unsigned x) { return __builtin_bitreverse32(x); }
inline unsigned __umulhi(unsigned a, unsigned b) {
  return static_cast<unsigned>((static_cast<unsigned long long>(a) * b) >> 32);
}
template <class T> inline T __ldg(const T *p) { return *p; }

// ------------------------------------------------------- half and bfloat16

typedef _Float16 __half;
typedef __half half;

/// bfloat16 as its bits, converted by hand (round to nearest even, NaN kept
/// quiet) so that no compiler-runtime helper is needed; arithmetic in fp32.
struct __align__(2) __nv_bfloat16 {
  unsigned short bits;
  __nv_bfloat16() = default;
  __nv_bfloat16(float x) {
    const unsigned u = __builtin_bit_cast(unsigned, x);
    bits = (u & 0x7fffffffu) > 0x7f800000u
               ? static_cast<unsigned short>((u >> 16) | 0x40u)
               : static_cast<unsigned short>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
  }
  operator float() const { return __builtin_bit_cast(float, static_cast<unsigned>(bits) << 16); }
};
struct __align__(4) __half2 {
  __half x, y;
};
struct __align__(4) __nv_bfloat162 {
  __nv_bfloat16 x, y;
};
inline __half __float2half(float x) { return static_cast<__half>(x); }
inline __half __float2half_rn(float x) { return static_cast<__half>(x); }
inline float __half2float(__half x) { return static_cast<float>(x); }
inline __nv_bfloat16 __float2bfloat16(float x) { return __nv_bfloat16(x); }
inline __nv_bfloat16 __float2bfloat16_rn(float x) { return __nv_bfloat16(x); }
inline float __bfloat162float(__nv_bfloat16 x) { return static_cast<float>(x); }
inline __half2 __floats2half2_rn(float a, float b) { return {__float2half(a), __float2half(b)}; }
inline __nv_bfloat162 __floats2bfloat162_rn(float a, float b) {
  return {__float2bfloat16(a), __float2bfloat16(b)};
}

// ------------------------------------------------ kernel entry (the JIT's)

namespace anet_emu {

template <class... A> struct Params {
  static constexpr unsigned sizes[sizeof...(A) + 1] = {static_cast<unsigned>(sizeof(A))..., 0};
};

template <class T, T... I> struct Seq {};

template <class... A, unsigned... I>
inline void call(void (*f)(A...), void *const *args, Seq<unsigned, I...> *) {
  f(*static_cast<A *>(args[I])...);
}

template <class... A> inline void call(void (*f)(A...), void *const *args) {
  call(f, args, static_cast<__make_integer_seq<Seq, unsigned, sizeof...(A)> *>(nullptr));
}

/// The anet_emu_kernel::run of __global__ function F.
template <auto F> void run(void *const *args) { call(F, args); }

template <class... A> constexpr unsigned param_count(void (*)(A...)) { return sizeof...(A); }
template <class... A> constexpr const unsigned *param_sizes(void (*)(A...)) {
  return Params<A...>::sizes;
}

} // namespace anet_emu

/// The anet_emu_kernel of __global__ function `entry` (an expression naming
/// it: a function, or a template instance).
#define ANET_EMU_KERNEL(entry, name)                                                               \
  anet_emu_kernel {                                                                                \
    &anet_emu::run<&entry>, anet_emu::param_count(&entry), anet_emu::param_sizes(&entry), name     \
  }
