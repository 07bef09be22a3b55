#pragma once
/// Constructors of every pass, one file each under passes/, and the
/// pipelines that order them.

#include <memory>

#include "passes/pass.h"

namespace anet {

/// dead-code: drops nodes and values nothing reads.
std::unique_ptr<Pass> make_dead_code_pass();
/// canonicalise: one form for each idea (constants folded, Dropout/Identity removed from
/// inference programs, Flatten/Squeeze/Unsqueeze/Reshape chains as one
/// Reshape, MatMul+Add as Gemm with bias, Gemm's beta=0 C dropped).
std::unique_ptr<Pass> make_canonicalise_pass();
/// fuse: elementwise activations folded into the epilogue of the Conv,
/// Gemm or MatMul that feeds them, as the op table's fusion kinds allow.
std::unique_ptr<Pass> make_fuse_pass();

/// partition: splits the program over PassContext::devices logical
/// devices, by the paper's model parallelism or by batch (data).
std::unique_ptr<Pass> make_partition_pass();
/// insert-transfers: a Transfer node wherever a node reads a value that
/// lives on another device; marks the graph's transfers explicit.
std::unique_ptr<Pass> make_insert_transfers_pass();

/// The passes of an inference plan, in order (passes/pipelines.cpp says why).
Pipeline inference_pipeline();

/// The names of every pass, for --print-after and --disable-pass checks.
std::vector<std::string> all_pass_names();

} // namespace anet
