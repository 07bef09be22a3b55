#pragma once
/// The whole kernel library: the one include of every generated kernel
/// source (codegen/cpu/jit.cpp writes `#include "anet/all.h"`).

#include "anet/abi.h"
#include "anet/activation.h"
#include "anet/base.h"
#include "anet/elementwise.h"
#include "anet/gemm.h"
#include "anet/layout.h"
#include "anet/linear.h"
#include "anet/normalization.h"
#include "anet/pooling.h"
#include "anet/random.h"
#include "anet/training.h"

/// What a generated source's last line, ANET_KERNEL(t), means on the CPU:
/// the kernel_info of template ak::t over the source's parameter struct P.
#define ANET_KERNEL(t) constexpr anet_kernel_info kernel = ak::t<P>();
