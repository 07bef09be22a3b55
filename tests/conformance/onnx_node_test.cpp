// ONNX's node tests against anet: every node test directory of the installed
// onnx wheel whose model is a single node of one of our ops is imported with
// the frontend, run on the reference device, and compared with the expected
// outputs at the tolerance of ONNX's backend test runner (rtol 1e-3,
// atol 1e-7). Each test is
//   passed          imported, ran, and matched;
//   failed          ran and mismatched, or failed after a successful import;
//   not applicable  refused at import (non-float types, non-2-D windows,
//                   training-mode outputs, ...), with the importer's reason.
// The suite fails if any test fails or fewer pass than the recorded floor.
//
// Operands our IR holds as attributes (Reshape's shape, Slice's starts, Pad's
// pads, Clip's bounds, ...) are graph inputs in many node tests; they are
// bound as constants through ImportOptions::bind_inputs.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <onnx/onnx_pb.h>

#include "frontend/onnx_import.h"
#include "runtime/device.h"
#include "runtime/executor.h"

namespace anet {
namespace {

namespace fs = std::filesystem;

// Tests passing at the time of writing (onnx 1.16.2): fewer is a regression.
constexpr int kPassedFloor = 165;

// ONNX's backend test runner compares with numpy.testing.assert_allclose at
// these tolerances.
constexpr double kRtol = 1e-3;
constexpr double kAtol = 1e-7;

// Ops whose non-first inputs anet folds into attributes: the node tests feed
// them as graph inputs, so they are bound as constants.
const std::set<std::string> kConstantOperandOps = {"Reshape", "Slice",     "Pad",   "Clip",
                                                   "Squeeze", "Unsqueeze", "Split", "Dropout"};

enum class Outcome { Passed, Failed, NotApplicable };

struct CaseResult {
  std::string name;
  Outcome outcome;
  std::string detail;
};

std::string read_file(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

// The single default-domain node of the model, if the model has exactly one
// node and it is one of our ops.
const onnx::NodeProto *our_single_node(const onnx::ModelProto &model) {
  if (model.graph().node_size() != 1)
    return nullptr;
  const onnx::NodeProto &node = model.graph().node(0);
  bool default_domain = node.domain().empty() || node.domain() == "ai.onnx";
  return default_domain && op_from_name(node.op_type()) ? &node : nullptr;
}

// Index of the graph input called `name`, or -1.
int model_input_index(const onnx::ModelProto &model, const std::string &name) {
  for (int i = 0; i < model.graph().input_size(); ++i)
    if (model.graph().input(i).name() == name)
      return i;
  return -1;
}

// Compares `got` with `want` as numpy.testing.assert_allclose(want, got) does;
// returns what differs, or "" if they match.
std::string compare(const Tensor &got, const Tensor &want) {
  if (got.type.shape != want.type.shape)
    return "shape " + shape_string(got.type.shape) + ", expected " + shape_string(want.type.shape);
  int64_t bad = 0, first = -1;
  for (size_t i = 0; i < want.data.size(); ++i) {
    double g = got.data[i], w = want.data[i];
    bool ok =
        std::isnan(w) ? std::isnan(g) : (g == w || std::abs(g - w) <= kAtol + kRtol * std::abs(w));
    if (!ok && bad++ == 0)
      first = static_cast<int64_t>(i);
  }
  if (bad == 0)
    return "";
  std::ostringstream os;
  os << bad << " of " << want.data.size() << " elements differ; first at " << first << ": got "
     << got.data[static_cast<size_t>(first)] << ", expected "
     << want.data[static_cast<size_t>(first)];
  return os.str();
}

// Runs one test data set of an imported model; returns a failure or "".
std::string run_data_set(const onnx::ModelProto &model, const ImportedModel &imported,
                         Executor &executor, const fs::path &set_dir) {
  const Graph &g = imported.graph;
  std::vector<Tensor> inputs;
  for (ValueId v : g.inputs) {
    int index = model_input_index(model, g.value(v).name);
    if (index < 0)
      return "program input '" + g.value(v).name + "' is not an input of the model";
    auto t =
        read_tensor_proto_file((set_dir / ("input_" + std::to_string(index) + ".pb")).string());
    if (!t)
      return t.error().message;
    inputs.push_back(std::move(*t));
  }
  auto outputs = executor.run(inputs);
  if (!outputs)
    return "run: " + outputs.error().message;
  if (outputs->size() != static_cast<size_t>(model.graph().output_size()))
    return "program has " + std::to_string(outputs->size()) + " outputs, the model " +
           std::to_string(model.graph().output_size());
  for (size_t k = 0; k < outputs->size(); ++k) {
    const std::string &name = model.graph().output(static_cast<int>(k)).name();
    if (g.value(g.outputs[k]).name != name)
      return "program output " + std::to_string(k) + " is '" + g.value(g.outputs[k]).name +
             "', the model's is '" + name + "'";
    auto want =
        read_tensor_proto_file((set_dir / ("output_" + std::to_string(k) + ".pb")).string());
    if (!want)
      return want.error().message;
    std::string diff = compare((*outputs)[k], *want);
    if (!diff.empty())
      return "output '" + name + "': " + diff;
  }
  return "";
}

// Imports, runs and checks one node test; nullopt if it is not for our ops.
std::optional<CaseResult> run_case(const fs::path &dir, Device &device) {
  CaseResult result{dir.filename().string(), Outcome::Failed, ""};
  onnx::ModelProto model;
  if (!model.ParseFromString(read_file(dir / "model.onnx"))) {
    result.detail = "model.onnx does not parse as an ONNX ModelProto";
    return result;
  }
  const onnx::NodeProto *node = our_single_node(model);
  if (!node)
    return std::nullopt;

  std::vector<fs::path> sets;
  for (const auto &entry : fs::directory_iterator(dir))
    if (entry.is_directory() && entry.path().filename().string().starts_with("test_data_set_"))
      sets.push_back(entry.path());
  std::sort(sets.begin(), sets.end());
  if (sets.empty()) {
    result.detail = "no test_data_set_* directory";
    return result;
  }

  ImportOptions options;
  if (kConstantOperandOps.count(node->op_type()))
    for (int i = 1; i < node->input_size(); ++i) {
      int index = model_input_index(model, node->input(i));
      if (index < 0)
        continue; // an initializer or an omitted optional input
      auto t =
          read_tensor_proto_file((sets[0] / ("input_" + std::to_string(index) + ".pb")).string());
      if (!t) {
        result.detail = t.error().message;
        return result;
      }
      options.bind_inputs[node->input(i)] = std::move(*t);
    }

  auto imported = import_onnx_file((dir / "model.onnx").string(), options);
  if (!imported) {
    // The importer's message starts with the model's path: drop it.
    std::string prefix = (dir / "model.onnx").string() + ": ";
    result.outcome = Outcome::NotApplicable;
    result.detail = imported.error().message;
    if (result.detail.starts_with(prefix))
      result.detail.erase(0, prefix.size());
    return result;
  }
  auto executor = Executor::create(imported->graph, imported->weights, device);
  if (!executor) {
    result.detail = "executor: " + executor.error().message;
    return result;
  }
  for (const fs::path &set : sets) {
    std::string failure = run_data_set(model, *imported, *executor, set);
    if (!failure.empty()) {
      result.detail = set.filename().string() + ": " + failure;
      return result;
    }
  }
  result.outcome = Outcome::Passed;
  return result;
}

TEST(OnnxNodeTests, ReferenceDeviceMatchesOnnx) {
  const std::string root = ANET_ONNX_NODE_TESTS;
  ASSERT_FALSE(root.empty()) << "the ONNX node tests were not found at configure time: "
                             << ANET_ONNX_NODE_TESTS_ERROR;
  ASSERT_TRUE(fs::is_directory(root)) << root << " is not a directory";

  std::vector<fs::path> dirs;
  for (const auto &entry : fs::directory_iterator(root))
    if (entry.is_directory())
      dirs.push_back(entry.path());
  std::sort(dirs.begin(), dirs.end());

  std::unique_ptr<Device> device = make_reference_device();
  std::vector<CaseResult> results;
  for (const fs::path &dir : dirs)
    if (auto r = run_case(dir, *device))
      results.push_back(std::move(*r));

  auto count = [&](Outcome o) {
    return std::count_if(results.begin(), results.end(),
                         [&](const CaseResult &r) { return r.outcome == o; });
  };
  auto passed = count(Outcome::Passed), failed = count(Outcome::Failed),
       not_applicable = count(Outcome::NotApplicable);
  std::cout << "ONNX node tests: " << passed << " passed, " << failed << " failed, "
            << not_applicable << " not applicable (of our ops)\n";
  for (const CaseResult &r : results)
    if (r.outcome == Outcome::NotApplicable)
      std::cout << "  not applicable: " << r.name << ": " << r.detail << "\n";
  for (const CaseResult &r : results)
    if (r.outcome == Outcome::Failed)
      ADD_FAILURE() << r.name << ": " << r.detail;
  EXPECT_EQ(failed, 0);
  EXPECT_GE(passed, kPassedFloor) << "fewer ONNX node tests pass than before";
}

} // namespace
} // namespace anet
