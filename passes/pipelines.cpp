// The pipelines: which passes run, in which order, and why there.

#include "passes/passes.h"

namespace anet {

Pipeline inference_pipeline() {
  Pipeline p;
  // One form per idea first, so every later pass matches one pattern.
  p.push_back({make_canonicalise_pass(), "normalises forms that later passes match"});
  // Canonicalising bypasses nodes; drop them before anything counts nodes.
  p.push_back({make_dead_code_pass(), "removes what canonicalise bypassed"});
  // Fusion last among the rewrites: it changes node boundaries, which
  // partitioning and memory planning then take as given.
  p.push_back({make_fuse_pass(), "folds activations into Conv/Gemm epilogues"});
  // Partitioning sees fused nodes, so a layer and its activation stay on
  // one device; it may leave cross-device reads behind...
  p.push_back({make_partition_pass(), "splits layers over the logical devices"});
  // ...which become explicit Transfer nodes here, before anything plans
  // memory or order per device.
  p.push_back({make_insert_transfers_pass(), "makes every device crossing a Transfer node"});
  return p;
}

std::vector<std::string> all_pass_names() {
  std::vector<std::string> names;
  for (const PipelineStep &s : inference_pipeline())
    names.emplace_back(s.pass->name());
  return names;
}

} // namespace anet
