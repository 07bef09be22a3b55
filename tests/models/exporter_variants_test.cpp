// Tests of the exporter-styled variants: "alexnet-caffe" must carry each quirk
// of the old Caffe2 exporter and "alexnet-torchvision" each of torch.onnx's
// (see models/exporter_variants.cpp), at the layer sizes of those networks.

#include <cstring>
#include <set>

#include <gtest/gtest.h>

#include "models/alexnet.h"
#include "tests/models/model_inspect.h"

namespace anet::models {
namespace {

using namespace anet::models::testing;

constexpr int64_t conv_params(int64_t out, int64_t in_per_group, int64_t k) {
  return out * in_per_group * k * k + out;
}
constexpr int64_t fc_params(int64_t in, int64_t out) { return in * out + out; }

TEST(AlexNetCaffe, ParametersAreCaffesAlexNet) {
  const onnx::ModelProto m = build_or_fail("alexnet-caffe");
  constexpr int64_t expected = conv_params(96, 3, 11) + conv_params(256, 48, 5) +
                               conv_params(384, 256, 3) + conv_params(384, 192, 3) +
                               conv_params(256, 192, 3) + fc_params(9216, 4096) +
                               fc_params(4096, 4096) + fc_params(4096, 1000);
  static_assert(expected == 60'965'224);
  EXPECT_EQ(parameter_count(m), expected);
  EXPECT_EQ(dims(*find_initializer(m, "conv2_w_0")), (std::vector<int64_t>{256, 48, 5, 5}));
  EXPECT_EQ(dims(*find_initializer(m, "fc6_w_0")), (std::vector<int64_t>{4096, 9216}));
  expect_normal_weights(m, "conv1_w_0", 0.01);
  expect_normal_weights(m, "fc7_w_0", 0.01);
  for (const char *b : {"conv2_b_0", "conv4_b_0", "conv5_b_0", "fc6_b_0", "fc7_b_0"})
    expect_filled(m, b, 1.f);
  for (const char *b : {"conv1_b_0", "conv3_b_0", "fc8_b_0"})
    expect_filled(m, b, 0.f);
}

TEST(AlexNetCaffe, ExporterQuirks) {
  const onnx::ModelProto m = build_or_fail("alexnet-caffe");

  EXPECT_EQ(m.ir_version(), 4);
  EXPECT_EQ(m.opset_import(0).version(), 9);
  // graph.input: "data" first, then every initializer.
  ASSERT_EQ(m.graph().input_size(), 1 + m.graph().initializer_size());
  EXPECT_EQ(m.graph().input(0).name(), "data");
  std::set<std::string> inputs;
  for (const auto &in : m.graph().input())
    inputs.insert(in.name());
  for (const auto &t : m.graph().initializer())
    EXPECT_TRUE(inputs.count(t.name())) << t.name();
  for (const onnx::NodeProto &n : m.graph().node())
    EXPECT_TRUE(n.name().empty()) << n.name();
  // LRN with Caffe's k=1 and alpha=1e-4 (already divided by the size).
  const auto lrns = nodes_of_type(m, "LRN");
  ASSERT_EQ(lrns.size(), 2u);
  for (const onnx::NodeProto *n : lrns) {
    EXPECT_EQ(find_attr(*n, "size")->i(), 5);
    EXPECT_FLOAT_EQ(find_attr(*n, "alpha")->f(), 1e-4f);
    EXPECT_FLOAT_EQ(find_attr(*n, "beta")->f(), 0.75f);
    EXPECT_FLOAT_EQ(find_attr(*n, "bias")->f(), 1.f);
  }
  // Ceil-mode pooling written as bottom/right pads on pool1 and pool5.
  EXPECT_EQ(ints_attr(*find_producer(m, "pool1_1"), "pads"), (std::vector<int64_t>{0, 0, 1, 1}));
  EXPECT_EQ(find_attr(*find_producer(m, "pool2_1"), "pads"), nullptr);
  EXPECT_EQ(ints_attr(*find_producer(m, "pool5_1"), "pads"), (std::vector<int64_t>{0, 0, 1, 1}));
  // Reshape to [0, -1] from an int64 initializer; no Flatten.
  EXPECT_TRUE(nodes_of_type(m, "Flatten").empty());
  const auto reshapes = nodes_of_type(m, "Reshape");
  ASSERT_EQ(reshapes.size(), 1u);
  const onnx::TensorProto *shape = find_initializer(m, reshapes[0]->input(1));
  ASSERT_NE(shape, nullptr);
  EXPECT_EQ(shape->data_type(), onnx::TensorProto::INT64);
  ASSERT_EQ(shape->raw_data().size(), 2 * sizeof(int64_t));
  int64_t target[2];
  std::memcpy(target, shape->raw_data().data(), sizeof target);
  EXPECT_EQ(target[0], 0);
  EXPECT_EQ(target[1], -1);
  // Dropout-7: ratio attribute and the mask output.
  const auto drops = nodes_of_type(m, "Dropout");
  ASSERT_EQ(drops.size(), 2u);
  for (const onnx::NodeProto *n : drops) {
    EXPECT_FLOAT_EQ(find_attr(*n, "ratio")->f(), 0.5f);
    EXPECT_EQ(n->output_size(), 2);
  }
  // Convolutions: conv2, conv4, conv5 in two groups.
  const auto convs = nodes_of_type(m, "Conv");
  ASSERT_EQ(convs.size(), 5u);
  const std::vector<int64_t> groups = {1, 2, 1, 2, 2};
  for (size_t i = 0; i < convs.size(); ++i)
    EXPECT_EQ(find_attr(*convs[i], "group")->i(), groups[i]) << i;
  for (const onnx::NodeProto *n : nodes_of_type(m, "Gemm"))
    EXPECT_EQ(find_attr(*n, "transB")->i(), 1);
  // Softmax at opset 9's default axis (1).
  const onnx::NodeProto *prob = find_producer(m, "prob");
  ASSERT_NE(prob, nullptr);
  EXPECT_EQ(prob->op_type(), "Softmax");
  EXPECT_EQ(find_attr(*prob, "axis"), nullptr);
}

TEST(AlexNetCaffe, PooledSizesAreCaffes) {
  BuildOptions opts;
  opts.batch = 1;
  const onnx::ModelProto m = with_inferred_shapes(build_or_fail("alexnet-caffe", opts));
  EXPECT_EQ(inferred_dims(m, "conv1_1"), (std::vector<int64_t>{1, 96, 55, 55}));
  EXPECT_EQ(inferred_dims(m, "pool1_1"), (std::vector<int64_t>{1, 96, 27, 27}));
  EXPECT_EQ(inferred_dims(m, "pool2_1"), (std::vector<int64_t>{1, 256, 13, 13}));
  EXPECT_EQ(inferred_dims(m, "pool5_1"), (std::vector<int64_t>{1, 256, 6, 6}));
}

TEST(AlexNetTorchvision, ParametersAreTorchvisions) {
  const onnx::ModelProto m = build_or_fail("alexnet-torchvision");
  constexpr int64_t expected = conv_params(64, 3, 11) + conv_params(192, 64, 5) +
                               conv_params(384, 192, 3) + conv_params(256, 384, 3) +
                               conv_params(256, 256, 3) + fc_params(9216, 4096) +
                               fc_params(4096, 4096) + fc_params(4096, 1000);
  static_assert(expected == 61'100'840, "torchvision's AlexNet has 61,100,840 parameters");
  EXPECT_EQ(parameter_count(m), expected);
  EXPECT_EQ(dims(*find_initializer(m, "features.3.weight")), (std::vector<int64_t>{192, 64, 5, 5}));
  EXPECT_EQ(dims(*find_initializer(m, "classifier.1.weight")), (std::vector<int64_t>{4096, 9216}));
  EXPECT_EQ(dims(*find_initializer(m, "classifier.6.bias")), (std::vector<int64_t>{1000}));
  expect_normal_weights(m, "features.0.weight", 0.01);
  expect_filled(m, "features.3.bias", 1.f);
  expect_filled(m, "classifier.1.bias", 1.f);
  expect_filled(m, "classifier.6.bias", 0.f);
}

TEST(AlexNetTorchvision, ExporterQuirks) {
  const onnx::ModelProto m = build_or_fail("alexnet-torchvision");

  EXPECT_EQ(m.ir_version(), 7);
  EXPECT_EQ(m.opset_import(0).version(), 14);
  ASSERT_EQ(m.graph().input_size(), 1);
  const auto &shape = m.graph().input(0).type().tensor_type().shape();
  EXPECT_EQ(m.graph().input(0).name(), "data");
  EXPECT_EQ(shape.dim(0).dim_param(), "N");
  EXPECT_EQ(shape.dim(1).dim_value(), 3);
  EXPECT_EQ(shape.dim(2).dim_value(), 224);
  EXPECT_EQ(shape.dim(3).dim_value(), 224);
  EXPECT_NE(find_producer(m, "/features/features.0/Conv_output_0"), nullptr);
  EXPECT_EQ(find_producer(m, "/features/features.0/Conv_output_0")->name(),
            "/features/features.0/Conv");
  EXPECT_TRUE(nodes_of_type(m, "LRN").empty());
  const auto convs = nodes_of_type(m, "Conv");
  ASSERT_EQ(convs.size(), 5u);
  for (const onnx::NodeProto *n : convs)
    EXPECT_EQ(find_attr(*n, "group")->i(), 1) << n->name();
  EXPECT_EQ(ints_attr(*convs[0], "pads"), (std::vector<int64_t>{2, 2, 2, 2}));
  EXPECT_EQ(ints_attr(*convs[0], "strides"), (std::vector<int64_t>{4, 4}));
  // Adaptive pooling to 6x6 on a 6x6 map: a 1x1 AveragePool.
  const auto avg = nodes_of_type(m, "AveragePool");
  ASSERT_EQ(avg.size(), 1u);
  EXPECT_EQ(ints_attr(*avg[0], "kernel_shape"), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(ints_attr(*avg[0], "strides"), (std::vector<int64_t>{1, 1}));
  const auto flatten = nodes_of_type(m, "Flatten");
  ASSERT_EQ(flatten.size(), 1u);
  EXPECT_EQ(find_attr(*flatten[0], "axis")->i(), 1);
  // Dropout-13 before fc6 and fc7, its ratio a scalar initializer of 0.5.
  const auto drops = nodes_of_type(m, "Dropout");
  ASSERT_EQ(drops.size(), 2u);
  for (const onnx::NodeProto *n : drops) {
    ASSERT_EQ(n->input_size(), 2);
    const onnx::TensorProto *ratio = find_initializer(m, n->input(1));
    ASSERT_NE(ratio, nullptr);
    EXPECT_EQ(ratio->dims_size(), 0);
    EXPECT_EQ(float_values(*ratio), (std::vector<float>{0.5f}));
  }
  const auto gemms = nodes_of_type(m, "Gemm");
  ASSERT_EQ(gemms.size(), 3u);
  EXPECT_EQ(find_producer(m, gemms[0]->input(0))->op_type(), "Dropout");
  EXPECT_EQ(find_producer(m, gemms[1]->input(0))->op_type(), "Dropout");
  EXPECT_EQ(find_producer(m, gemms[2]->input(0))->op_type(), "Relu");
  for (const onnx::NodeProto *n : gemms)
    EXPECT_EQ(find_attr(*n, "transB")->i(), 1);
}

TEST(AlexNetTorchvision, ShapesPerLayer) {
  BuildOptions opts;
  opts.batch = 2;
  const onnx::ModelProto m = with_inferred_shapes(build_or_fail("alexnet-torchvision", opts));
  const std::vector<std::pair<std::string, std::vector<int64_t>>> expected = {
      {"/features/features.0/Conv_output_0", {2, 64, 55, 55}},
      {"/features/features.2/MaxPool_output_0", {2, 64, 27, 27}},
      {"/features/features.5/MaxPool_output_0", {2, 192, 13, 13}},
      {"/features/features.12/MaxPool_output_0", {2, 256, 6, 6}},
      {"/avgpool/AveragePool_output_0", {2, 256, 6, 6}},
      {"/Flatten_output_0", {2, 9216}},
      {"logits", {2, 1000}},
      {"prob", {2, 1000}},
  };
  for (const auto &[value, shape] : expected)
    EXPECT_EQ(inferred_dims(m, value), shape) << value;
}

} // namespace
} // namespace anet::models
