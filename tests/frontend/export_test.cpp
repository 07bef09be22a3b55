// Export of trained weights into the original ONNX model: AlexNet models
// are imported, every weight is changed, and the exported model is checked
// by ONNX's own checker, re-imported (exactly the new weights, the same
// graph), and run by onnxruntime against anet's reference executor. Also the
// external data layout and the errors a user can cause.

#include "frontend/onnx_export.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <unistd.h>

#include <onnx/onnx_pb.h>

#include "frontend/onnx_import.h"
#include "models/alexnet.h"
#include "runtime/device.h"
#include "runtime/executor.h"
#include "runtime/io/npy.h"

namespace anet {
namespace {

namespace fs = std::filesystem;

/// A fresh directory for one test, removed afterwards.
struct ScratchDir {
  fs::path path;
  explicit ScratchDir(const std::string &name)
      : path(fs::temp_directory_path() /
             ("anet_export_" + name + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~ScratchDir() { fs::remove_all(path); }
};

/// `name` built with batch 1; every other float initializer is moved from
/// raw_data to float_data, so export meets both storage forms.
std::string build_original(const std::string &name) {
  models::BuildOptions opts;
  opts.seed = 5;
  opts.batch = 1;
  auto model = models::build_model(name, opts);
  EXPECT_TRUE(model.ok()) << model.error().message;
  int index = 0;
  for (onnx::TensorProto &t : *model->mutable_graph()->mutable_initializer()) {
    if (t.data_type() != onnx::TensorProto::FLOAT || !t.has_raw_data() || index++ % 2 == 0)
      continue;
    std::vector<float> v(t.raw_data().size() / sizeof(float));
    std::memcpy(v.data(), t.raw_data().data(), t.raw_data().size());
    t.clear_raw_data();
    t.mutable_float_data()->Add(v.begin(), v.end());
  }
  return model->SerializeAsString();
}

/// Every weight changed: scaled, and offset by its index and its position.
WeightStore trained(const WeightStore &weights) {
  WeightStore out = weights;
  int k = 0;
  for (auto &[name, values] : out) {
    for (size_t i = 0; i < values.size(); ++i)
      values[i] = values[i] * 1.5f + 1e-4f * static_cast<float>(static_cast<int>(i % 7) - 3) +
                  1e-5f * static_cast<float>(k);
    ++k;
  }
  return out;
}

/// The model with the initializers' data removed: what export must keep.
std::string without_weight_data(const std::string &bytes) {
  onnx::ModelProto model;
  EXPECT_TRUE(model.ParseFromString(bytes));
  for (onnx::TensorProto &t : *model.mutable_graph()->mutable_initializer()) {
    t.clear_raw_data();
    t.clear_float_data();
    t.clear_external_data();
    t.clear_data_location();
  }
  return model.SerializeAsString();
}

std::string read_bytes(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// ONNX's Python checker, full check, loading external data from the model's folder.
void expect_onnx_checker_passes(const fs::path &model) {
  std::string cmd = std::string(ANET_PYTHON) +
                    " -c \"import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), "
                    "full_check=True)\" " +
                    model.string();
  EXPECT_EQ(std::system(cmd.c_str()), 0) << "ONNX checker failed: " << cmd;
}

/// Runs the re-imported model with anet's reference executor and `model` with
/// onnxruntime on one random input; returns the largest max|a-b| / max|b|.
double max_relative_difference_to_ort(const ImportedModel &imported, const fs::path &model,
                                      const fs::path &dir) {
  const Graph &g = imported.graph;
  Tensor input(g.type(g.inputs[0]));
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> uniform(-2.f, 2.f);
  for (float &x : input.data)
    x = uniform(rng);
  fs::path input_path = dir / "input.npy";
  EXPECT_TRUE(write_npy(input_path.string(), input).ok());

  auto device = make_device("cpu-ref");
  EXPECT_TRUE(device.ok()) << device.error().message;
  auto exec = Executor::create(g, imported.weights, **device);
  EXPECT_TRUE(exec.ok()) << exec.error().message;
  auto ours = exec->run({input});
  EXPECT_TRUE(ours.ok()) << ours.error().message;

  std::string prefix = (dir / "ort_out").string();
  std::string cmd = std::string(ANET_PYTHON) + " " + ANET_ORT_RUN + " " + model.string() + " " +
                    input_path.string() + " " + prefix;
  EXPECT_EQ(std::system(cmd.c_str()), 0) << "onnxruntime oracle failed: " << cmd;
  double worst = 0;
  for (size_t i = 0; i < ours->size(); ++i) {
    auto theirs = read_npy(prefix + std::to_string(i) + ".npy");
    EXPECT_TRUE(theirs.ok()) << theirs.error().message;
    const Tensor &a = (*ours)[i];
    EXPECT_EQ(a.type.shape, theirs->type.shape);
    double diff = 0, scale = 0;
    for (size_t k = 0; k < a.data.size(); ++k) {
      diff = std::max(diff, std::fabs(static_cast<double>(a.data[k]) - theirs->data[k]));
      scale = std::max(scale, std::fabs(static_cast<double>(theirs->data[k])));
    }
    EXPECT_GT(scale, 0) << "output " << i << " is all zeros: the comparison proves nothing";
    std::printf("%s output %zu '%s': max|a-b| = %.3g, max|b| = %.3g, ratio = %.3g\n",
                model.filename().c_str(), i, g.value(g.outputs[i]).name.c_str(), diff, scale,
                diff / scale);
    worst = std::max(worst, diff / scale);
  }
  return worst;
}

class ExportModel : public ::testing::TestWithParam<const char *> {};

TEST_P(ExportModel, WritesTrainedWeightsIntoTheOriginalModel) {
  std::string name = GetParam();
  ScratchDir dir(name);
  std::string original = build_original(name);
  auto imported = import_onnx_bytes(original, "", name, ImportOptions{});
  ASSERT_TRUE(imported.ok()) << imported.error().message;
  ASSERT_FALSE(imported->weights.empty());
  WeightStore weights = trained(imported->weights);

  auto exported = export_onnx(imported->onnx_bytes, weights, name);
  ASSERT_TRUE(exported.ok()) << exported.error().message;
  fs::path path = dir.path / (name + ".onnx");
  ASSERT_TRUE(write_exported_model(imported->onnx_bytes, weights, path.string()).ok());
  EXPECT_EQ(read_bytes(path), *exported);
  EXPECT_FALSE(fs::exists(path.string() + ".data"));

  onnx::ModelProto model;
  ASSERT_TRUE(model.ParseFromString(*exported));
  for (const onnx::TensorProto &t : model.graph().initializer()) {
    if (weights.count(t.name())) {
      EXPECT_EQ(t.float_data_size(), 0) << t.name();
      EXPECT_EQ(t.raw_data().size(), weights.at(t.name()).size() * sizeof(float)) << t.name();
    }
  }
  expect_onnx_checker_passes(path);
  EXPECT_EQ(without_weight_data(*exported), without_weight_data(original));
  auto reimported = import_onnx_file(path.string(), ImportOptions{});
  ASSERT_TRUE(reimported.ok()) << reimported.error().message;
  EXPECT_TRUE(reimported->weights == weights);
  EXPECT_EQ(reimported->opset, imported->opset);

  EXPECT_LT(max_relative_difference_to_ort(*reimported, path, dir.path), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Models, ExportModel, ::testing::Values("alexnet-mini", "alexnet-caffe"),
                         [](const auto &info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

TEST(Export, LargeModelsStoreInitializersAsExternalData) {
  ScratchDir dir("external");
  std::string original = build_original("alexnet-mini");
  auto imported = import_onnx_bytes(original, "", "alexnet-mini", ImportOptions{});
  ASSERT_TRUE(imported.ok()) << imported.error().message;
  WeightStore weights = trained(imported->weights);
  fs::path path = dir.path / "mini.onnx";
  ExportOptions opts;
  opts.external_data_threshold_bytes = 1;
  auto written = write_exported_model(original, weights, path.string(), opts);
  ASSERT_TRUE(written.ok()) << written.error().message;
  ASSERT_TRUE(fs::exists(dir.path / "mini.onnx.data"));

  onnx::ModelProto model;
  ASSERT_TRUE(model.ParseFromString(read_bytes(path)));
  for (const onnx::TensorProto &t : model.graph().initializer()) {
    if (!weights.count(t.name()))
      continue;
    ASSERT_EQ(t.data_location(), onnx::TensorProto::EXTERNAL) << t.name();
    for (const auto &entry : t.external_data()) {
      if (entry.key() == "location") {
        EXPECT_EQ(entry.value(), "mini.onnx.data");
      } else if (entry.key() == "offset") {
        EXPECT_EQ(std::stoll(entry.value()) % 4096, 0) << t.name();
      }
    }
  }
  expect_onnx_checker_passes(path);
  auto reimported = import_onnx_file(path.string(), ImportOptions{});
  ASSERT_TRUE(reimported.ok()) << reimported.error().message;
  EXPECT_TRUE(reimported->weights == weights);
  EXPECT_LT(max_relative_difference_to_ort(*reimported, path, dir.path), 1e-4);

  // An original stored with external data exports with the data inline.
  WeightStore again = trained(weights);
  auto inline_bytes = export_onnx(reimported->onnx_bytes, again, "mini.onnx");
  ASSERT_TRUE(inline_bytes.ok()) << inline_bytes.error().message;
  auto inline_model = import_onnx_bytes(*inline_bytes, "", "inline", ImportOptions{});
  ASSERT_TRUE(inline_model.ok()) << inline_model.error().message;
  EXPECT_TRUE(inline_model->weights == again);
}

/// A one-weight model: y = x * w.
struct TinyModel {
  std::string bytes;
  TinyModel() {
    onnx::ModelProto m;
    m.set_ir_version(7);
    m.add_opset_import()->set_version(13);
    auto *g = m.mutable_graph();
    g->set_name("tiny");
    onnx::TensorProto *w = g->add_initializer();
    w->set_name("w");
    w->set_data_type(onnx::TensorProto::FLOAT);
    w->add_dims(2);
    w->add_float_data(1.f);
    w->add_float_data(2.f);
    onnx::TensorProto *k = g->add_initializer();
    k->set_name("k");
    k->set_data_type(onnx::TensorProto::INT64);
    k->add_int64_data(7);
    onnx::NodeProto *n = g->add_node();
    n->set_op_type("Mul");
    n->add_input("x");
    n->add_input("w");
    n->add_output("y");
    for (auto *v : {g->add_input(), g->add_output()}) {
      v->set_name(v == &g->input(0) ? "x" : "y");
      auto *tt = v->mutable_type()->mutable_tensor_type();
      tt->set_elem_type(onnx::TensorProto::FLOAT);
      tt->mutable_shape()->add_dim()->set_dim_value(2);
    }
    bytes = m.SerializeAsString();
  }
};

TEST(Export, UnknownWeightIsAnError) {
  auto r = export_onnx(TinyModel().bytes, {{"w", {3.f, 4.f}}, {"v", {1.f}}}, "tiny.onnx");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ExitCode::IncompatiblePlan);
  EXPECT_NE(r.error().message.find("'v'"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.rfind("tiny.onnx", 0), 0u) << r.error().message;
}

TEST(Export, WronglySizedWeightIsAnError) {
  auto r = export_onnx(TinyModel().bytes, {{"w", {3.f, 4.f, 5.f}}}, "tiny.onnx");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ExitCode::IncompatiblePlan);
  EXPECT_NE(r.error().message.find("'w' has 3 elements"), std::string::npos) << r.error().message;
}

TEST(Export, WeightInANonFloatInitializerIsAnError) {
  auto r = export_onnx(TinyModel().bytes, {{"k", {7.f}}}, "tiny.onnx");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ExitCode::IncompatiblePlan);
  EXPECT_NE(r.error().message.find("'k'"), std::string::npos) << r.error().message;
}

TEST(Export, UnparseableOriginalIsAnInvalidModel) {
  auto r = export_onnx("\xff\xff not a model", {}, "bad.onnx");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ExitCode::InvalidModel);
  auto empty = export_onnx("", {}, "empty.onnx");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, ExitCode::InvalidModel);
}

TEST(Export, KeepsInitializersThatAreNotWeights) {
  auto r = export_onnx(TinyModel().bytes, {}, "tiny.onnx");
  ASSERT_TRUE(r.ok()) << r.error().message;
  onnx::ModelProto m;
  ASSERT_TRUE(m.ParseFromString(*r));
  ASSERT_EQ(m.graph().initializer(0).float_data_size(), 2);
  EXPECT_EQ(m.graph().initializer(0).float_data(1), 2.f);
  ASSERT_EQ(m.graph().initializer(1).int64_data_size(), 1);
  EXPECT_EQ(m.graph().initializer(1).int64_data(0), 7);
}

TEST(Export, MissingOutputDirectoryIsAnIOError) {
  ScratchDir dir("missing");
  std::string path = (dir.path / "no" / "such" / "model.onnx").string();
  auto r = write_exported_model(TinyModel().bytes, {{"w", {3.f, 4.f}}}, path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ExitCode::IO);
  EXPECT_NE(r.error().message.find(path), std::string::npos) << r.error().message;
}

/// Failures keep the file already at the output path and leave no temporary file.
TEST(Export, FailedWriteKeepsTheExistingModel) {
  ScratchDir dir("unwritable");
  fs::path path = dir.path / "model.onnx";
  std::ofstream(path) << "previous model";
  // The data file's name is taken by a directory: the rename of the data
  // fails, before the model is touched (this works as root too).
  fs::create_directories(dir.path / "model.onnx.data" / "occupied");
  ExportOptions opts;
  opts.external_data_threshold_bytes = 1;
  auto r = write_exported_model(TinyModel().bytes, {{"w", {3.f, 4.f}}}, path.string(), opts);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ExitCode::IO);
  EXPECT_NE(r.error().message.find("model.onnx.data"), std::string::npos) << r.error().message;
  EXPECT_EQ(read_bytes(path), "previous model");

  if (::geteuid() != 0) { // permissions do not stop root
    fs::remove_all(dir.path / "model.onnx.data");
    fs::permissions(dir.path, fs::perms::owner_read | fs::perms::owner_exec);
    auto denied = write_exported_model(TinyModel().bytes, {{"w", {3.f, 4.f}}}, path.string());
    fs::permissions(dir.path, fs::perms::owner_all);
    ASSERT_FALSE(denied.ok());
    EXPECT_EQ(denied.error().code, ExitCode::IO);
    EXPECT_EQ(read_bytes(path), "previous model");
  }
  for (const auto &entry : fs::directory_iterator(dir.path))
    EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos)
        << "temporary file left behind: " << entry.path();
}

} // namespace
} // namespace anet
