// CUDA kernels written for the purpose, run by the emulator with and
// without checking, against plain C++ on the host: a tiled GEMM through
// shared memory, warp shuffles and votes, block reductions, an atomics
// histogram across blocks on different workers, tensor-core mma fragments,
// dynamic shared memory, 3-D indexing and template entries.

#include <chrono>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>

#include "tests/runtime/emu/emu_test_util.h"

namespace anet::emu::testing {
namespace {

class EmuKernels : public ::testing::TestWithParam<bool> {
protected:
  Emulator &emu() { return emulator(GetParam()); }
};

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(n);
  for (float &x : v)
    x = u(rng);
  return v;
}

constexpr const char *kTiledGemm = R"cuda(
constexpr int T = 16;
// C[m x n] = A[m x k] B[k x n], 16 x 16 tiles staged in shared memory.
__global__ void gemm(const float *__restrict__ a, const float *__restrict__ b,
                     float *__restrict__ c, int m, int n, int k) {
  __shared__ float as[T][T + 1];
  __shared__ float bs[T][T + 1];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int row = blockIdx.y * T + ty, col = blockIdx.x * T + tx;
  float acc = 0.0f;
  for (int k0 = 0; k0 < k; k0 += T) {
    as[ty][tx] = row < m && k0 + tx < k ? a[row * k + k0 + tx] : 0.0f;
    bs[ty][tx] = k0 + ty < k && col < n ? b[(k0 + ty) * n + col] : 0.0f;
    __syncthreads();
    for (int i = 0; i < T; ++i)
      acc += as[ty][i] * bs[i][tx];
    __syncthreads();
  }
  if (row < m && col < n)
    c[row * n + col] = acc;
}
)cuda";

TEST_P(EmuKernels, TiledGemmThroughSharedMemory) {
  const int m = 37, n = 45, k = 53;
  const auto a = random_floats(m * k, 1), b = random_floats(k * n, 2);
  Buffer<float> da(emu(), a), db(emu(), b), dc(emu(), m * n);
  const anet_emu_kernel *kernel = load(emu(), kTiledGemm, "gemm");
  ASSERT_NE(kernel, nullptr);
  EXPECT_EQ(kernel->params, 6u);
  Status s =
      launch(emu(), kernel, {3, 3, 1}, {16, 16, 1}, 0, da.get(), db.get(), dc.get(), m, n, k);
  ASSERT_TRUE(s.ok()) << s.error().message;
  const auto c = dc.values();
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      double ref = 0, bound = 0;
      for (int p = 0; p < k; ++p) {
        ref += static_cast<double>(a[i * k + p]) * b[p * n + j];
        bound += std::fabs(static_cast<double>(a[i * k + p]) * b[p * n + j]);
      }
      ASSERT_NEAR(c[i * n + j], ref, 1e-6 * k * bound + 1e-7) << i << "," << j;
    }
}

constexpr const char *kBlockSum = R"cuda(
// One sum per block: shuffles within warps, then warp 0 over the partials.
__global__ void block_sum(const float *x, float *out, int n) {
  __shared__ float partial[32];
  const unsigned tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
  float v = 0.0f;
  for (unsigned i = blockIdx.x * blockDim.x + tid; i < n; i += gridDim.x * blockDim.x)
    v += x[i];
  for (int d = 16; d > 0; d /= 2)
    v += __shfl_down_sync(0xffffffffu, v, d);
  if (lane == 0)
    partial[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < blockDim.x / 32 ? partial[lane] : 0.0f;
    for (int d = 16; d > 0; d /= 2)
      v += __shfl_xor_sync(0xffffffffu, v, d);
    if (lane == 0)
      out[blockIdx.x] = v;
  }
}
)cuda";

TEST_P(EmuKernels, WarpShuffleReduction) {
  std::vector<float> x(10007);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = static_cast<float>(i % 97) - 40.f; // small integers: every sum is exact
  Buffer<float> dx(emu(), x), out(emu(), 4);
  const anet_emu_kernel *kernel = load(emu(), kBlockSum, "block_sum");
  ASSERT_NE(kernel, nullptr);
  Status s = launch(emu(), kernel, {4, 1, 1}, {256, 1, 1}, 0, dx.get(), out.get(),
                    static_cast<int>(x.size()));
  ASSERT_TRUE(s.ok()) << s.error().message;
  double expected[4] = {};
  for (size_t i = 0; i < x.size(); ++i)
    expected[(i / 256) % 4] += x[i];
  const auto got = out.values();
  for (int b = 0; b < 4; ++b)
    EXPECT_EQ(got[b], expected[b]) << "block " << b;
}

