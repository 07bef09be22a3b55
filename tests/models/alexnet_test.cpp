// Tests of "alexnet" against the paper (PAPER.md): parameter count and
// shapes computed by hand, neurons per layer from ONNX's shape inference, the
// layer attributes (LRN constants, groups, overlapping pooling, dropout), the
// initialisation rule; and of "alexnet-mini": the same topology at its own
// sizes, with He-scaled weights.

#include <cmath>
#include <cstring>
#include <iostream>
#include <map>

#include <gtest/gtest.h>

#include "models/alexnet.h"
#include "tests/models/model_inspect.h"

namespace anet::models {
namespace {

using namespace anet::models::testing;

// Parameters of a convolution with `out` kernels of `in_per_group` x k x k.
constexpr int64_t conv_params(int64_t out, int64_t in_per_group, int64_t k) {
  return out * in_per_group * k * k + out;
}
// Parameters of a fully connected layer.
constexpr int64_t fc_params(int64_t in, int64_t out) { return in * out + out; }

// The op types of the family in graph order.
const std::vector<std::string> kFamilyOps = {
    "Conv", "Relu", "LRN",     "MaxPool", "Conv", "Relu",    "LRN",     "MaxPool",
    "Conv", "Relu", "Conv",    "Relu",    "Conv", "Relu",    "MaxPool", "Flatten",
    "Gemm", "Relu", "Dropout", "Gemm",    "Relu", "Dropout", "Gemm",    "Softmax"};

std::vector<std::string> op_types(const onnx::ModelProto &m) {
  std::vector<std::string> ops;
  for (const onnx::NodeProto &n : m.graph().node())
    ops.push_back(n.op_type());
  return ops;
}

TEST(AlexNet, ParametersAreThePapers) {
  const onnx::ModelProto m = build_or_fail("alexnet");
  // conv2, conv4 and conv5 see half the channels (groups 2).
  constexpr int64_t expected = conv_params(96, 3, 11) + conv_params(256, 48, 5) +
                               conv_params(384, 256, 3) + conv_params(384, 192, 3) +
                               conv_params(256, 192, 3) + fc_params(256 * 6 * 6, 4096) +
                               fc_params(4096, 4096) + fc_params(4096, 1000);
  static_assert(expected == 60'965'224, "about 60 million parameters, as the paper says");
  EXPECT_EQ(parameter_count(m), expected);
  std::cout << "alexnet parameters: " << parameter_count(m) << "\n";

  const std::map<std::string, std::vector<int64_t>> shapes = {
      {"conv1.weight", {96, 3, 11, 11}},  {"conv1.bias", {96}},
      {"conv2.weight", {256, 48, 5, 5}},  {"conv2.bias", {256}},
      {"conv3.weight", {384, 256, 3, 3}}, {"conv3.bias", {384}},
      {"conv4.weight", {384, 192, 3, 3}}, {"conv4.bias", {384}},
      {"conv5.weight", {256, 192, 3, 3}}, {"conv5.bias", {256}},
      {"fc6.weight", {4096, 9216}},       {"fc6.bias", {4096}},
      {"fc7.weight", {4096, 4096}},       {"fc7.bias", {4096}},
      {"fc8.weight", {1000, 4096}},       {"fc8.bias", {1000}},
  };
  EXPECT_EQ(m.graph().initializer_size(), static_cast<int>(shapes.size()));
  for (const auto &[name, shape] : shapes) {
    const onnx::TensorProto *t = find_initializer(m, name);
    ASSERT_NE(t, nullptr) << name;
    EXPECT_EQ(dims(*t), shape) << name;
  }
}

TEST(AlexNet, NeuronsPerLayerMatchThePaper) {
  BuildOptions opts;
  opts.batch = 1;
  const onnx::ModelProto m = with_inferred_shapes(build_or_fail("alexnet", opts));
  // Output maps of the eight learned layers. The paper prints 253,440 for
  // conv1, which is no number of 96 square maps (it is 55 * 48 * 96); with
  // 227x227 inputs conv1 gives the 55x55 maps of the paper's figure,
  // 55 * 55 * 96 = 290,400. The other seven numbers match the paper.
  const std::vector<std::pair<std::string, std::vector<int64_t>>> layers = {
      {"conv1", {1, 96, 55, 55}},  {"conv2", {1, 256, 27, 27}}, {"conv3", {1, 384, 13, 13}},
      {"conv4", {1, 384, 13, 13}}, {"conv5", {1, 256, 13, 13}}, {"fc6", {1, 4096}},
      {"fc7", {1, 4096}},          {"logits", {1, 1000}},
  };
  const std::vector<int64_t> paper = {290'400, 186'624, 64'896, 64'896, 43'264, 4096, 4096, 1000};
  int64_t total = 0;
  for (size_t i = 0; i < layers.size(); ++i) {
    const std::vector<int64_t> d = inferred_dims(m, layers[i].first);
    EXPECT_EQ(d, layers[i].second) << layers[i].first;
    EXPECT_EQ(product(d), paper[i]) << layers[i].first;
    total += product(d);
  }
  // "650,000 neurons".
  EXPECT_EQ(total, 659'272);
  EXPECT_EQ(inferred_dims(m, "pool5"), (std::vector<int64_t>{1, 256, 6, 6}));
  EXPECT_EQ(inferred_dims(m, "flatten"), (std::vector<int64_t>{1, 9216}));
}

TEST(AlexNet, GraphIsThePapers) {
  const onnx::ModelProto m = build_or_fail("alexnet");
  EXPECT_EQ(m.ir_version(), 8);
  ASSERT_EQ(m.opset_import_size(), 1);
  EXPECT_EQ(m.opset_import(0).domain(), "");
  EXPECT_EQ(m.opset_import(0).version(), 17);
  // Input 3x227x227 (Caffe's choice, see models/alexnet.cpp).
  const auto &shape = m.graph().input(0).type().tensor_type().shape();
  ASSERT_EQ(shape.dim_size(), 4);
  EXPECT_EQ(shape.dim(1).dim_value(), 3);
  EXPECT_EQ(shape.dim(2).dim_value(), 227);
  EXPECT_EQ(shape.dim(3).dim_value(), 227);
  EXPECT_EQ(op_types(m), kFamilyOps);
  // Groups: the two-GPU split of conv2, conv4 and conv5; conv3 reads all.
  const std::map<std::string, std::pair<int64_t, std::vector<int64_t>>> convs = {
      {"conv1", {1, {11, 4, 0}}}, {"conv2", {2, {5, 1, 2}}}, {"conv3", {1, {3, 1, 1}}},
      {"conv4", {2, {3, 1, 1}}},  {"conv5", {2, {3, 1, 1}}},
  };
  for (const auto &[name, spec] : convs) {
    const onnx::NodeProto *n = find_producer(m, name);
    ASSERT_NE(n, nullptr) << name;
    EXPECT_EQ(n->name(), name);
    EXPECT_EQ(n->op_type(), "Conv");
    const auto [group, ksp] = spec;
    EXPECT_EQ(find_attr(*n, "group")->i(), group) << name;
    EXPECT_EQ(ints_attr(*n, "kernel_shape"), (std::vector<int64_t>{ksp[0], ksp[0]})) << name;
    EXPECT_EQ(ints_attr(*n, "strides"), (std::vector<int64_t>{ksp[1], ksp[1]})) << name;
    EXPECT_EQ(ints_attr(*n, "pads"), (std::vector<int64_t>(4, ksp[2]))) << name;
    EXPECT_EQ(n->input(1), name + ".weight");
    EXPECT_EQ(n->input(2), name + ".bias");
  }
  // LRN after the ReLUs of conv1 and conv2 with k=2, n=5, alpha=1e-4 (ONNX
  // multiplies by n), beta=0.75.
  for (const char *k : {"1", "2"}) {
    const onnx::NodeProto *n = find_producer(m, std::string("norm") + k);
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(n->op_type(), "LRN");
    EXPECT_EQ(n->input(0), std::string("relu") + k);
    EXPECT_EQ(find_attr(*n, "size")->i(), 5);
    EXPECT_FLOAT_EQ(find_attr(*n, "alpha")->f(), 5e-4f);
    EXPECT_FLOAT_EQ(find_attr(*n, "beta")->f(), 0.75f);
    EXPECT_FLOAT_EQ(find_attr(*n, "bias")->f(), 2.f);
  }
  // Overlapping max pooling: window 3, stride 2, no padding.
  for (const char *name : {"pool1", "pool2", "pool5"}) {
    const onnx::NodeProto *n = find_producer(m, name);
    ASSERT_NE(n, nullptr) << name;
    EXPECT_EQ(ints_attr(*n, "kernel_shape"), (std::vector<int64_t>{3, 3}));
    EXPECT_EQ(ints_attr(*n, "strides"), (std::vector<int64_t>{2, 2}));
    EXPECT_EQ(find_attr(*n, "pads"), nullptr);
  }
  // Fully connected layers: Gemm with weights [out, in].
  for (const onnx::NodeProto *n : nodes_of_type(m, "Gemm"))
    EXPECT_EQ(find_attr(*n, "transB")->i(), 1) << n->name();
  // Dropout after the ReLUs of fc6 and fc7, at ONNX's default ratio 0.5.
  const auto drops = nodes_of_type(m, "Dropout");
  ASSERT_EQ(drops.size(), 2u);
  EXPECT_EQ(drops[0]->input(0), "relu6");
  EXPECT_EQ(drops[1]->input(0), "relu7");
  for (const onnx::NodeProto *n : drops) {
    EXPECT_EQ(n->input_size(), 1);
    EXPECT_EQ(n->attribute_size(), 0);
  }
  const onnx::NodeProto *prob = find_producer(m, "prob");
  ASSERT_NE(prob, nullptr);
  EXPECT_EQ(prob->op_type(), "Softmax");
  EXPECT_EQ(prob->input(0), "logits");
  EXPECT_EQ(find_attr(*prob, "axis")->i(), 1);
}

TEST(AlexNet, InitialisationFollowsThePaper) {
  BuildOptions opts;
  opts.seed = 3;
  const onnx::ModelProto m = build_or_fail("alexnet", opts);
  for (const char *layer : {"conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"})
    expect_normal_weights(m, std::string(layer) + ".weight", 0.01);
  // Biases 1 in conv2, conv4, conv5, fc6 and fc7, 0 elsewhere.
  for (const char *layer : {"conv2", "conv4", "conv5", "fc6", "fc7"})
    expect_filled(m, std::string(layer) + ".bias", 1.f);
  for (const char *layer : {"conv1", "conv3", "fc8"})
    expect_filled(m, std::string(layer) + ".bias", 0.f);
}

TEST(AlexNet, OptionsResizeInputAndClassifier) {
  BuildOptions opts;
  opts.batch = 16;
  opts.num_classes = 10;
  opts.channels = 1;
  const onnx::ModelProto m = build_or_fail("alexnet", opts);
  for (const auto *v : {&m.graph().input(0), &m.graph().output(0), &m.graph().output(1)})
    EXPECT_EQ(v->type().tensor_type().shape().dim(0).dim_value(), 16) << v->name();
  EXPECT_EQ(dims(*find_initializer(m, "conv1.weight")), (std::vector<int64_t>{96, 1, 11, 11}));
  EXPECT_EQ(dims(*find_initializer(m, "fc8.weight")), (std::vector<int64_t>{10, 4096}));
  EXPECT_EQ(dims(*find_initializer(m, "fc8.bias")), (std::vector<int64_t>{10}));
  const onnx::ModelProto inferred = with_inferred_shapes(m);
  EXPECT_EQ(inferred_dims(inferred, "conv1"), (std::vector<int64_t>{16, 96, 55, 55}));
  EXPECT_EQ(inferred_dims(inferred, "prob"), (std::vector<int64_t>{16, 10}));
  EXPECT_EQ(inferred_dims(inferred, "logits"), (std::vector<int64_t>{16, 10}));
}

TEST(AlexNetMini, SameTopologyAndNamesAsAlexNet) {
  const onnx::ModelProto mini = build_or_fail("alexnet-mini");
  const onnx::ModelProto full = build_or_fail("alexnet");
  ASSERT_EQ(mini.graph().node_size(), full.graph().node_size());
  for (int i = 0; i < full.graph().node_size(); ++i) {
    const onnx::NodeProto &a = mini.graph().node(i), &b = full.graph().node(i);
    EXPECT_EQ(a.op_type(), b.op_type()) << i;
    EXPECT_EQ(a.name(), b.name()) << i;
    EXPECT_EQ(std::vector<std::string>(a.input().begin(), a.input().end()),
              std::vector<std::string>(b.input().begin(), b.input().end()))
        << i;
    if (a.op_type() == "Conv") {
      EXPECT_EQ(find_attr(a, "group")->i(), find_attr(b, "group")->i()) << a.name();
    }
    if (a.op_type() == "LRN") {
      for (const char *attr : {"alpha", "beta", "bias"})
        EXPECT_EQ(find_attr(a, attr)->f(), find_attr(b, attr)->f()) << attr;
    }
    if (a.op_type() == "MaxPool") {
      EXPECT_EQ(ints_attr(a, "kernel_shape"), ints_attr(b, "kernel_shape"));
      EXPECT_EQ(ints_attr(a, "strides"), ints_attr(b, "strides"));
    }
  }
  EXPECT_EQ(mini.ir_version(), 8);
  EXPECT_EQ(mini.opset_import(0).version(), 17);
}

TEST(AlexNetMini, ParameterCount) {
  const onnx::ModelProto m = build_or_fail("alexnet-mini");
  constexpr int64_t expected = conv_params(32, 1, 3) + conv_params(64, 16, 5) +
                               conv_params(96, 64, 3) + conv_params(96, 48, 3) +
                               conv_params(64, 48, 3) + fc_params(64 * 3 * 3, 1024) +
                               fc_params(1024, 1024) + fc_params(1024, 10);
  static_assert(expected == 1'801'354);
  EXPECT_EQ(parameter_count(m), expected);
  std::cout << "alexnet-mini parameters: " << parameter_count(m) << "\n";
}

TEST(AlexNetMini, ShapesPerLayer) {
  BuildOptions opts;
  opts.batch = 1;
  const onnx::ModelProto m = with_inferred_shapes(build_or_fail("alexnet-mini", opts));
  const std::vector<std::pair<std::string, std::vector<int64_t>>> expected = {
      {"conv1", {1, 32, 28, 28}}, {"pool1", {1, 32, 14, 14}}, {"conv2", {1, 64, 14, 14}},
      {"pool2", {1, 64, 7, 7}},   {"conv3", {1, 96, 7, 7}},   {"conv4", {1, 96, 7, 7}},
      {"conv5", {1, 64, 7, 7}},   {"pool5", {1, 64, 3, 3}},   {"flatten", {1, 576}},
      {"fc6", {1, 1024}},         {"fc7", {1, 1024}},         {"logits", {1, 10}},
      {"prob", {1, 10}},
  };
  for (const auto &[value, shape] : expected)
    EXPECT_EQ(inferred_dims(m, value), shape) << value;
}

TEST(AlexNetMini, InitialisationIsHeScaled) {
  BuildOptions opts;
  opts.seed = 11;
  const onnx::ModelProto m = build_or_fail("alexnet-mini", opts);
  // N(0, 2 / fan_in) before each ReLU; fan_in = in/group * k * k.
  const std::map<std::string, int64_t> fan_in = {
      {"conv1", 1 * 9},  {"conv2", 16 * 25}, {"conv3", 64 * 9}, {"conv4", 48 * 9},
      {"conv5", 48 * 9}, {"fc6", 576},       {"fc7", 1024},
  };
  for (const auto &[layer, n] : fan_in)
    expect_normal_weights(m, layer + ".weight", std::sqrt(2.0 / static_cast<double>(n)));
  expect_normal_weights(m, "fc8.weight", 0.01);
  for (const char *layer : {"conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"})
    expect_filled(m, std::string(layer) + ".bias", 0.f);
}

TEST(AlexNetMini, WeightsArePinned) {
  // The first weights of seed 0, bit for bit: a change here changes every
  // model built from a seed, on every platform.
  const onnx::ModelProto m = build_or_fail("alexnet-mini");
  const std::vector<float> w = float_values(*find_initializer(m, "conv1.weight"));
  ASSERT_GE(w.size(), 4u);
  // (conv1 is 3x3: these are the 5x5 sizing's values times sqrt(25 / 9).)
  const std::vector<uint32_t> expected = {3211184867u, 1053783541u, 1025130023u, 1054089951u};
  for (size_t i = 0; i < expected.size(); ++i) {
    uint32_t bits;
    std::memcpy(&bits, &w[i], sizeof bits);
    EXPECT_EQ(bits, expected[i]) << i << ": " << w[i];
  }
}

} // namespace
} // namespace anet::models
