// AlexNet as two real exporters wrote it: "alexnet-caffe" (the Caffe
// reference model through the old Caffe2 exporter) and "alexnet-torchvision"
// (torchvision's AlexNet through torch.onnx). They exist for the whole-model
// comparisons against onnxruntime: each puts the same function in a
// different ONNX form that the importer must bring to the same IR.
//
// Both keep the common interface of every anet model (input "data", outputs
// "prob" and "logits") and the paper's initialisation (weights N(0, 0.01^2);
// biases 1 in the second, fourth and fifth convolutions and in the two hidden
// fully connected layers), so that only the exporter's form differs.

#include "models/builders.h"

#include <string>

#include "models/graph_builder.h"

namespace anet::models {
namespace {

constexpr double kPaperWeightStd = 0.01;

} // namespace

// Caffe's bvlc_reference_caffenet/bvlc_alexnet layer sizes, in the form the
// Caffe2 ONNX exporter gave them (opset 9, IR 4):
//  - nodes have no names; a layer's parameters are <layer>_w_0 and
//    <layer>_b_0, its output <layer>_1, and an in-place layer after it (ReLU,
//    Dropout) writes <layer>_2, <layer>_3;
//  - every initializer is also listed in graph.input;
//  - LRN with Caffe's k=1 and alpha=1e-4 (Caffe divides alpha by the size as
//    ONNX does, so the value carries over unchanged);
//  - Caffe rounds pooled sizes up; the exporter wrote that as an extra pad at
//    the bottom and right (pads [0,0,1,1]) on pool1 and pool5, which leaves
//    the sizes 27 and 6 unchanged;
//  - Reshape to [0, -1] with its shape as an int64 initializer, not Flatten;
//  - Dropout-7 with its ratio attribute and the optional mask output;
//  - Softmax without an axis attribute (opset 9's default is 1).
onnx::ModelProto build_alexnet_caffe(const BuildOptions &opts) {
  const int64_t channels = opts.channels.value_or(3);
  const int64_t classes = opts.num_classes.value_or(1000);
  onnx::ModelProto model;
  GraphBuilder b(model,
                 {.graph_name = "alexnet-caffe",
                  .ir_version = 4,
                  .opset = 9,
                  .initializers_as_inputs = true,
                  .doc = "Caffe's reference AlexNet in the Caffe2 exporter's ONNX form"},
                 opts.seed);
  b.add_input("data", opts.batch, {channels, 227, 227});

  auto conv_relu = [&](const std::string &layer, const std::string &input, int64_t in_channels,
                       int64_t out_channels, int64_t kernel, int64_t stride, int64_t pad,
                       int64_t group, float bias) {
    const std::string y = add_conv(b, input,
                                   {.node = "",
                                    .output = layer + "_1",
                                    .weight = layer + "_w_0",
                                    .bias = layer + "_b_0",
                                    .in_channels = in_channels,
                                    .out_channels = out_channels,
                                    .kernel = kernel,
                                    .stride = stride,
                                    .pad = pad,
                                    .group = group,
                                    .weight_std = kPaperWeightStd,
                                    .bias_value = bias});
    return add_relu(b, "", y, layer + "_2");
  };
  auto fc = [&](const std::string &layer, const std::string &input, int64_t in_features,
                int64_t out_features, float bias, const std::string &output) {
    return add_gemm(b, input,
                    {.node = "",
                     .output = output,
                     .weight = layer + "_w_0",
                     .bias = layer + "_b_0",
                     .in_features = in_features,
                     .out_features = out_features,
                     .weight_std = kPaperWeightStd,
                     .bias_value = bias});
  };
  auto relu_dropout = [&](const std::string &layer, const std::string &input) {
    const std::string y = add_relu(b, "", input, layer + "_2");
    onnx::NodeProto &drop = b.add_node("Dropout", "", {y}, {layer + "_3", "_" + layer + "_mask_1"});
    set_float_attr(drop, "ratio", 0.5f);
    return layer + "_3";
  };

  const LrnSpec caffe_lrn{.size = 5, .alpha = 1e-4f, .beta = 0.75f, .bias = 1.f};
  const PoolSpec ceil_pool{.kernel = 3, .stride = 2, .pads = {0, 0, 1, 1}};
  const PoolSpec floor_pool{.kernel = 3, .stride = 2, .pads = {}};

  std::string x = conv_relu("conv1", "data", channels, 96, 11, 4, 0, 1, 0.f); // 55x55
  x = add_lrn(b, "", x, "norm1_1", caffe_lrn);
  x = add_max_pool(b, "", x, "pool1_1", ceil_pool); // 27x27
  x = conv_relu("conv2", x, 96, 256, 5, 1, 2, 2, 1.f);
  x = add_lrn(b, "", x, "norm2_1", caffe_lrn);
  x = add_max_pool(b, "", x, "pool2_1", floor_pool); // 13x13
  x = conv_relu("conv3", x, 256, 384, 3, 1, 1, 1, 0.f);
  x = conv_relu("conv4", x, 384, 384, 3, 1, 1, 2, 1.f);
  x = conv_relu("conv5", x, 384, 256, 3, 1, 1, 2, 1.f);
  x = add_max_pool(b, "", x, "pool5_1", ceil_pool); // 6x6
  const std::string shape = b.int64_tensor("pool5_flat_shape_0", {2}, {0, -1});
  b.add_node("Reshape", "", {x, shape}, {"pool5_flat_1"});
  x = fc("fc6", "pool5_flat_1", 256 * 6 * 6, 4096, 1.f, "fc6_1");
  x = relu_dropout("fc6", x);
  x = fc("fc7", x, 4096, 4096, 1.f, "fc7_1");
  x = relu_dropout("fc7", x);
  x = fc("fc8", x, 4096, classes, 0.f, "logits");
  add_softmax(b, "", x, "prob", std::nullopt);
  b.add_output("prob", opts.batch, {classes});
  b.add_output("logits", opts.batch, {classes});
  return model;
}

namespace {

// torch.onnx's names: a node is "/<parent>/<module>/<Op>" ("/<Op>" for a
// call at the top level), its output "<node>_output_0"; parameters keep their
// state_dict keys.
std::string torch_node(const std::string &module, const std::string &op) {
  if (module.empty())
    return "/" + op;
  const size_t dot = module.find('.');
  if (dot == std::string::npos)
    return "/" + module + "/" + op;
  return "/" + module.substr(0, dot) + "/" + module + "/" + op;
}

std::string torch_output(const std::string &node) { return node + "_output_0"; }

} // namespace

// torchvision.models.alexnet as torch.onnx (opset 14, IR 7) writes it:
//  - 224x224 input; conv1 64 11x11/4 padded by 2 (-> 55x55), then 192 5x5,
//    384, 256, 256 3x3 kernels, no groups, no LRN;
//  - AdaptiveAvgPool2d((6, 6)) on a map that is already 6x6, exported as an
//    AveragePool with a 1x1 window and stride 1;
//  - torch.flatten(x, 1) as Flatten(axis=1);
//  - the classifier is Dropout, Linear, ReLU, Dropout, Linear, ReLU, Linear:
//    Dropout-13 comes before fc6 and fc7, its ratio an initializer operand
//    shared by both nodes; Linear is Gemm with transB=1.
// torchvision's AlexNet ends at the logits; the Softmax giving "prob" is
// added so that every anet model has the same outputs.
onnx::ModelProto build_alexnet_torchvision(const BuildOptions &opts) {
  const int64_t channels = opts.channels.value_or(3);
  const int64_t classes = opts.num_classes.value_or(1000);
  onnx::ModelProto model;
  GraphBuilder b(model,
                 {.graph_name = "main_graph",
                  .ir_version = 7,
                  .opset = 14,
                  .doc = "torchvision's AlexNet in the torch.onnx exporter's form"},
                 opts.seed);
  b.add_input("data", opts.batch, {channels, 224, 224});

  auto conv_relu = [&](int index, const std::string &input, int64_t in_channels,
                       int64_t out_channels, int64_t kernel, int64_t stride, int64_t pad,
                       float bias) {
    const std::string module = "features." + std::to_string(index);
    const std::string node = torch_node(module, "Conv");
    const std::string y = add_conv(b, input,
                                   {.node = node,
                                    .output = torch_output(node),
                                    .weight = module + ".weight",
                                    .bias = module + ".bias",
                                    .in_channels = in_channels,
                                    .out_channels = out_channels,
                                    .kernel = kernel,
                                    .stride = stride,
                                    .pad = pad,
                                    .group = 1,
                                    .weight_std = kPaperWeightStd,
                                    .bias_value = bias});
    const std::string relu = torch_node("features." + std::to_string(index + 1), "Relu");
    return add_relu(b, relu, y, torch_output(relu));
  };
  auto max_pool = [&](int index, const std::string &input) {
    const std::string node = torch_node("features." + std::to_string(index), "MaxPool");
    return add_max_pool(b, node, input, torch_output(node),
                        {.kernel = 3, .stride = 2, .pads = {0, 0, 0, 0}});
  };
  const std::string ratio = b.filled_tensor("dropout.ratio", {}, 0.5f);
  auto dropout_linear = [&](int index, const std::string &input, int64_t in_features,
                            int64_t out_features, float bias) {
    const std::string drop = torch_node("classifier." + std::to_string(index), "Dropout");
    b.add_node("Dropout", drop, {input, ratio}, {torch_output(drop)});
    const std::string module = "classifier." + std::to_string(index + 1);
    const std::string gemm = torch_node(module, "Gemm");
    const std::string y = add_gemm(b, torch_output(drop),
                                   {.node = gemm,
                                    .output = torch_output(gemm),
                                    .weight = module + ".weight",
                                    .bias = module + ".bias",
                                    .in_features = in_features,
                                    .out_features = out_features,
                                    .weight_std = kPaperWeightStd,
                                    .bias_value = bias});
    const std::string relu = torch_node("classifier." + std::to_string(index + 2), "Relu");
    return add_relu(b, relu, y, torch_output(relu));
  };

  std::string x = conv_relu(0, "data", channels, 64, 11, 4, 2, 0.f); // 55x55
  x = max_pool(2, x);                                                // 27x27
  x = conv_relu(3, x, 64, 192, 5, 1, 2, 1.f);
  x = max_pool(5, x); // 13x13
  x = conv_relu(6, x, 192, 384, 3, 1, 1, 0.f);
  x = conv_relu(8, x, 384, 256, 3, 1, 1, 1.f);
  x = conv_relu(10, x, 256, 256, 3, 1, 1, 1.f);
  x = max_pool(12, x); // 6x6
  const std::string avg = torch_node("avgpool", "AveragePool");
  x = add_average_pool(b, avg, x, torch_output(avg), {.kernel = 1, .stride = 1, .pads = {}});
  const std::string flatten = torch_node("", "Flatten");
  set_int_attr(b.add_node("Flatten", flatten, {x}, {torch_output(flatten)}), "axis", 1);
  x = dropout_linear(0, torch_output(flatten), 256 * 6 * 6, 4096, 1.f);
  x = dropout_linear(3, x, 4096, 4096, 1.f);
  x = add_gemm(b, x,
               {.node = torch_node("classifier.6", "Gemm"),
                .output = "logits",
                .weight = "classifier.6.weight",
                .bias = "classifier.6.bias",
                .in_features = 4096,
                .out_features = classes,
                .weight_std = kPaperWeightStd,
                .bias_value = 0.f});
  add_softmax(b, torch_node("", "Softmax"), x, "prob", 1);
  b.add_output("prob", opts.batch, {classes});
  b.add_output("logits", opts.batch, {classes});
  return model;
}

} // namespace anet::models