constexpr const char *kWarpOps = R"cuda(
// Per thread: shfl_up by 1, shfl from lane 3 of each group of 8, shfl_down
// by 2 within groups of 16, xor 1; per warp: ballot, all, any, and the
// block's __syncthreads_count of positive values.
__global__ void warp_ops(const int *x, int *up, int *idx8, int *down16, int *xor1,
                         unsigned *ballot, int *all_any, int *count) {
  const unsigned t = blockIdx.x * blockDim.x + threadIdx.x, w = t / 32;
  const int v = x[t];
  up[t] = __shfl_up_sync(0xffffffffu, v, 1);
  idx8[t] = __shfl_sync(0xffffffffu, v, 3, 8);
  down16[t] = __shfl_down_sync(0xffffffffu, v, 2, 16);
  xor1[t] = __shfl_xor_sync(0xffffffffu, v, 1);
  const unsigned b = __ballot_sync(0xffffffffu, v > 0);
  const int all = __all_sync(0xffffffffu, v > 0), any = __any_sync(0xffffffffu, v > 0);
  const int positive = __syncthreads_count(v > 0);
  if (threadIdx.x % 32 == 0) {
    ballot[w] = b;
    all_any[2 * w] = all;
    all_any[2 * w + 1] = any;
  }
  if (threadIdx.x == 0)
    count[blockIdx.x] = positive;
}
)cuda";

TEST_P(EmuKernels, WarpShufflesAndVotes) {
  const int blocks = 2, threads = 64, n = blocks * threads;
  std::vector<int> x(n);
  std::mt19937 rng(3);
  for (int &v : x)
    v = static_cast<int>(rng() % 21) - 10;
  for (int i = 64; i < 96; ++i)
    x[i] = 1 + i; // warp 2: all positive
  for (int i = 96; i < 128; ++i)
    x[i] = -i; // warp 3: none
  Buffer<int> dx(emu(), x), up(emu(), n), idx8(emu(), n), down16(emu(), n), xor1(emu(), n);
  Buffer<unsigned> ballot(emu(), n / 32);
  Buffer<int> all_any(emu(), 2 * n / 32), count(emu(), blocks);
  const anet_emu_kernel *kernel = load(emu(), kWarpOps, "warp_ops");
  ASSERT_NE(kernel, nullptr);
  Status s = launch(emu(), kernel, {blocks, 1, 1}, {threads, 1, 1}, 0, dx.get(), up.get(),
                    idx8.get(), down16.get(), xor1.get(), ballot.get(), all_any.get(), count.get());
  ASSERT_TRUE(s.ok()) << s.error().message;
  for (int t = 0; t < n; ++t) {
    const int lane = t % 32, base = t - lane;
    EXPECT_EQ(up.values()[t], x[lane >= 1 ? t - 1 : t]) << t;
    EXPECT_EQ(idx8.values()[t], x[base + (lane / 8) * 8 + 3]) << t;
    EXPECT_EQ(down16.values()[t], x[(lane % 16) + 2 < 16 ? t + 2 : t]) << t;
    EXPECT_EQ(xor1.values()[t], x[base + (lane ^ 1)]) << t;
  }
  for (int w = 0; w < n / 32; ++w) {
    unsigned expected = 0;
    for (int l = 0; l < 32; ++l)
      expected |= (x[w * 32 + l] > 0 ? 1u : 0u) << l;
    EXPECT_EQ(ballot.values()[w], expected) << w;
    EXPECT_EQ(all_any.values()[2 * w], expected == 0xffffffffu) << w;
    EXPECT_EQ(all_any.values()[2 * w + 1], expected != 0) << w;
  }
  for (int b = 0; b < blocks; ++b) {
    int positive = 0;
    for (int t = 0; t < threads; ++t)
      positive += x[b * threads + t] > 0;
    EXPECT_EQ(count.values()[b], positive) << b;
  }
}

