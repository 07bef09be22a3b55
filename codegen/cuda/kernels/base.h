#pragma once
/// What every CUDA kernel template uses: the launch's thread numbering and
/// grid-stride loops. Every template loops grid-stride over its work, so any
/// grid computes the whole output: the host's grid (codegen/cuda/emit.cpp)
/// is a matter of speed, never of correctness.

#include "anet/args.h"

/// The arrays of a kernel's parameter struct (codegen/cpu/emit.h). Device
/// code cannot index a static constexpr member array, so it copies one
/// first: `constexpr auto dims = P::dims;` then dims[i].
template <class T, long N> struct anet_array {
  T v[N];
  __host__ __device__ constexpr const T &operator[](long i) const { return v[i]; }
};

namespace ac {

/// This thread's index in the whole launch, and the launch's thread count.
__device__ __forceinline__ long thread_index() {
  return static_cast<long>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ long thread_count() { return static_cast<long>(gridDim.x) * blockDim.x; }

/// Runs f(i) for every i in [0, n), spread over the launch's threads.
template <class F> __device__ __forceinline__ void grid_stride(long n, F f) {
  for (long i = thread_index(); i < n; i += thread_count())
    f(i);
}

/// Runs f(b) for every b in [0, n), one block per b (all its threads call
/// f together, so f may use shared memory and __syncthreads).
template <class F> __device__ __forceinline__ void block_stride(long n, F f) {
  for (long b = blockIdx.x; b < n; b += gridDim.x)
    f(b);
}

template <class T> __device__ __forceinline__ T min_of(T a, T b) { return a < b ? a : b; }
template <class T> __device__ __forceinline__ T max_of(T a, T b) { return a < b ? b : a; }
constexpr long ceil_div(long a, long b) { return (a + b - 1) / b; }

/// The offset, under `strides`, of the row-major flat index `r` over the
/// `Rank` axes `dims` (copies of P's anet_arrays).
template <long Rank, class A>
__device__ __forceinline__ long offset_of(long r, const A &dims, const A &strides) {
  long off = 0;
  for (long k = Rank - 1; k >= 0; --k) {
    off += r % dims[k] * strides[k];
    r /= dims[k];
  }
  return off;
}

} // namespace ac
