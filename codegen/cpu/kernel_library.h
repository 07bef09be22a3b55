#pragma once
/// The kernel library (codegen/cpu/kernels/*.h and ir/random.h), embedded in
/// the binary at build time: the JIT hands these files to Clang from memory,
/// so compiled kernels never depend on where anet's sources are.

#include <span>

namespace anet::cpu {

/// A header of the kernel library: its include path ("anet/gemm.h") and text.
struct LibraryFile {
  const char *path;
  const char *text;
};

/// Every file of the kernel library.
std::span<const LibraryFile> kernel_library();

/// Every file the emu device's kernels see: the CUDA emulation header
/// (codegen/emu/kernels) and the CUDA kernel library (codegen/cuda/kernels).
std::span<const LibraryFile> emu_library();

/// The CUDA kernel library alone (codegen/cuda/kernels and ir/random.h):
/// NVRTC's headers.
std::span<const LibraryFile> cuda_library();

} // namespace anet::cpu