constexpr const char *kHistogram = R"cuda(
// 16 bins: shared-memory atomics per block, then global atomics; and a
// float atomicAdd of 1 per element into one total.
__global__ void histogram(const int *x, int n, unsigned *bins, float *total) {
  __shared__ unsigned local[16];
  for (int i = threadIdx.x; i < 16; i += blockDim.x)
    local[i] = 0;
  __syncthreads();
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    atomicAdd(&local[x[i] % 16], 1u);
    atomicAdd(total, 1.0f);
  }
  __syncthreads();
  for (int i = threadIdx.x; i < 16; i += blockDim.x)
    atomicAdd(&bins[i], local[i]);
}
)cuda";

TEST_P(EmuKernels, AtomicsHistogramAcrossBlocks) {
  const int n = 20000;
  std::vector<int> x(n);
  std::mt19937 rng(4);
  for (int &v : x)
    v = static_cast<int>(rng() % 1000);
  Buffer<int> dx(emu(), x);
  Buffer<unsigned> bins(emu(), 16);
  Buffer<float> total(emu(), 1);
  bins.fill(0);
  total.fill(0.f);
  const anet_emu_kernel *kernel = load(emu(), kHistogram, "histogram");
  ASSERT_NE(kernel, nullptr);
  // 32 blocks over 2 workers: the global atomics race for real.
  Status s =
      launch(emu(), kernel, {32, 1, 1}, {128, 1, 1}, 0, dx.get(), n, bins.get(), total.get());
  ASSERT_TRUE(s.ok()) << s.error().message;
  std::vector<unsigned> expected(16, 0);
  for (int v : x)
    ++expected[static_cast<size_t>(v % 16)];
  EXPECT_EQ(bins.values(), expected);
  EXPECT_EQ(total.values()[0], static_cast<float>(n)); // exact below 2^24
}

// The host's rounding of the emulated conversions.
float tf32(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  u = (u + 0x1000u) & 0xffffe000u;
  std::memcpy(&x, &u, 4);
  return x;
}
float bf16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  u = (u + 0x7fffu + ((u >> 16) & 1)) & 0xffff0000u; // to nearest, ties to even
  std::memcpy(&x, &u, 4);
  return x;
}

constexpr const char *kMma = R"cuda(
#include "anet/mma.h"
// One warp: D = A B + C through anet_cuda's mma wrappers, each lane loading
// its fragments as the PTX ISA lays them out (g = lane / 4, t = lane % 4).
__global__ void mma_tf32(const float *a, const float *b, const float *c, float *d) {
  const unsigned lane = threadIdx.x, g = lane / 4, t = lane % 4;
  unsigned fa[4], fb[2];
  float fc[4], fd[4];
  for (int r = 0; r < 4; ++r)
    fa[r] = anet_cuda::to_tf32(a[(g + 8 * (r & 1)) * 8 + t + 4 * (r >> 1)]);
  for (int r = 0; r < 2; ++r)
    fb[r] = anet_cuda::to_tf32(b[(t + 4 * r) * 8 + g]);
  for (int i = 0; i < 4; ++i)
    fc[i] = c[(g + 8 * (i >> 1)) * 8 + 2 * t + (i & 1)];
  anet_cuda::mma_m16n8k8_tf32(fd, fa, fb, fc);
  for (int i = 0; i < 4; ++i)
    d[(g + 8 * (i >> 1)) * 8 + 2 * t + (i & 1)] = fd[i];
}

__device__ unsigned bits(float x) {
  return static_cast<unsigned>(__builtin_bit_cast(unsigned short, __float2bfloat16(x)));
}

