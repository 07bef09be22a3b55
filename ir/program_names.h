#pragma once
/// The names of a training program's inputs and loss: what the passes that
/// build train_step give them, and what the trainer and tools feed and read.

namespace anet {

inline constexpr const char *kLossName = "loss";
inline constexpr const char *kLabelsName = "labels";
inline constexpr const char *kLearningRateName = "lr";
inline constexpr const char *kStepName = "step";

} // namespace anet
