// The pipelines: which passes run, in which order, and why there.

#include <algorithm>

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

Pipeline training_pipeline() {
  Pipeline p;
  p.push_back({make_canonicalise_pass(), "normalises forms (keeps Dropout: ctx.training)"});
  p.push_back({make_dead_code_pass(), "removes what canonicalise bypassed"});
  // Training-mode ops and the loss join the forward graph before it is
  // fused and split, so partitioning places them like any other node.
  p.push_back({make_training_mode_pass(), "Dropout masks, batch statistics"});
  p.push_back({make_add_loss_pass(), "softmax cross-entropy against the labels"});
  p.push_back({make_fuse_pass(), "folds activations into Conv/Gemm epilogues"});
  p.push_back({make_partition_pass(), "splits layers over the logical devices"});
  p.push_back({make_insert_transfers_pass(), "makes every device crossing a Transfer node"});
  // The backward graph is built from the partitioned, fused forward graph:
  // each gradient node runs where its forward node runs, a fused Conv+ReLU
  // differentiates as one node, and a transfer's gradient is the reverse
  // transfer, so the backward pass needs no partitioning of its own.
  p.push_back({make_autodiff_pass(), "the backward graph of the loss"});
  // Last: the update reads every gradient and must follow every read of
  // the weight it overwrites.
  p.push_back({make_optimizer_pass(), "SGD with momentum and weight decay"});
  return p;
}

std::vector<std::string> all_pass_names() {
  std::vector<std::string> names;
  for (const PipelineStep &s : training_pipeline())
    if (std::find(names.begin(), names.end(), s.pass->name()) == names.end())
      names.emplace_back(s.pass->name());
  return names;
}

} // namespace anet
