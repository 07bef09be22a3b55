#pragma once
/// NVRTC: generated CUDA kernels (codegen/cuda/emit.h) to cubin for a GPU
/// architecture, with the CUDA kernel library (codegen/cuda/kernels, embedded
/// at build time) as NVRTC's in-memory headers. Needs no GPU or driver, so
/// CI compiles every kernel for sm_90. Available where the CUDA toolkit was
/// found at build time (ANET_WITH_NVRTC).

#include <string>

#include "ir/error.h"

namespace anet::cuda {

/// What ptxas reported of a kernel (-v), and the cubin.
struct CompiledKernel {
  std::string cubin;
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

/// Compiles `source` for `arch` ("sm_90"). A compile error is an
/// ExitCode::Runtime error naming `where`, with NVRTC's log (whose lines
/// are those of the generated source) and the source. Without NVRTC in the
/// build, an ExitCode::Runtime error saying so.
Expected<CompiledKernel> nvrtc_compile(const std::string &source, const std::string &arch,
                                       const std::string &where);

} // namespace anet::cuda
