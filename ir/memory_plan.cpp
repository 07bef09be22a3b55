// Memory planning by liveness.
//
// Design note. Lifetimes are intervals in the node order: a value is born
// at its producer (graph inputs before the first node) and dies at its last
// reader (graph outputs, and values another device copies, since devices
// run concurrently, live to the end). Values form alias groups that
// share one buffer: a Reshape's output with its input (a view: SSA values
// are never written twice, so sharing is always safe), and an activation
// node's output with an input that dies at that node (in place). Each
// group is placed, largest first, at the lowest aligned offset of its
// device's arena that no placed group with an overlapping lifetime uses
// (greedy best fit; optimal placement is NP-hard and this is within a few
// percent of the lower bound for chain-like CNNs).

#include "ir/memory_plan.h"

#include <algorithm>
#include <numeric>

#include "ir/activation.h"

namespace anet {
namespace {

// Inputs and node outputs live in arenas, except a param's update, which is
// written over the param itself (Graph::updates).
bool in_arena(const Graph &g, size_t v) {
  const Value &val = g.values[v];
  if (val.kind != ValueKind::Input && val.kind != ValueKind::Activation)
    return false;
  for (auto [param, update] : g.updates)
    if (update == static_cast<ValueId>(v))
      return false;
  return true;
}

int64_t aligned(int64_t bytes) {
  return (bytes + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
}

struct Lifetimes {
  std::vector<int64_t> start, end; // per value, in node indices
  std::vector<ValueId> group;      // per value: the root of its alias group
  std::vector<int> device;
};

Lifetimes lifetimes(const Graph &g) {
  size_t nv = g.values.size();
  auto last = static_cast<int64_t>(g.nodes.size());
  Lifetimes l{std::vector<int64_t>(nv, -1), std::vector<int64_t>(nv, -1), std::vector<ValueId>(nv),
              std::vector<int>(nv, -1)};
  std::iota(l.group.begin(), l.group.end(), 0);
  for (ValueId v : g.inputs)
    l.device[static_cast<size_t>(v)] = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node &n = g.nodes[i];
    for (ValueId v : n.inputs)
      l.end[static_cast<size_t>(v)] = static_cast<int64_t>(i);
    for (ValueId v : n.outputs) {
      l.start[static_cast<size_t>(v)] = l.end[static_cast<size_t>(v)] = static_cast<int64_t>(i);
      l.device[static_cast<size_t>(v)] = n.device;
    }
  }
  for (ValueId v : g.outputs)
    l.end[static_cast<size_t>(v)] = last;
  // Devices run concurrently, so a value another device copies may be
  // read later than its place in the node order says: it lives to the end.
  for (const Node &n : g.nodes)
    if (n.op == OpKind::Transfer && l.device[static_cast<size_t>(n.inputs[0])] != n.device)
      l.end[static_cast<size_t>(n.inputs[0])] = last;
  for (ValueId v : g.inputs)
    l.start[static_cast<size_t>(v)] = -1;
  return l;
}

} // namespace

MemoryPlan plan_memory(const Graph &g) {
  Lifetimes l = lifetimes(g);
  size_t nv = g.values.size();
  std::vector<bool> is_output(nv, false);
  for (ValueId v : g.outputs)
    is_output[static_cast<size_t>(v)] = true;

  // Alias groups, in node order so a chain of views joins one root.
  auto root = [&](ValueId v) {
    while (l.group[static_cast<size_t>(v)] != v)
      v = l.group[static_cast<size_t>(v)];
    return v;
  };
  std::vector<int64_t> group_end(l.end);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node &n = g.nodes[i];
    if (n.outputs.size() != 1 || n.inputs.empty())
      continue;
    ValueId in = n.inputs[0], out = n.outputs[0];
    if (!in_arena(g, static_cast<size_t>(in)) || l.device[static_cast<size_t>(in)] != n.device ||
        g.type(in).bytes() != g.type(out).bytes())
      continue;
    ValueId r = root(in);
    bool view = n.op == OpKind::Reshape;
    bool in_place = is_activation_op(n.op) &&
                    group_end[static_cast<size_t>(r)] == static_cast<int64_t>(i) &&
                    !is_output[static_cast<size_t>(in)] && g.value(r).kind != ValueKind::Input;
    if (!view && !in_place)
      continue;
    l.group[static_cast<size_t>(out)] = r;
    group_end[static_cast<size_t>(r)] =
        std::max(group_end[static_cast<size_t>(r)], l.end[static_cast<size_t>(out)]);
  }

  MemoryPlan plan;
  plan.offset.assign(nv, -1);
  plan.device = l.device;
  int devices = 1;
  for (const Node &n : g.nodes)
    devices = std::max(devices, n.device + 1);
  plan.arena_bytes.assign(static_cast<size_t>(devices), 0);
  plan.unplanned_bytes.assign(static_cast<size_t>(devices), 0);

