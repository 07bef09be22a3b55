// Imports every ONNX node-test model (from the onnx Python package that
// ANET_PYTHON points at) that exercises an op anet supports, and checks the
// outcome of each against a table: the model imports and its output shapes
// equal the reference outputs' shapes, or it is refused for a known,
// genuinely unsupported reason (non-float data, 1-D/3-D windows, training
// modes, ...), with the message naming that reason. Inputs the importer
// needs as constants (a Reshape's shape, a Slice's starts, ...) are bound
// from the test's input_N.pb files, as a runtime that folds them would.
//
// Without the node tests (no python, no onnx) this test fails: it never
// skips silently.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include "frontend/onnx_import.h"

namespace anet {
namespace {

namespace fs = std::filesystem;

// The ONNX ops the importer supports (the list of the frontend's issue).
const std::set<std::string> kSupportedOps = {"Conv",        "Relu",
                                             "LRN",         "MaxPool",
                                             "AveragePool", "GlobalAveragePool",
                                             "Gemm",        "MatMul",
                                             "Add",         "Sub",
                                             "Mul",         "Div",
                                             "Flatten",     "Reshape",
                                             "Transpose",   "Concat",
                                             "Split",       "Slice",
                                             "Dropout",     "Softmax",
                                             "LogSoftmax",  "BatchNormalization",
                                             "Identity",    "Constant",
                                             "Clip",        "Sigmoid",
                                             "Tanh",        "Pad",
                                             "Squeeze",     "Unsqueeze"};

// Inputs that must be constants, by op (ONNX input positions).
const std::map<std::string, std::vector<int>> kConstantOperands = {
    {"Reshape", {1}}, {"Slice", {1, 2, 3, 4}}, {"Pad", {1, 2, 3}}, {"Clip", {1, 2}},
    {"Squeeze", {1}}, {"Unsqueeze", {1}},      {"Split", {1}},     {"Dropout", {1, 2}},
};

// Node tests anet refuses on purpose, with a fragment of the reason.
const std::map<std::string, std::string> kExpectedRefusals = {
    {"test_add_uint8", "only FLOAT inputs"},
    {"test_sub_uint8", "only FLOAT inputs"},
    {"test_mul_uint8", "only FLOAT inputs"},
    {"test_div_uint8", "only FLOAT inputs"},
    {"test_maxpool_2d_uint8", "only FLOAT inputs"},
    {"test_clip_default_int8_inbounds", "only FLOAT inputs"},
    {"test_clip_default_int8_inbounds_expanded", "only FLOAT inputs"},
    {"test_clip_default_int8_max", "only FLOAT inputs"},
    {"test_clip_default_int8_min", "only FLOAT inputs"},
    {"test_averagepool_1d_default", "only 2-D windows"},
    {"test_averagepool_3d_default", "only 2-D windows"},
    {"test_averagepool_3d_dilations_large_count_include_pad_is_0_ceil_mode_is_False",
     "only 2-D windows"},
    {"test_averagepool_3d_dilations_large_count_include_pad_is_0_ceil_mode_is_True",
     "only 2-D windows"},
    {"test_averagepool_3d_dilations_large_count_include_pad_is_1_ceil_mode_is_False",
     "only 2-D windows"},
    {"test_averagepool_3d_dilations_large_count_include_pad_is_1_ceil_mode_is_True",
     "only 2-D windows"},
    {"test_averagepool_3d_dilations_small", "only 2-D windows"},
    {"test_maxpool_1d_default", "only 2-D windows"},
    {"test_maxpool_3d_default", "only 2-D windows"},
    {"test_maxpool_3d_dilations", "only 2-D windows"},
    {"test_maxpool_3d_dilations_use_ref_impl", "only 2-D windows"},
    {"test_maxpool_3d_dilations_use_ref_impl_large", "only 2-D windows"},
    {"test_maxpool_with_argmax_2d_precomputed_pads", "Indices output"},
    {"test_maxpool_with_argmax_2d_precomputed_strides", "Indices output"},
    {"test_batchnorm_epsilon_training_mode", "training_mode=1"},
    {"test_batchnorm_example_training_mode", "training_mode=1"},
    {"test_training_dropout", "training_mode is true"},
    {"test_training_dropout_default", "training_mode is true"},
    {"test_training_dropout_default_mask", "training_mode is true"},
    {"test_training_dropout_mask", "training_mode is true"},
    {"test_training_dropout_zero_ratio", "training_mode is true"},
    {"test_training_dropout_zero_ratio_mask", "training_mode is true"},
    {"test_dropout_default_mask", "only the op's inference outputs"},
    {"test_dropout_default_mask_ratio", "only the op's inference outputs"},
    {"test_globalaveragepool", "opset 1 is not supported"},
    {"test_globalaveragepool_precomputed", "opset 1 is not supported"},
    {"test_identity_opt", "is not a tensor"},
    {"test_identity_sequence", "is not a tensor"},
    {"test_edge_pad", "only FLOAT inputs"},
    {"test_reflect_pad", "only FLOAT inputs"},
    {"test_wrap_pad", "only FLOAT inputs"},
};

bool read_model(const fs::path &path, onnx::ModelProto &model) {
  std::ifstream in(path, std::ios::binary);
  return in && model.ParseFromIstream(&in);
}

// Node tests whose model uses only supported ops. This takes in all the
// test_<op>... directories of supported ops, and others built from them
// (test_basic_conv_*, test_edge_pad, test_training_dropout_*, ...), but
// leaves out tests named after a supported op that exercise another one
// (test_convtranspose, test_softmax_*_expanded, test_constantofshape_*).
bool is_candidate(const onnx::ModelProto &model) {
  return std::all_of(
      model.graph().node().begin(), model.graph().node().end(), [](const onnx::NodeProto &n) {
        return (n.domain().empty() || n.domain() == "ai.onnx") && kSupportedOps.count(n.op_type());
      });
}

struct Outcome {
  bool imported = false;
  std::string message;
};

Outcome import_node_test(const fs::path &dir, const onnx::ModelProto &model) {
  std::vector<std::string> inputs;
  std::set<std::string> initializers;
  for (const auto &t : model.graph().initializer())
    initializers.insert(t.name());
  for (const auto &vi : model.graph().input())
    if (!initializers.count(vi.name()))
      inputs.push_back(vi.name());

  ImportOptions opts;
  for (const auto &node : model.graph().node()) {
    auto positions = kConstantOperands.find(node.op_type());
    if (positions == kConstantOperands.end())
      continue;
    for (int i : positions->second) {
      if (i >= node.input_size())
        continue;
      auto it = std::find(inputs.begin(), inputs.end(), node.input(i));
      if (it == inputs.end() || opts.bind_inputs.count(*it))
        continue;
      fs::path pb =
          dir / "test_data_set_0" / ("input_" + std::to_string(it - inputs.begin()) + ".pb");
      auto tensor = read_tensor_proto_file(pb.string());
      if (!tensor)
        return {false, "cannot read " + pb.string() + ": " + tensor.error().message};
      opts.bind_inputs[*it] = std::move(tensor).value();
    }
  }
  auto imported = import_onnx_file((dir / "model.onnx").string(), opts);
  if (!imported)
    return {false, imported.error().message};

  const Graph &g = imported->graph;
  for (size_t k = 0; k < g.outputs.size(); ++k) {
    fs::path pb = dir / "test_data_set_0" / ("output_" + std::to_string(k) + ".pb");
    auto expected = read_tensor_proto_file(pb.string());
    if (!expected)
      return {false, "cannot read " + pb.string() + ": " + expected.error().message};
    if (expected->type.shape != g.type(g.outputs[k]).shape)
      return {false, "output " + std::to_string(k) + " has shape " +
                         shape_string(g.type(g.outputs[k]).shape) + ", the reference has " +
                         shape_string(expected->type.shape)};
  }
  return {true, ""};
}

TEST(OnnxNodeTests, SupportedOpsImport) {
  const std::string node_dir = ANET_ONNX_NODE_TEST_DIR;
  ASSERT_FALSE(node_dir.empty()) << ANET_ONNX_NODE_TEST_PROBLEM;
  ASSERT_TRUE(fs::is_directory(node_dir)) << "ONNX node tests not found at " << node_dir;

  std::vector<std::string> tests;
  for (const auto &entry : fs::directory_iterator(node_dir))
    if (entry.is_directory())
      tests.push_back(entry.path().filename().string());
  std::sort(tests.begin(), tests.end());

  int candidates = 0, imported = 0, refused = 0;
  std::map<std::string, std::vector<std::string>> refusals; // reason -> tests
  for (const auto &test : tests) {
    fs::path dir = fs::path(node_dir) / test;
    onnx::ModelProto model;
    ASSERT_TRUE(read_model(dir / "model.onnx", model)) << test;
    if (!is_candidate(model))
      continue;
    ++candidates;
    Outcome outcome = import_node_test(dir, model);
    auto expected = kExpectedRefusals.find(test);
    if (outcome.imported) {
      ++imported;
      EXPECT_EQ(expected, kExpectedRefusals.end())
          << test << " imports but should be refused (" << expected->second << ")";
      continue;
    }
    ++refused;
    refusals[outcome.message.substr(outcome.message.find(": ") + 2)].push_back(test);
    if (expected == kExpectedRefusals.end()) {
      ADD_FAILURE() << test << " is refused: " << outcome.message;
    } else {
      EXPECT_NE(outcome.message.find(expected->second), std::string::npos)
          << test << " is refused for another reason than '" << expected->second
          << "': " << outcome.message;
      EXPECT_EQ(outcome.message.rfind((dir / "model.onnx").string(), 0), 0u)
          << "the message must start with the file name: " << outcome.message;
    }
  }
  std::cout << "ONNX node tests of supported ops: " << candidates << " candidates, " << imported
            << " imported, " << refused << " refused\n";
  for (const auto &[reason, names] : refusals) {
    std::cout << "  refused (" << names.size() << "): " << reason << "\n    ";
    for (const auto &n : names)
      std::cout << n << " ";
    std::cout << "\n";
  }
  // Every candidate not in kExpectedRefusals imports; this pins the count so that
  // a change in the node tests (or the candidate rule) is noticed.
  EXPECT_GE(imported, 166);
  EXPECT_EQ(refused, static_cast<int>(kExpectedRefusals.size()));
}

} // namespace
} // namespace anet
