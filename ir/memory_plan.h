#pragma once
/// Memory planning: where each activation of a program lives in its
/// device's arena. Values whose lifetimes (in node order) do not overlap
/// share memory; a Reshape aliases its input, and an elementwise unary node
/// writes over an input that dies there. The runtime allocates one arena
/// per device from this plan; `anetc inspect` reports its peaks.

#include <cstdint>
#include <vector>

#include "ir/error.h"
#include "ir/graph.h"

namespace anet {

struct MemoryPlan {
  /// Bytes of each device's arena (index = logical device).
  std::vector<int64_t> arena_bytes;
  /// Bytes each device would need with one buffer per value (no reuse).
  std::vector<int64_t> unplanned_bytes;
  /// Per value: byte offset in its device's arena, or -1 for params,
  /// constants (resident, not in an arena) and params' updates (written
  /// over the param).
  std::vector<int64_t> offset;
  /// Per value: its device (-1 for params and constants).
  std::vector<int> device;
};

/// Alignment of every buffer in an arena, in bytes.
inline constexpr int64_t kArenaAlignment = 64;

/// Plans the arenas of a verified graph.
MemoryPlan plan_memory(const Graph &g);

/// Proves the plan sound: every activation and input has an aligned place
/// inside its arena, and no two values that are live at the same time
/// overlap, unless one aliases the other by design. The error names both.
Status check_memory_plan(const Graph &g, const MemoryPlan &plan);

} // namespace anet
