#pragma once
/// The one parameter of every generated CUDA kernel, passed by value: the
/// addresses of the node's inputs and outputs in its order, and the kernel's
/// own scratch memory (cuda::KernelSource::scratch_bytes, zeroed when
/// allocated; null where it asks for none). Plain C: the host runtime (emu
/// and cuda devices) includes it too.

#define ANET_CUDA_MAX_OPERANDS 64

struct anet_cuda_args {
  const float *in[ANET_CUDA_MAX_OPERANDS];
  float *out[ANET_CUDA_MAX_OPERANDS];
  void *scratch;
};
