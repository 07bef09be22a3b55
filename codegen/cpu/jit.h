#pragma once
/// The host JIT: compiles kernel sources (codegen/cpu/emit.h) to machine
/// code for this CPU with Clang and LLVM 19 in process (no compiler
/// subprocess), links them with ORC, and keeps the object files in a disk
/// cache keyed by a hash of everything that changes the code: the source, the
/// kernel library, the compiler options, the CPU and its features, and the
/// compiler's version. A second run of the same plan compiles nothing.

#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "codegen/cpu/kernels/abi.h"
#include "ir/error.h"

namespace anet::cpu {

/// The disk cache used when none is named: $ANET_CACHE_DIR, else
/// $XDG_CACHE_HOME/anet/kernels, else $HOME/.cache/anet/kernels.
std::string default_kernel_cache_dir();

/// How the JIT compiles and caches.
struct JitOptions {
  /// Folder for cached objects; empty: no disk cache.
  std::string cache_dir = default_kernel_cache_dir();
  /// Kernels compiled at once on separate threads (0: one per core).
  int parallel = 0;
};

/// A kernel to compile: the body emit_kernel wrote, and what it is for
/// (node and op), which errors name.
struct KernelRequest {
  std::string body;
  std::string where;
};

/// Counters of what the JIT has done since it was created.
struct JitStats {
  int compiled = 0;           ///< sources compiled by Clang
  int from_cache = 0;         ///< objects read from the disk cache
  int from_memory = 0;        ///< requests served by a kernel already loaded
  int from_objects = 0;       ///< objects given by add_objects (from a plan)
  double compile_seconds = 0; ///< wall time spent in load()
};

/// Compiled kernels by cache key: what a plan carries for its target CPU.
using KernelObjects = std::map<std::string, std::string>;

/// One JIT per process or device; kernels stay loaded until it is destroyed.
/// Thread-safe.
class Jit {
public:
  /// Sets up LLVM's native target and the ORC session. Fails only if the
  /// host has no usable LLVM target.
  static Expected<std::unique_ptr<Jit>> create(JitOptions options = {});
  ~Jit();
  Jit(const Jit &) = delete;
  Jit &operator=(const Jit &) = delete;

  /// The kernel of each request, in order: loaded already, read from the
  /// cache or the objects added, or compiled (up to `parallel` at once).
  /// Requests with equal bodies share one kernel. A compiler or linker
  /// failure is an ExitCode::Runtime error naming the request's `where`,
  /// with the compiler's diagnostics.
  Expected<std::vector<const anet_kernel_info *>> load(std::span<const KernelRequest> requests);

  /// Offers precompiled objects (from a plan): those whose key matches a
  /// request of this CPU and compiler are used instead of compiling.
  void add_objects(const KernelObjects &objects);
  /// The objects of every kernel compiled or loaded so far, by key: what a
  /// plan may carry to start without compiling on a machine like this one.
  KernelObjects objects() const;

  /// The CPU code is generated for: "<cpu name> +feature ..." (those that
  /// matter for kernels), and the compiler version.
  std::string target() const;
  JitStats stats() const;

  /// The full translation unit Clang compiles for `body`, exporting the
  /// kernel under `symbol` (for inspection and golden tests).
  static std::string translation_unit(const std::string &body, const std::string &symbol);

private:
  struct Impl;
  explicit Jit(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

} // namespace anet::cpu
