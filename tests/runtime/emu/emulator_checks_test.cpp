// Planted bugs the emulator must catch, each named with kernel, block,
// thread and (checking mode) source line: a missing barrier, out-of-bounds
// global and shared accesses, divergent and partial barriers, a warp
// collective that never completes, __trap and assert; launches an H100
// would refuse; compile errors with the kernel's line.

#include "tests/runtime/emu/emu_test_util.h"

namespace anet::emu::testing {
namespace {

using ::testing::HasSubstr;

/// Runs `entry` of `source` over grid x block (1-D) with (in, out, n) and
/// returns the launch's status.
Status run(bool checking, const std::string &source, const std::string &entry, unsigned grid,
           unsigned block, int n = 64) {
  Emulator &emu = emulator(checking);
  Buffer<float> in(emu, static_cast<size_t>(n)), out(emu, static_cast<size_t>(n));
  in.fill(1.f);
  const anet_emu_kernel *k = load(emu, source, entry);
  if (!k)
    return make_error(ExitCode::Runtime, "did not compile");
  return launch(emu, k, {grid, 1, 1}, {block, 1, 1}, 0, in.get(), out.get(), n);
}

// A block-wide shift through shared memory; the barrier between the write
// and the read of another thread's element is missing.
constexpr const char *kMissingBarrier = R"cuda(
__global__ void shift(const float *in, float *out, int n) {
  __shared__ float s[64];
  const int t = threadIdx.x;
  s[t] = in[t];
  out[t] = s[(t + 1) % 64];
}
__global__ void shift_fixed(const float *in, float *out, int n) {
  __shared__ float s[64];
  const int t = threadIdx.x;
  s[t] = in[t];
  __syncthreads();
  out[t] = s[(t + 1) % 64];
}
)cuda";

TEST(EmuChecks, MissingBarrierIsASharedMemoryRace) {
  Status s = run(true, kMissingBarrier, "shift", 1, 64);
  ASSERT_FALSE(s.ok());
  // Threads run in order: thread 0 reads s[1] before thread 1 writes it.
  EXPECT_THAT(
      s.error().message,
      HasSubstr("kernel 'shift', block (0,0,0), thread (1,0,0): shared-memory race: this "
                "thread writes the word at byte 4 of a 256-byte __shared__ variable, "
                "which thread (0,0,0) read with no __syncthreads in between (kernel.cu line 5)"));
  EXPECT_TRUE(run(true, kMissingBarrier, "shift_fixed", 1, 64).ok());
}

// The second barrier of a tiled loop is missing: a fast thread overwrites
// the tile while others still read it.
constexpr const char *kTileReuse = R"cuda(
__global__ void tiles(const float *in, float *out, int n) {
  __shared__ float tile[32];
  const int t = threadIdx.x;
  float acc = 0.0f;
  for (int k0 = 0; k0 < n; k0 += 32) {
    tile[t] = in[k0 + t];
    __syncthreads();
    for (int i = 0; i < 32; ++i)
      acc += tile[i];
  }
  out[t] = acc;
}
)cuda";

TEST(EmuChecks, MissingSecondBarrierOfATiledLoop) {
  Status s = run(true, kTileReuse, "tiles", 1, 32);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().message, HasSubstr("shared-memory race"));
}

constexpr const char *kOutOfBounds = R"cuda(
__global__ void next(const float *in, float *out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n)
    out[i] = in[i + 1];
}
__global__ void past_end(const float *in, float *out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  out[i] = in[i % n];
}
__global__ void shared_overflow(const float *in, float *out, int n) {
  __shared__ float s[32];
  s[threadIdx.x + 1] = in[threadIdx.x];
  __syncthreads();
  out[threadIdx.x] = s[threadIdx.x];
}
)cuda";

TEST(EmuChecks, OutOfBoundsGlobalRead) {
  Status s = run(true, kOutOfBounds, "next", 2, 32);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().message, HasSubstr("kernel 'next', block (1,0,0), thread (31,0,0)"));
  EXPECT_THAT(s.error().message,
              HasSubstr("out-of-bounds read of 4 bytes at byte offset 256 of a 256-byte device "
                        "allocation (kernel.cu line 5)"));
}

TEST(EmuChecks, OutOfBoundsGlobalWrite) {
  Status s = run(true, kOutOfBounds, "past_end", 3, 32);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().message, HasSubstr("block (2,0,0), thread (0,0,0)"));
  EXPECT_THAT(s.error().message, HasSubstr("out-of-bounds write of 4 bytes at byte offset 256"));
}

TEST(EmuChecks, OutOfBoundsSharedWrite) {
  Status s = run(true, kOutOfBounds, "shared_overflow", 1, 32);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().message, HasSubstr("thread (31,0,0)"));
  EXPECT_THAT(s.error().message,
              HasSubstr("out-of-bounds shared-memory write of 4 bytes, 4 bytes past the end of a "
                        "128-byte __shared__ variable (kernel.cu line 13)"));
}

