#pragma once
/// The folder of anet's disk caches of compiled kernels: the cpu device's
/// objects (codegen/cpu/jit.h), the emu device's, and NVRTC's cubins
/// (codegen/cuda/nvrtc.h), each kind under names of its own.

#include <string>

namespace anet {

/// $ANET_CACHE_DIR, else $XDG_CACHE_HOME/anet/kernels, else
/// $HOME/.cache/anet/kernels; "" (no cache) where none of them is set.
std::string default_kernel_cache_dir();

} // namespace anet
