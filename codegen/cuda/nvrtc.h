#pragma once
/// NVRTC: generated CUDA kernels (codegen/cuda/emit.h) to cubin for a GPU
/// architecture, with the CUDA kernel library (codegen/cuda/kernels, embedded
/// at build time) as NVRTC's in-memory headers. Needs no GPU or driver, so
/// CI compiles every kernel for sm_90. Available where the CUDA toolkit was
/// found at build time (ANET_WITH_NVRTC).

#include <span>
#include <string>
#include <vector>

#include "ir/error.h"

namespace anet::cuda {

/// A compiled kernel and what ptxas reported of it (-v).
struct CompiledKernel {
  std::string image;     ///< cubin for sm_XY, PTX text for compute_XY
  std::string log;       ///< NVRTC's and ptxas's messages
  int registers = -1;    ///< per thread (-1: not reported)
  long spill_stores = 0; ///< bytes
  long spill_loads = 0;  ///< bytes
  long shared_bytes = 0; ///< static shared memory
  long constant_bytes = 0;
};

/// Whether this build has NVRTC.
bool nvrtc_available();

/// "13.0", or "none" without NVRTC.
std::string nvrtc_version();

/// The key of `source` compiled for `arch` in a plan (Plan::cuda_kernels):
/// "<arch>/<SHA-256 of the source after the hex SHA-256 of the NVRTC
/// version, the options and the kernel library>" (that one hashed once).
std::string kernel_key(const std::string &source, const std::string &arch);

/// Compiles `source` for `arch`: "sm_90" gives a cubin, "compute_90" PTX
/// (which the driver compiles for newer GPUs). A compile error is an
/// ExitCode::Runtime error naming `where`, with NVRTC's log (whose lines
/// are those of the generated source) and the source. Without NVRTC in the
/// build, an ExitCode::Runtime error saying so.
Expected<CompiledKernel> nvrtc_compile(const std::string &source, const std::string &arch,
                                       const std::string &where);

/// One compilation of nvrtc_compile_all.
struct CompileJob {
  std::string source, arch, where;
};

/// What nvrtc_compile_all did: kernels compiled, and found in the cache.
struct CompileCounts {
  size_t compiled = 0, from_cache = 0;
};

/// nvrtc_compile of every job, one per core at once; the results in order.
/// With a `cache_dir` (ir/cache_dir.h; "" for none), a kernel compiled
/// before, under the same kernel_key (NVRTC version, options, kernel library,
/// source and architecture), is read from `cache_dir`/<arch>-<sha>.cubin (or
/// .ptx) instead, and what is compiled is stored there. A damaged cache file
/// is compiled again and replaced; a cache that cannot be written costs only
/// the next compile.
std::vector<Expected<CompiledKernel>> nvrtc_compile_all(std::span<const CompileJob> jobs,
                                                        const std::string &cache_dir = "",
                                                        CompileCounts *counts = nullptr);

} // namespace anet::cuda
