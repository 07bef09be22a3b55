#pragma once
/// The emu device's compiler settings for the host JIT (codegen/cpu/jit.h):
/// CUDA C++, exactly as codegen writes it for NVRTC, compiled for this CPU
/// against the emulation header (kernels/cuda_emu.h) and the CUDA kernel
/// library (codegen/cuda/kernels), with thread_local (what __shared__
/// becomes) as emulated TLS so the runtime decides where shared memory
/// lives. With checking on, an LLVM pass after optimisation puts a call to
/// anet_emu_check (kernels/abi.h) with the source line before every load
/// and store that is not to the kernel's own stack.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "codegen/cpu/jit.h"

namespace anet::emu {

struct EmuLanguageOptions {
  bool checking = false;
  /// The runtime's functions the kernels call (kernels/abi.h), by name.
  std::map<std::string, const void *> host_symbols;
  /// Resolves what nothing else defines (the emutls controls of extern
  /// __shared__ arrays).
  std::function<const void *(std::string_view)> resolve;
};

/// The language for a Jit that compiles CUDA kernels for the emu runtime.
/// Requests name their __global__ function in KernelRequest::entry.
std::shared_ptr<const cpu::JitLanguage> emu_language(EmuLanguageOptions options);

/// The translation unit compiled for `request`, exporting its entry's
/// anet_emu_kernel under `symbol`. The kernel source keeps its own line
/// numbers, as file "kernel.cu".
std::string emu_translation_unit(const cpu::KernelRequest &request, const std::string &symbol);

} // namespace anet::emu
