#pragma once
/// The CUDA kernel library: the one include of every generated CUDA kernel
/// (codegen/cuda/emit.cpp writes `#include "anet/cuda.h"`). For each kernel
/// template of the CPU library (codegen/cpu/kernels) there is a device
/// template ac::NAME<P> of the same name reading the same parameter struct P,
/// so the emitters of codegen/cpu/emit*.cpp serve both targets; the source's
/// last line, ANET_KERNEL(NAME), makes it the launch's __global__ function.
/// Compiled by NVRTC for GPUs and, under the emu device, for the host
/// against codegen/emu/kernels/cuda_emu.h.

#include "anet/activation.h"
#include "anet/base.h"
#include "anet/elementwise.h"
#include "anet/layout.h"
#include "anet/linear.h"
#include "anet/normalization.h"
#include "anet/pooling.h"
#include "anet/random.h"
#include "anet/training.h"

/// The kernel of a generated source: template ac::t over its struct P.
#define ANET_KERNEL(t)                                                                             \
  extern "C" __global__ void anet_kernel(const anet_cuda_args args) { ac::t<P>(args); }
