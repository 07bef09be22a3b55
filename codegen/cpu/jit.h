#pragma once
/// The host JIT: compiles kernel sources (codegen/cpu/emit.h) to machine
/// code for this CPU with Clang and LLVM 19 in process (no compiler
/// subprocess), links them with ORC, and keeps the object files in a disk
/// cache keyed by a hash of everything that changes the code: the source, the
/// kernel library, the compiler options, the CPU and its features, and the
/// compiler's version. A second run of the same plan compiles nothing.

#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "codegen/cpu/kernel_library.h"
#include "codegen/cpu/kernels/abi.h"
#include "ir/cache_dir.h"
#include "ir/error.h"

namespace llvm {
class PassBuilder;
}

namespace anet::cpu {

/// A kernel to compile: the body emit_kernel wrote, and what it is for
/// (node and op), which errors name.
struct KernelRequest {
  std::string body;
  std::string where;
  /// The function to export, for languages whose bodies hold several (the
  /// emu's CUDA sources); empty for the CPU library's kernels.
  std::string entry = {};
};

/// What a JIT compiles: a header library every kernel includes, how a
/// request becomes a translation unit, and what the kernels link to. The
/// CPU kernels' language is the default; the emu device (runtime/emu)
/// brings the CUDA emulation's.
struct JitLanguage {
  /// First line of every cache key: names the language and the version of
  /// its ABI and of whatever `passes` does to the code.
  std::string abi;
  std::span<const LibraryFile> library; ///< headers, included as "anet/<name>"
  std::string prelude;                  ///< the header every kernel includes, precompiled once
  std::vector<std::string> options;     ///< cc1 options after the common ones (a later -O wins)
  /// A translation unit compiled once per JIT (and cached like a kernel)
  /// whose definitions every kernel links to: the library's instances that
  /// kernels declare `extern template` instead of compiling each (the CPU
  /// library's ANET_GEMM_INSTANCES). Empty: none.
  std::string shared_source;
  /// The translation unit of `request`, exporting its kernel under `symbol`.
  std::function<std::string(const KernelRequest &request, const std::string &symbol)>
      translation_unit;
  /// Host functions and data the kernels call, by symbol name; they win
  /// over the process's own symbols.
  std::map<std::string, const void *> host_symbols;
  /// Resolves a symbol that is defined nowhere else (nullptr: leave it
  /// undefined, which fails the link).
  std::function<const void *(std::string_view name)> resolve;
  /// Adds passes to Clang's optimisation pipeline (e.g. instrumentation).
  std::function<void(llvm::PassBuilder &)> passes;
};

/// The CPU kernel library's language (codegen/cpu/kernels, anet_kernel_info).
std::shared_ptr<const JitLanguage> cpu_language();

/// How the JIT compiles and caches.
struct JitOptions {
  /// Folder for cached objects; empty: no disk cache.
  std::string cache_dir = default_kernel_cache_dir(); ///< "": no disk cache
  /// Kernels compiled at once on separate threads (0: one per core).
  int parallel = 0;
  /// What it compiles (nullptr: cpu_language()).
  std::shared_ptr<const JitLanguage> language = nullptr;
};

/// Counters of what the JIT has done since it was created.
struct JitStats {
  // Each counts the language's shared translation unit too, as one more.
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
  /// As load, for any language: the address of each kernel's exported symbol.
  Expected<std::vector<const void *>> load_symbols(std::span<const KernelRequest> requests);

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

  /// The full translation unit Clang compiles for a CPU kernel `body`,
  /// exporting the kernel under `symbol` (for inspection and golden tests).
  static std::string translation_unit(const std::string &body, const std::string &symbol);

private:
  struct Impl;
  explicit Jit(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

} // namespace anet::cpu