__global__ void mma_bf16(const float *a, const float *b, const float *c, float *d) {
  const unsigned lane = threadIdx.x, g = lane / 4, t = lane % 4;
  unsigned fa[4], fb[2];
  float fc[4], fd[4];
  for (int r = 0; r < 4; ++r) {
    const float *p = &a[(g + 8 * (r & 1)) * 16 + 2 * t + 8 * (r >> 1)];
    fa[r] = bits(p[0]) | bits(p[1]) << 16;
  }
  for (int r = 0; r < 2; ++r)
    fb[r] = bits(b[(2 * t + 8 * r) * 8 + g]) | bits(b[(2 * t + 8 * r + 1) * 8 + g]) << 16;
  for (int i = 0; i < 4; ++i)
    fc[i] = c[(g + 8 * (i >> 1)) * 8 + 2 * t + (i & 1)];
  anet_cuda::mma_m16n8k16_bf16(fd, fa, fb, fc);
  for (int i = 0; i < 4; ++i)
    d[(g + 8 * (i >> 1)) * 8 + 2 * t + (i & 1)] = fd[i];
}
)cuda";

void check_mma(Emulator &emu, const char *entry, int k, float (*round)(float)) {
  const auto a = random_floats(16 * k, 5), b = random_floats(k * 8, 6), c = random_floats(128, 7);
  Buffer<float> da(emu, a), db(emu, b), dc(emu, c), dd(emu, 128);
  const anet_emu_kernel *kernel = load(emu, kMma, entry);
  ASSERT_NE(kernel, nullptr);
  Status s = launch(emu, kernel, {1, 1, 1}, {32, 1, 1}, 0, da.get(), db.get(), dc.get(), dd.get());
  ASSERT_TRUE(s.ok()) << s.error().message;
  const auto d = dd.values();
  for (int i = 0; i < 16; ++i)
    for (int j = 0; j < 8; ++j) {
      double ref = c[i * 8 + j], bound = std::fabs(ref);
      for (int p = 0; p < k; ++p) {
        const double term = static_cast<double>(round(a[i * k + p])) * round(b[p * 8 + j]);
        ref += term;
        bound += std::fabs(term);
      }
      ASSERT_NEAR(d[i * 8 + j], ref, 1e-6 * k * bound) << entry << " " << i << "," << j;
    }
}

TEST_P(EmuKernels, MmaTf32FragmentsFollowThePtxLayout) { check_mma(emu(), "mma_tf32", 8, tf32); }
TEST_P(EmuKernels, MmaBf16FragmentsFollowThePtxLayout) { check_mma(emu(), "mma_bf16", 16, bf16); }

constexpr const char *kSharedKinds = R"cuda(
// Reverses each block's slice through dynamic shared memory; counts the
// block's threads in a static __shared__ variable.
__global__ void reverse(const float *x, float *y, int *counts, int n) {
  extern __shared__ float buf[];
  __shared__ int count;
  if (threadIdx.x == 0)
    count = 0;
  __syncthreads();
  const int i = threadIdx.x;
  if (i < n) {
    buf[i] = x[blockIdx.x * n + i];
    atomicAdd(&count, 1);
  }
  __syncthreads();
  if (i < n)
    y[blockIdx.x * n + i] = buf[n - 1 - i];
  if (i == 0)
    counts[blockIdx.x] = count;
}
)cuda";

TEST_P(EmuKernels, DynamicAndStaticSharedMemory) {
  const int n = 100, blocks = 5;
  const auto x = random_floats(n * blocks, 8);
  Buffer<float> dx(emu(), x), dy(emu(), n * blocks);
  Buffer<int> counts(emu(), blocks);
  const anet_emu_kernel *kernel = load(emu(), kSharedKinds, "reverse");
  ASSERT_NE(kernel, nullptr);
  Status s = launch(emu(), kernel, {blocks, 1, 1}, {128, 1, 1}, n * sizeof(float), dx.get(),
                    dy.get(), counts.get(), n);
  ASSERT_TRUE(s.ok()) << s.error().message;
  const auto y = dy.values();
  for (int b = 0; b < blocks; ++b) {
    for (int i = 0; i < n; ++i)
      ASSERT_EQ(y[b * n + i], x[b * n + n - 1 - i]) << b << "," << i;
    EXPECT_EQ(counts.values()[b], n);
  }
}

constexpr const char *kIndices = R"cuda(
template <int Scale>
__global__ void indices(unsigned *out) {
  const unsigned block = (blockIdx.z * gridDim.y + blockIdx.y) * gridDim.x + blockIdx.x;
  const unsigned threads = blockDim.x * blockDim.y * blockDim.z;
  const unsigned t = (threadIdx.z * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x;
  out[block * threads + t] += Scale * (block * 1000 + t) + 1;
}
)cuda";

