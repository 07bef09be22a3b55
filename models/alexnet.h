#pragma once
/// Builders that write AlexNet, as the paper describes it and in reduced and
/// exporter-styled variants, as ONNX models. They give the compiler and the
/// trainer a network without any download, and give the tests models in the
/// forms real exporters produce. docs/models.md has every model's layer table.
///
/// Every model has the graph input "data" f32[N,C,H,W] and two outputs:
/// "prob" (Softmax over axis 1) and "logits" (the last Gemm's output, the
/// Softmax's input), both f32[N,classes]. Weights are drawn deterministically
/// from BuildOptions::seed (models/normal_generator.h): the same seed gives the
/// same bytes on every platform.
///
/// The models:
///   alexnet              the paper's network: 3x227x227 input, 96-256-384-384-256
///                        conv kernels (groups 2 in conv2, conv4, conv5), LRN
///                        k=2 n=5 alpha=1e-4 beta=0.75, overlapping 3/2 max
///                        pooling, fc 9216-4096-4096-1000, dropout 0.5; opset 17,
///                        IR 8; paper initialisation. 60,965,224 parameters.
///   alexnet-mini         the same topology sized to train in minutes on two CPU
///                        cores: 1x28x28 input (28x28 crops of 32x32 images),
///                        conv 32 5x5 -> 24x24, pool -> 11x11,
///                        conv 64 5x5 pad 2 group 2 -> 11x11, pool -> 5x5,
///                        conv 96, 96 (group 2), 64 (group 2) 3x3 pad 1 -> 5x5,
///                        pool -> 2x2, fc 256-256-256-10; He-scaled weights
///                        N(0, 2/fan_in) in conv1-fc7, 0.01 in fc8.
///   alexnet-caffe        the Caffe reference model as old exporters wrote it:
///                        opset 9, IR 4, unnamed nodes, initializers also listed
///                        as graph inputs, LRN k=1, Reshape with a constant shape
///                        instead of Flatten, asymmetric pooling pads, Dropout
///                        with a mask output.
///   alexnet-torchvision  torchvision's AlexNet as torch.onnx writes it: opset 14,
///                        IR 7, 3x224x224 input, 64-192-384-256-256 kernels, no
///                        LRN, no groups, a 1x1 AveragePool standing for the
///                        adaptive pooling, Flatten, Dropout before fc6 and fc7
///                        with its ratio as an initializer.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "ir/error.h"

namespace anet::models {

/// What a builder may vary; everything else is fixed by the model's name.
struct BuildOptions {
  /// Seed of the weight initialisation.
  uint64_t seed = 0;
  /// Batch size; unset gives the symbolic dimension "N".
  std::optional<int64_t> batch;
  /// Number of classes (rows of fc8); unset gives the model's own default:
  /// 1000, and 10 for alexnet-mini.
  std::optional<int64_t> num_classes;
  /// Input channels; unset gives the model's own default: 3, and 1 for
  /// alexnet-mini (Fashion-MNIST).
  std::optional<int64_t> channels;
};

/// Names of the builders, in a fixed order: "alexnet", "alexnet-mini",
/// "alexnet-caffe", "alexnet-torchvision".
std::vector<std::string> model_names();

/// Builds the model called `name`. An unknown name (the message lists the
/// known ones), a batch below 1, a class count outside [1, 65536] or a channel
/// count outside [1, 4096] is an ExitCode::Usage error; the limits keep every
/// model far below protobuf's 2 GiB message size.
Expected<onnx::ModelProto> build_model(const std::string &name, const BuildOptions &opts);

/// Writes `m` to `path` (deterministic serialisation: the same model gives the
/// same bytes). A file that cannot be written is an ExitCode::IO error naming
/// `path`.
Status write_model(const onnx::ModelProto &m, const std::string &path);

} // namespace anet::models
