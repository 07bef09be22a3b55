#pragma once
/// The CUDA emulator behind the emu device: runs CUDA C++ kernels (the
/// source codegen writes for NVRTC) on the CPU, so every GPU kernel is
/// tested where there is no GPU.
///
/// - Kernels are compiled for the host by the JIT (codegen/emu/language.h)
///   and cached on disk like the CPU kernels.
/// - A launch spreads its blocks over a thread pool. A block runs on one
///   worker: its threads are fibers (Boost.Context) that run in turn until
///   they reach a barrier or a warp collective, where they switch.
/// - Shared memory is a per-worker arena: static __shared__ variables and
///   the dynamic part (extern __shared__) are placed there per block.
/// - Device memory is host memory from allocate(), with red zones.
/// - Checking mode (EmuOptions::checking) reports, naming the kernel, block,
///   thread and source line: loads and stores out of the bounds of a device
///   allocation or of a shared variable; a barrier reached by only part of a
///   block or from different places; and, best effort, shared-memory races
///   between barriers (a word written by one thread and accessed by another
///   with no __syncthreads between, or no warp collective when both are in
///   one warp). Without it the same deadlocks are still reported; nothing
///   else is checked, and kernels run several times faster.

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "codegen/cpu/jit.h"
#include "codegen/emu/kernels/abi.h"
#include "ir/error.h"

namespace anet::emu {

/// A grid or block shape, as CUDA's dim3.
struct Dim3 {
  unsigned x = 1, y = 1, z = 1;
  unsigned long long count() const { return 1ull * x * y * z; }
};

struct EmuOptions {
  int threads = 0;       ///< workers running blocks (0: one per core)
  bool checking = false; ///< bounds, barrier and race checks (see the file comment)
  /// Folder for compiled kernels; empty: no disk cache.
  std::string cache_dir = default_kernel_cache_dir();
  size_t stack_bytes = 64 * 1024; ///< per emulated thread
};

/// The limits an H100 puts on a launch, which the emulator enforces.
constexpr unsigned kMaxBlockThreads = 1024;
constexpr size_t kMaxSharedBytes = 227 * 1024; ///< static + dynamic, per block

/// Counters since the emulator was created.
struct EmuStats {
  long long launches = 0;
  long long blocks = 0;
  long long threads = 0; ///< emulated CUDA threads run to completion
  double seconds = 0;    ///< wall time in launch()
};

class Emulator {
public:
  static Expected<std::unique_ptr<Emulator>> create(EmuOptions options = {});
  ~Emulator();
  Emulator(const Emulator &) = delete;
  Emulator &operator=(const Emulator &) = delete;

  /// Compiles (or finds in the cache) each request's entry; KernelRequest::
  /// entry names the __global__ function (a template instance is written
  /// as in C++, "gemm<64>"). Compile errors name `where` and show Clang's
  /// diagnostics with lines of the kernel source.
  Expected<std::vector<const anet_emu_kernel *>> load(std::span<const cpu::KernelRequest> requests);

  /// Device memory: 256-byte aligned, red zones on both sides (checking
  /// mode also fills it with 0xff bytes, a NaN in every float). Null when
  /// the host is out of memory.
  void *allocate(size_t bytes);
  /// Frees what allocate returned (nullptr: nothing).
  void free(void *pointer);

  /// Runs `kernel` over `grid` blocks of `block` threads with
  /// `dynamic_shared` bytes of extern __shared__ memory; args[i] points at
  /// the value of parameter i, as cuLaunchKernel takes them. Returns when
  /// every block has finished. A launch the H100 would refuse (too many
  /// threads, too much shared memory, a wrong argument count) or a kernel
  /// fault (a check, a deadlock, __trap) is an ExitCode::Runtime error
  /// naming the kernel, block and thread.
  Status launch(const anet_emu_kernel &kernel, Dim3 grid, Dim3 block, size_t dynamic_shared,
                std::span<void *const> args);

  bool checking() const;
  int workers() const;
  EmuStats stats() const;

  struct Impl;

private:
  explicit Emulator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

} // namespace anet::emu