TEST_P(EmuKernels, ThreeDimensionalGridsAndTemplateEntries) {
  const Dim3 grid{3, 2, 2}, block{4, 3, 2};
  const size_t n = grid.count() * block.count();
  Buffer<unsigned> out(emu(), n);
  out.fill(0);
  const anet_emu_kernel *kernel = load(emu(), kIndices, "indices<2>");
  ASSERT_NE(kernel, nullptr);
  Status s = launch(emu(), kernel, grid, block, 0, out.get());
  ASSERT_TRUE(s.ok()) << s.error().message;
  const auto got = out.values();
  for (size_t i = 0; i < n; ++i) // each exactly once
    ASSERT_EQ(got[i], 2 * ((i / block.count()) * 1000 + i % block.count()) + 1) << i;
}

constexpr const char *kConv = R"cuda(
// Direct convolution, one thread per output: NCHW, 3x3, pad 1, stride 1.
__global__ void conv3x3(const float *__restrict__ x, const float *__restrict__ w,
                        float *__restrict__ y, int c, int h, int wd, int k) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= k * h * wd)
    return;
  const int o = i / (h * wd), oy = i / wd % h, ox = i % wd;
  float acc = 0.0f;
  for (int ci = 0; ci < c; ++ci)
    for (int ky = 0; ky < 3; ++ky)
      for (int kx = 0; kx < 3; ++kx) {
        const int iy = oy + ky - 1, ix = ox + kx - 1;
        if (iy >= 0 && iy < h && ix >= 0 && ix < wd)
          acc += x[(ci * h + iy) * wd + ix] * w[((o * c + ci) * 3 + ky) * 3 + kx];
      }
  y[i] = acc;
}
)cuda";

// Also the closing note's number: emulated threads per second on a conv.
TEST_P(EmuKernels, DirectConvolutionAndEmulationSpeed) {
  const int c = 16, h = 28, wd = 28, k = 32, n = k * h * wd;
  const auto x = random_floats(c * h * wd, 9), w = random_floats(k * c * 9, 10);
  Buffer<float> dx(emu(), x), dw(emu(), w), dy(emu(), n);
  const anet_emu_kernel *kernel = load(emu(), kConv, "conv3x3");
  ASSERT_NE(kernel, nullptr);
  const auto start = std::chrono::steady_clock::now();
  Status s = launch(emu(), kernel, {(n + 127) / 128, 1, 1}, {128, 1, 1}, 0, dx.get(), dw.get(),
                    dy.get(), c, h, wd, k);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(s.ok()) << s.error().message;
  const auto y = dy.values();
  for (int i = 0; i < n; ++i) {
    const int o = i / (h * wd), oy = i / wd % h, ox = i % wd;
    double ref = 0, bound = 0;
    for (int ci = 0; ci < c; ++ci)
      for (int ky = 0; ky < 3; ++ky)
        for (int kx = 0; kx < 3; ++kx) {
          const int iy = oy + ky - 1, ix = ox + kx - 1;
          if (iy < 0 || iy >= h || ix < 0 || ix >= wd)
            continue;
          const double t =
              static_cast<double>(x[(ci * h + iy) * wd + ix]) * w[((o * c + ci) * 3 + ky) * 3 + kx];
          ref += t;
          bound += std::fabs(t);
        }
    ASSERT_NEAR(y[i], ref, 1e-6 * c * 9 * bound) << i;
  }
  const double rate = n / seconds;
  std::printf("emu %s: conv3x3 16->32 channels 28x28, %d threads in %.3f s: %.0f threads/s "
              "(%d workers)\n",
              GetParam() ? "checking" : "plain", n, seconds, rate, emu().workers());
  RecordProperty("threads_per_second", static_cast<int>(rate));
}

INSTANTIATE_TEST_SUITE_P(Modes, EmuKernels, ::testing::Values(false, true),
                         [](const auto &info) { return info.param ? "Checking" : "Plain"; });

} // namespace
} // namespace anet::emu::testing