constexpr const char *kBarriers = R"cuda(
__global__ void divergent(const float *in, float *out, int n) {
  if (threadIdx.x < 16)
    __syncthreads();
  else
    __syncthreads();
  out[threadIdx.x] = in[threadIdx.x];
}
__global__ void partial(const float *in, float *out, int n) {
  if (threadIdx.x >= 16)
    return;
  __syncthreads();
  out[threadIdx.x] = in[threadIdx.x];
}
__global__ void lane_gone(const float *in, float *out, int n) {
  if (threadIdx.x == 5)
    return;
  out[threadIdx.x] = __shfl_sync(0xffffffffu, in[threadIdx.x], 0);
}
__global__ void traps(const float *in, float *out, int n) {
  if (threadIdx.x == 7)
    __trap();
}
__global__ void asserts(const float *in, float *out, int n) {
  assert(threadIdx.x < 40);
}
)cuda";

TEST(EmuChecks, DivergentBarrier) {
  Status s = run(true, kBarriers, "divergent", 1, 32);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().message,
              HasSubstr("thread (16,0,0): divergent __syncthreads: this thread reached the one of "
                        "kernel.cu line 6, the 16 threads waiting that of line 4"));
}

TEST(EmuChecks, BarrierReachedByPartOfTheBlockInBothModes) {
  for (bool checking : {true, false}) {
    Status s = run(checking, kBarriers, "partial", 1, 32);
    ASSERT_FALSE(s.ok()) << checking;
    EXPECT_THAT(s.error().message,
                HasSubstr("thread (16,0,0): __syncthreads reached by 16 of 32 threads: this "
                          "thread and 15 others returned without reaching it"));
  }
}

TEST(EmuChecks, WarpCollectiveWaitingForAReturnedLane) {
  Status s = run(false, kBarriers, "lane_gone", 1, 32);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().message,
              HasSubstr("warp collective with mask 0xffffffff never completes: lane 5 (thread "
                        "(5,0,0)) returned"));
}

TEST(EmuChecks, TrapAndAssertNameTheThread) {
  Status s = run(false, kBarriers, "traps", 2, 32);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().message, HasSubstr("thread (7,0,0): __trap() called"));
  s = run(false, kBarriers, "asserts", 1, 64);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().message, HasSubstr("thread (40,0,0): assertion failed: threadIdx.x < 40"));
}

TEST(EmuChecks, LaunchesAnH100Refuses) {
  Emulator &emu = emulator(false);
  const anet_emu_kernel *k = load(emu, kBarriers, "traps");
  ASSERT_NE(k, nullptr);
  Buffer<float> in(emu, 1), out(emu, 1);
  float *pi = in.get(), *po = out.get();
  int n = 1;
  void *args[] = {&pi, &po, &n};
  auto message = [&](Dim3 grid, Dim3 block, size_t shared, size_t count) {
    Status s = emu.launch(*k, grid, block, shared, std::span<void *const>(args, count));
    return s.ok() ? std::string("ok") : s.error().message;
  };
  EXPECT_THAT(message({1, 1, 1}, {1025, 1, 1}, 0, 3), HasSubstr("1024 threads per block"));
  EXPECT_THAT(message({1, 1, 1}, {1, 1, 65}, 0, 3), HasSubstr("1024 threads per block"));
  EXPECT_THAT(message({1, 70000, 1}, {1, 1, 1}, 0, 3), HasSubstr("exceeds (2^31 - 1"));
  EXPECT_THAT(message({0, 1, 1}, {1, 1, 1}, 0, 3), HasSubstr("empty launch"));
  EXPECT_THAT(message({1, 1, 1}, {1, 1, 1}, 300000, 3), HasSubstr("dynamic shared memory"));
  EXPECT_THAT(message({1, 1, 1}, {1, 1, 1}, 0, 2), HasSubstr("takes 3 parameters, given 2"));
  EXPECT_EQ(message({1, 1, 1}, {1, 1, 1}, 0, 3), "ok");
}

TEST(EmuChecks, CompileErrorsShowTheKernelLine) {
  Emulator &emu = emulator(false);
  cpu::KernelRequest r{"__global__ void f(float *x) {\n  x[0] = undefined_name;\n}\n",
                       "node 'conv1' (Conv)", "f"};
  auto k = emu.load(std::span<const cpu::KernelRequest>(&r, 1));
  ASSERT_FALSE(k.ok());
  EXPECT_THAT(k.error().message, HasSubstr("node 'conv1' (Conv)"));
  EXPECT_THAT(k.error().message, HasSubstr("kernel.cu:2:"));
  EXPECT_THAT(k.error().message, HasSubstr("undeclared identifier 'undefined_name'"));
  cpu::KernelRequest no_entry{"__global__ void f(float *x) {}\n", "node 'x' (Relu)", ""};
  k = emu.load(std::span<const cpu::KernelRequest>(&no_entry, 1));
  ASSERT_FALSE(k.ok());
  EXPECT_THAT(k.error().message, HasSubstr("names no entry"));
}

TEST(EmuChecks, TooMuchStaticSharedMemory) {
  Status s = run(false, R"cuda(
__global__ void big(const float *in, float *out, int n) {
  __shared__ float a[40000];
  __shared__ float b[40000];
  a[threadIdx.x] = in[0];
  b[threadIdx.x] = in[0];
  __syncthreads();
  out[threadIdx.x] = a[n - 1 - threadIdx.x] + b[n - 1 - threadIdx.x];
}
)cuda",
                 "big", 1, 1);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().message, HasSubstr("bytes of shared memory"));
  EXPECT_THAT(s.error().message, HasSubstr("at most 232448"));
}

} // namespace
} // namespace anet::emu::testing
