#pragma once
/// The contract between emulated CUDA kernels (CUDA C++ compiled for the host
/// against cuda_emu.h) and the emu runtime (runtime/emu/emu.cpp) that runs
/// them: the thread a kernel runs as, what a compiled kernel exports, and the
/// runtime's functions kernels call. Plain types only; both sides include it.

/// A grid, block or thread coordinate (CUDA's uint3 and dim3).
struct anet_emu_dim3 {
  unsigned x, y, z;
};

/// The CUDA thread a fiber runs as.
struct anet_emu_thread {
  anet_emu_dim3 thread_idx, block_idx, block_dim, grid_dim;
  unsigned linear; ///< thread index within the block, x fastest
  unsigned lane;   ///< linear % 32
};

/// Bytes each lane contributes to one warp collective (enough for the
/// fragments of one mma: 4 + 2 + 4 registers).
#define ANET_EMU_WARP_SLOT_BYTES 64

/// What a compiled kernel module exports for its entry function.
struct anet_emu_kernel {
  /// Calls the __global__ function; args[i] points at parameter i's value.
  void (*run)(void *const *args);
  unsigned params;             ///< parameter count
  const unsigned *param_sizes; ///< bytes of each parameter
  const char *name;            ///< the entry as written in the request
};

/// Barrier reductions (__syncthreads_count, _and, _or).
enum { ANET_EMU_REDUCE_NONE = 0, ANET_EMU_REDUCE_COUNT, ANET_EMU_REDUCE_AND, ANET_EMU_REDUCE_OR };

extern "C" {
/// The calling fiber's thread. Constant for the life of a fiber, hence
/// `const`: the compiler may keep the pointer across barriers.
const anet_emu_thread *anet_emu_self(void) __attribute__((const));
/// __syncthreads and its reductions: returns the reduction over the block.
/// `line`: where in the kernel source it is called (the divergence check).
int anet_emu_barrier(int reduce, int predicate, unsigned line);
/// A warp collective among the lanes of `mask` (which must include the
/// caller): each puts `bytes` (at most ANET_EMU_WARP_SLOT_BYTES) from
/// `value` in its slot; returns the warp's 32 slots once all have arrived.
const void *anet_emu_warp_exchange(unsigned mask, const void *value, unsigned bytes);
/// The block's dynamic shared memory (extern __shared__ arrays).
void *anet_emu_dynamic_shared(void);
/// __trap, assert: stops the launch with `message` naming the thread.
void anet_emu_trap(const char *message);
/// Checking mode: called before every load and store the kernel makes
/// outside its own stack (write: 1 for a store), `line` in the kernel source.
void anet_emu_check(const void *address, unsigned long bytes, int write, unsigned line);
}
