#pragma once
/// The binary interface between the host and a JIT-compiled CPU kernel. Plain
/// C, included both by the runtime (compiled by the host compiler) and by the
/// generated kernel sources (compiled by Clang in process), so the two always
/// agree on the layout.

#ifdef __cplusplus
extern "C" {
#endif

/// A slice of a parallel loop: iterations [begin, end) run on worker `worker`.
typedef void (*anet_task_fn)(void *ctx, long begin, long end, int worker);

/// The services the host lends a kernel while it runs.
typedef struct anet_cpu_rt {
  /// Runs `fn` over [0, n) split into slices of at least `grain` iterations
  /// across the pool's workers; returns when every slice has finished.
  void (*parallel_for)(void *pool, long n, long grain, anet_task_fn fn, void *ctx);
  void *pool;
  /// Number of workers (at least 1); a slice's `worker` is below it.
  int workers;
  /// Per worker: 64-byte aligned scratch of the kernel's scratch_per_worker
  /// floats, for that worker's slices alone.
  float *const *scratch;
  /// The node's own 64-byte aligned memory of its kernel's state_floats,
  /// kept from run to run (null when it asks for none): constant weights
  /// packed once. The kernel tags what it stored with `generation` and
  /// redoes it when the tag differs.
  float *state;
  /// Changes whenever the node's constant inputs may have (new weights).
  long generation;
} anet_cpu_rt;

/// Runs a node: `in` and `out` hold one address per node input and output,
/// in the node's order.
typedef void (*anet_kernel_fn)(const float *const *in, float *const *out, const anet_cpu_rt *rt);

/// What a compiled kernel exports under its symbol.
typedef struct anet_kernel_info {
  anet_kernel_fn run;
  /// Floats of scratch each worker needs (0 when none).
  long scratch_per_worker;
  /// Floats of state the node keeps between runs (0 when none).
  long state_floats;
} anet_kernel_info;

#ifdef __cplusplus
}
#endif
