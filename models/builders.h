#pragma once
/// The builder behind each model name (models/registry.cpp dispatches to
/// them). Each takes options already checked by build_model and fills in its
/// own defaults for the unset ones.

#include <onnx/onnx_pb.h>

#include "models/alexnet.h"

namespace anet::models {

/// "alexnet": the paper's network (models/alexnet.cpp).
onnx::ModelProto build_alexnet(const BuildOptions &opts);
/// "alexnet-mini": the paper's topology for 28x28 inputs (models/alexnet.cpp).
onnx::ModelProto build_alexnet_mini(const BuildOptions &opts);
/// "alexnet-caffe": the Caffe reference model, old-exporter style
/// (models/exporter_variants.cpp).
onnx::ModelProto build_alexnet_caffe(const BuildOptions &opts);
/// "alexnet-torchvision": torchvision's AlexNet as torch.onnx writes it
/// (models/exporter_variants.cpp).
onnx::ModelProto build_alexnet_torchvision(const BuildOptions &opts);

} // namespace anet::models