  struct Group {
    ValueId root;
    int64_t start, end, bytes;
  };
  std::vector<std::vector<Group>> by_device(static_cast<size_t>(devices));
  for (size_t v = 0; v < nv; ++v) {
    if (!in_arena(g, v) || l.device[v] < 0)
      continue; // params, constants, and values nothing defines or reads
    auto dev = static_cast<size_t>(l.device[v]);
    plan.unplanned_bytes[dev] += aligned(g.values[v].type.bytes());
    if (l.group[v] != static_cast<ValueId>(v))
      continue;
    by_device[dev].push_back(Group{static_cast<ValueId>(v), l.start[v], group_end[v],
                                   aligned(g.values[v].type.bytes())});
  }
  for (size_t dev = 0; dev < by_device.size(); ++dev) {
    auto &groups = by_device[dev];
    std::stable_sort(groups.begin(), groups.end(),
                     [](const Group &a, const Group &b) { return a.bytes > b.bytes; });
    std::vector<std::pair<const Group *, int64_t>> placed;
    for (const Group &grp : groups) {
      // Busy ranges of overlapping lifetimes, by offset; take the first gap.
      std::vector<std::pair<int64_t, int64_t>> busy;
      for (const auto &[other, off] : placed)
        if (other->start <= grp.end && grp.start <= other->end)
          busy.emplace_back(off, off + other->bytes);
      std::sort(busy.begin(), busy.end());
      int64_t offset = 0;
      for (const auto &[lo, hi] : busy) {
        if (offset + grp.bytes <= lo)
          break;
        offset = std::max(offset, hi);
      }
      placed.emplace_back(&grp, offset);
      plan.offset[static_cast<size_t>(grp.root)] = offset;
      plan.arena_bytes[dev] = std::max(plan.arena_bytes[dev], offset + grp.bytes);
    }
  }
  for (size_t v = 0; v < nv; ++v)
    if (in_arena(g, v) && l.device[v] >= 0)
      plan.offset[v] = plan.offset[static_cast<size_t>(root(static_cast<ValueId>(v)))];
  return plan;
}

Status check_memory_plan(const Graph &g, const MemoryPlan &plan) {
  Lifetimes l = lifetimes(g);
  std::vector<size_t> values;
  for (size_t v = 0; v < g.values.size(); ++v) {
    if (!in_arena(g, v) || l.device[v] < 0)
      continue;
    int64_t off = plan.offset[v];
    auto dev = static_cast<size_t>(plan.device[v]);
    if (off < 0 || off % kArenaAlignment != 0 || dev >= plan.arena_bytes.size() ||
        off + g.values[v].type.bytes() > plan.arena_bytes[dev])
      return make_error(ExitCode::Runtime, "memory plan: value '", g.values[v].name,
                        "' has no aligned place inside its arena");
    values.push_back(v);
  }
  // Two values may overlap in memory while both are live only as a view
  // or an in-place update: the later one is produced from the earlier by a
  // chain of Reshapes and activations, each sharing its input's offset.
  std::vector<NodeId> producer = g.producers();
  auto aliases = [&](size_t a, size_t b) {
    for (size_t x : {a, b}) {
      size_t y = x == a ? b : a;
      NodeId p = producer[x];
      if (p >= 0 && !g.nodes[static_cast<size_t>(p)].inputs.empty() &&
          plan.offset[x] == plan.offset[y]) {
        // Follow the chain of views/in-place updates back from x.
        ValueId cur = static_cast<ValueId>(x);
        while (producer[static_cast<size_t>(cur)] >= 0) {
          const Node &n = g.nodes[static_cast<size_t>(producer[static_cast<size_t>(cur)])];
          bool may_alias = n.op == OpKind::Reshape || is_activation_op(n.op);
          ValueId in = n.inputs.empty() ? -1 : n.inputs[0];
          if (!may_alias || in < 0 || plan.offset[static_cast<size_t>(in)] != plan.offset[x])
            break;
          if (in == static_cast<ValueId>(y))
            return true;
          cur = in;
        }
      }
    }
    return false;
  };
  for (size_t i = 0; i < values.size(); ++i) {
    for (size_t j = i + 1; j < values.size(); ++j) {
      size_t a = values[i], b = values[j];
      if (plan.device[a] != plan.device[b])
        continue;
      bool live_together = l.start[a] <= l.end[b] && l.start[b] <= l.end[a];
      int64_t a_lo = plan.offset[a], a_hi = a_lo + g.values[a].type.bytes();
      int64_t b_lo = plan.offset[b], b_hi = b_lo + g.values[b].type.bytes();
      bool overlap = a_lo < b_hi && b_lo < a_hi;
      if (live_together && overlap && !aliases(a, b))
        return make_error(ExitCode::Runtime, "memory plan: '", g.values[a].name, "' and '",
                          g.values[b].name, "' are live together but share bytes");
    }
  }
  return {};
}

} // namespace anet
