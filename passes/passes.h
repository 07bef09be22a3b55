#pragma once
/// Constructors of every pass, one file each under passes/, and the
/// pipelines that order them.

#include <map>
#include <memory>

#include "ir/program_names.h"
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

/// The training passes (passes/training_mode.cpp, add_loss.cpp,
/// autodiff.cpp, optimizer.cpp, in pipeline order):
/// training-mode: Dropout becomes DropoutMask * x (a mask per step),
/// BatchNormalization becomes BatchNormTrain (batch statistics).
std::unique_ptr<Pass> make_training_mode_pass();
/// add-loss: the softmax cross-entropy of the logits against a new input
/// `labels`, as the value `loss`.
std::unique_ptr<Pass> make_add_loss_pass();
/// autodiff: the backward graph of `loss`; param p's gradient is "grad/p".
std::unique_ptr<Pass> make_autodiff_pass();
/// optimizer: the paper's SGD update of every param from its gradient
/// (momentum buffers as zero-initialised state, the learning rate as the
/// input `lr`), and BatchNormTrain's running statistics written back.
std::unique_ptr<Pass> make_optimizer_pass();

/// Appends the backward graph of the scalar `loss` to `g` and returns each
/// param's gradient value (named "grad/<param>"); params the loss does not
/// depend on have none. Errors name the node whose gradient cannot be
/// built.
Expected<std::map<ValueId, ValueId>> build_backward(Graph &g, ValueId loss);

/// The passes of an inference plan, in order (passes/pipelines.cpp says why).
Pipeline inference_pipeline();
/// The passes of a training program (train_step), in order.
Pipeline training_pipeline();

/// The names of every pass, for --print-after and --disable-pass checks.
std::vector<std::string> all_pass_names();

} // namespace anet
