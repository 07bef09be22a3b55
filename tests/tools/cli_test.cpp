/// End-to-end tests of the built anetc and anetrun binaries: every error path
/// with its exit code and message, --version and --help, and the happy path
/// model -> compile -> inspect -> infer (PNG, JPEG, .npy) -> bench.

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <numeric>
#include <set>

#include <nlohmann/json.hpp>
#include <onnx/onnx_pb.h>

#include "runtime/io/npy.h"
#include "tests/tools/fixtures.h"

namespace anet {
namespace {

using testing::RunResult;
using testing::ScratchDir;

RunResult anetc(const std::vector<std::string> &args) {
  return testing::run_program(ANETC_PATH, args);
}
RunResult anetrun(const std::vector<std::string> &args) {
  return testing::run_program(ANETRUN_PATH, args);
}

bool contains(const std::string &s, const std::string &part) {
  return s.find(part) != std::string::npos;
}

/// Checks a failed run: its exit code, "tool: error: " on stderr with
/// `part` in the message, and nothing that looks like a crash.
void expect_failure(const RunResult &r, int code, const std::string &tool,
                    const std::string &part) {
  EXPECT_EQ(r.signal, 0) << "crashed: " << r.err;
  EXPECT_EQ(r.exit_code, code) << r.err;
  EXPECT_TRUE(contains(r.err, tool + ": error: ")) << r.err;
  EXPECT_TRUE(contains(r.err, part)) << "expected '" << part << "' in: " << r.err;
}

/// A one-node ONNX model: `op`(x) -> y with x and y of shape `dims`.
void write_one_node_model(const std::string &path, const std::string &op,
                          const std::vector<int64_t> &dims) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("anet-tests");
  auto *opset = m.add_opset_import();
  opset->set_domain("");
  opset->set_version(17);
  auto *g = m.mutable_graph();
  g->set_name("one_node");
  for (auto [list, name] : {std::pair{g->mutable_input(), "x"}, {g->mutable_output(), "y"}}) {
    auto *v = list->Add();
    v->set_name(name);
    auto *t = v->mutable_type()->mutable_tensor_type();
    t->set_elem_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims)
      t->mutable_shape()->add_dim()->set_dim_value(d);
  }
  auto *node = g->add_node();
  node->set_op_type(op);
  node->set_name("the_node");
  node->add_input("x");
  node->add_output("y");
  std::ofstream f(path, std::ios::binary);
  ASSERT_TRUE(m.SerializeToOstream(&f));
}

/// A grey 28x28-ish test picture as RGB bytes: a bright square on dark.
std::vector<uint8_t> square_picture(int w, int h) {
  std::vector<uint8_t> p;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const bool inside = std::abs(x - w / 2) < w / 4 && std::abs(y - h / 2) < h / 4;
      const uint8_t v = inside ? 220 : 20;
      p.insert(p.end(), {v, static_cast<uint8_t>(v / 2), static_cast<uint8_t>(255 - v)});
    }
  return p;
}

/// Builds alexnet-mini, compiles it, and writes inputs of each kind once for
/// the whole suite.
class Cli : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = new ScratchDir;
    RunResult r = anetc({"model", "alexnet-mini", "-o", path("mini.onnx"), "--seed", "7"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = anetc({"compile", path("mini.onnx"), "-o", path("mini.plan")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    testing::write_bytes(path("square.png"),
                         testing::encode_png_rgb8(40, 36, square_picture(40, 36)));
    testing::write_bytes(path("square.jpg"),
                         testing::encode_jpeg(40, 36, 3, square_picture(40, 36), 95));
    Tensor t(TensorType{DType::F32, {3, 1, 28, 28}});
    for (size_t i = 0; i < t.data.size(); ++i)
      t.data[i] = static_cast<float>((i * 37) % 255) - 100.0f;
    ASSERT_TRUE(write_npy(path("three.npy"), t).ok());
    Tensor one(TensorType{DType::F32, {1, 28, 28}});
    one.data.assign(t.data.begin(), t.data.begin() + 28 * 28);
    ASSERT_TRUE(write_npy(path("one.npy"), one).ok());
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string path(const std::string &name) { return dir_->path(name); }

  static ScratchDir *dir_;
};

ScratchDir *Cli::dir_ = nullptr;

// ---------------------------------------------------------------- usage

TEST_F(Cli, NoArgumentsIsUsageError) {
  expect_failure(anetc({}), 2, "anetc", "subcommand");
  expect_failure(anetrun({}), 2, "anetrun", "subcommand");
}

TEST_F(Cli, UnknownFlagIsUsageError) {
  expect_failure(anetc({"--frobnicate"}), 2, "anetc", "frobnicate");
  expect_failure(anetc({"compile", path("mini.onnx"), "-o", path("x.plan"), "--frobnicate"}), 2,
                 "anetc", "frobnicate");
  expect_failure(anetrun({"infer", path("mini.plan"), path("one.npy"), "--frobnicate=1"}), 2,
                 "anetrun", "frobnicate");
}

TEST_F(Cli, BadFlagValuesAreUsageErrors) {
  expect_failure(anetc({"compile", path("mini.onnx"), "-o", path("x.plan"), "--batch=abc"}), 2,
                 "anetc", "batch");
  expect_failure(anetc({"compile", path("mini.onnx"), "-o", path("x.plan"), "--batch", "0"}), 2,
                 "anetc", "batch");
  expect_failure(anetc({"compile", path("mini.onnx")}), 2, "anetc", "--output");
  expect_failure(anetc({"model", "vgg16", "-o", path("v.onnx")}), 2, "anetc", "vgg16");
  expect_failure(anetrun({"infer", path("mini.plan")}), 2, "anetrun", "inputs");
  expect_failure(anetrun({"infer", path("mini.plan"), path("one.npy"), "--top-k", "0"}), 2,
                 "anetrun", "top-k");
  expect_failure(anetrun({"infer", path("mini.plan"), path("one.npy"), "--device", "tpu"}), 2,
                 "anetrun", "tpu");
  expect_failure(anetrun({"bench", path("mini.plan"), "--iterations", "0"}), 2, "anetrun",
                 "iterations");
  expect_failure(anetrun({"bench", path("mini.plan"), "--warmup=-1"}), 2, "anetrun", "warmup");
  expect_failure(anetrun({"bench", path("mini.plan"), "--threads", "0"}), 2, "anetrun", "threads");
  expect_failure(anetrun({"bench", path("mini.plan"), "--program", "train_step"}), 4, "anetrun",
                 "no 'train_step' program");
  expect_failure(anetrun({"bench", path("mini.plan"), "--peak-gflops", "-1"}), 2, "anetrun",
                 "peak-gflops");
  expect_failure(anetrun({"bench", path("mini.plan"), "--gpus", "0,x"}), 2, "anetrun", "gpus");
  expect_failure(anetrun({"bench", path("mini.plan"), "--gpus=0,-1"}), 2, "anetrun", "gpus");
  expect_failure(anetrun({"bench", path("mini.plan"), "--gpus", "0,1"}), 2, "anetrun",
                 "only the cuda device runs on GPUs");
}

TEST_F(Cli, PreprocessingFlagsAreChecked) {
  const std::string model = path("mini.onnx"), out = path("x.plan");
  expect_failure(anetc({"compile", model, "-o", out, "--resize", "20"}), 2, "anetc",
                 "smaller than the model's input crop 28x28");
  expect_failure(anetc({"compile", model, "-o", out, "--resize", "20", "--pad", "3"}), 2, "anetc",
                 "--resize 20 and --pad 3 make a patch of 26, smaller than the model's input "
                 "crop 28x28");
  expect_failure(anetc({"compile", model, "-o", out, "--pad", "-1"}), 2, "anetc", "--pad");
  expect_failure(anetc({"compile", model, "-o", out, "--pad", "16385"}), 2, "anetc", "--pad");
  expect_failure(anetc({"compile", model, "-o", out, "--mean", "1,2,3"}), 2, "anetc", "1 channels");
  expect_failure(anetc({"compile", model, "-o", out, "--mean", "grey"}), 2, "anetc",
                 "'grey' is not a finite number");
  expect_failure(anetc({"compile", model, "-o", out, "--scale", "0"}), 2, "anetc",
                 "--scale 0 must be a positive finite number");
  expect_failure(anetc({"compile", model, "-o", out, "--scale", "-0.5"}), 2, "anetc",
                 "must be a positive finite number");
}

TEST_F(Cli, VersionNamesEveryComponent) {
  for (const auto &r : {anetc({"--version"}), anetrun({"--version"})}) {
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(contains(r.out, "plan format version: 1")) << r.out;
    EXPECT_TRUE(contains(r.out, "ONNX library: ")) << r.out;
    EXPECT_TRUE(contains(r.out, "LLVM: ")) << r.out;
    EXPECT_TRUE(contains(r.out, "CUDA: ")) << r.out;
  }
  EXPECT_TRUE(contains(anetc({"--version"}).out, "anetc 0.")) << anetc({"--version"}).out;
}

TEST_F(Cli, HelpIsGroupedByTopicWithDefaults) {
  RunResult r = anetc({"compile", "--help"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const char *part : {"Output:", "Import:", "Preprocessing:", "--resize", "--pad", "--mean",
                           "--scale", "--labels", "--batch", "123.68,116.78,103.94"})
    EXPECT_TRUE(contains(r.out, part)) << part << " missing from:\n" << r.out;
  r = anetc({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char *part : {"compile", "inspect", "model", "--version"})
    EXPECT_TRUE(contains(r.out, part)) << part << " missing from:\n" << r.out;
  r = anetrun({"infer", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char *part : {"Output:", "Execution:", "--top-k", "=5", "--device TEXT:{cpu",
                           "--threads", "--kernel-cache", "--json"})
    EXPECT_TRUE(contains(r.out, part)) << part << " missing from:\n" << r.out;
  r = anetrun({"bench", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char *part : {"Measurement:", "=20", "=5", "--warmup"})
    EXPECT_TRUE(contains(r.out, part)) << part << " missing from:\n" << r.out;
}

// ---------------------------------------------------------------- bad models

TEST_F(Cli, MissingModelIsIoError) {
  expect_failure(anetc({"compile", path("absent.onnx"), "-o", path("x.plan")}), 74, "anetc",
                 "absent.onnx");
  EXPECT_FALSE(std::ifstream(path("x.plan")).good());
}

TEST_F(Cli, GarbageModelsAreInvalid) {
  testing::write_bytes(path("empty.onnx"), {});
  std::vector<uint8_t> noise(4096);
  uint32_t s = 12345;
  for (auto &b : noise) {
    s = s * 1103515245 + 12345;
    b = static_cast<uint8_t>(s >> 24);
  }
  testing::write_bytes(path("noise.onnx"), noise);
  auto model = testing::read_bytes(path("mini.onnx"));
  model.resize(model.size() / 2);
  testing::write_bytes(path("truncated.onnx"), model);
  for (const char *name : {"empty.onnx", "noise.onnx", "truncated.onnx"})
    expect_failure(anetc({"compile", path(name), "-o", path("x.plan")}), 3, "anetc", name);
}

TEST_F(Cli, UnsupportedOpIsInvalid) {
  write_one_node_model(path("hardmax.onnx"), "Hardmax", {1, 4});
  expect_failure(anetc({"compile", path("hardmax.onnx"), "-o", path("x.plan")}), 3, "anetc",
                 "Hardmax");
}

TEST_F(Cli, AbsurdDimensionsAreInvalid) {
  write_one_node_model(path("huge.onnx"), "Relu", {1, 3, int64_t{1} << 40, int64_t{1} << 40});
  expect_failure(anetc({"compile", path("huge.onnx"), "-o", path("x.plan")}), 3, "anetc",
                 "huge.onnx");
}

TEST_F(Cli, UnwritableOutputIsIoError) {
  expect_failure(anetc({"compile", path("mini.onnx"), "-o", path("no/such/dir/x.plan")}), 74,
                 "anetc", "x.plan");
}

// ---------------------------------------------------------------- bad plans

TEST_F(Cli, BadPlansAreIncompatible) {
  const auto plan = testing::read_bytes(path("mini.plan"));
  auto truncated = plan;
  truncated.resize(plan.size() / 2);
  testing::write_bytes(path("truncated.plan"), truncated);
  auto tampered = plan;
  tampered[plan.size() / 2] ^= 0x40;
  testing::write_bytes(path("tampered.plan"), tampered);
  auto future = plan;
  future[8] = 2; // the format version, right after the 8-byte magic
  testing::write_bytes(path("future.plan"), future);
  testing::write_text(path("text.plan"), "this is not a plan\n");

  expect_failure(anetrun({"infer", path("truncated.plan"), path("one.npy")}), 4, "anetrun",
                 "truncated.plan");
  expect_failure(anetrun({"infer", path("tampered.plan"), path("one.npy")}), 4, "anetrun",
                 "tampered.plan");
  expect_failure(anetrun({"bench", path("future.plan")}), 4, "anetrun", "version 2");
  expect_failure(anetc({"inspect", path("text.plan")}), 4, "anetc", "text.plan");
  expect_failure(anetc({"inspect", path("tampered.plan")}), 4, "anetc", "tampered.plan");
  expect_failure(anetrun({"infer", path("absent.plan"), path("one.npy")}), 74, "anetrun",
                 "absent.plan");
}

// ---------------------------------------------------------------- bad inputs

TEST_F(Cli, BadInputsAreReported) {
  const std::string plan = path("mini.plan");
  expect_failure(anetrun({"infer", plan, path("absent.png")}), 74, "anetrun",
                 "absent.png: No such file");
  auto jpeg = testing::read_bytes(path("square.jpg"));
  jpeg.resize(jpeg.size() / 2);
  testing::write_bytes(path("half.jpg"), jpeg);
  expect_failure(anetrun({"infer", plan, path("half.jpg")}), 5, "anetrun",
                 "half.jpg: corrupt JPEG: ");
  testing::write_text(path("notes.png"), "just text");
  expect_failure(anetrun({"infer", plan, path("notes.png")}), 5, "anetrun",
                 "not a JPEG, PNG or .npy file");
  Tensor wrong(TensorType{DType::F32, {3, 28, 28}});
  ASSERT_TRUE(write_npy(path("wrong.npy"), wrong).ok());
  expect_failure(anetrun({"infer", plan, path("wrong.npy")}), 5, "anetrun", "[1,28,28]");
}

TEST_F(Cli, LabelsMustMatchTheClasses) {
  testing::write_text(path("five.txt"), "a\nb\nc\nd\ne\n");
  expect_failure(
      anetc({"compile", path("mini.onnx"), "-o", path("x.plan"), "--labels", path("five.txt")}), 5,
      "anetc", "5 labels but the model's output 'prob' has 10 classes");
  expect_failure(
      anetc({"compile", path("mini.onnx"), "-o", path("x.plan"), "--labels", path("absent.txt")}),
      74, "anetc", "absent.txt");
}

// ---------------------------------------------------------------- happy paths

TEST_F(Cli, InspectPrintsTextAndJson) {
  RunResult r = anetc({"inspect", path("mini.plan")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "infer")) << r.out;
  r = anetc({"inspect", path("mini.plan"), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["format_version"], 1);
  EXPECT_EQ(j["source_name"], "mini.onnx");
  EXPECT_EQ(j["programs"][0]["name"], "infer");
  EXPECT_EQ(j["preprocess"]["resize"], 32); // 28 * 8 / 7
  EXPECT_TRUE(j["preprocess"]["mean"].empty()) << "no default mean for one channel";
  EXPECT_GT(j["onnx_bytes"].get<int64_t>(), 0);
}

TEST_F(Cli, PadFramesImagesOfTheCropsSize) {
  RunResult r = anetc({"compile", path("mini.onnx"), "-o", path("pad.plan"), "--pad", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "resize 28, pad 2")) << r.out;
  r = anetc({"inspect", path("pad.plan"), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["preprocess"]["resize"], 28); // framed, not enlarged
  EXPECT_EQ(j["preprocess"]["pad"], 2);
  r = anetc({"compile", path("mini.onnx"), "-o", path("pad.plan"), "--pad=1", "--resize=30"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = nlohmann::json::parse(anetc({"inspect", path("pad.plan"), "--json"}).out);
  EXPECT_EQ(j["preprocess"]["resize"], 30);
  EXPECT_EQ(j["preprocess"]["pad"], 1);
  EXPECT_TRUE(contains(anetc({"inspect", path("pad.plan")}).out, "resize 30, pad 1"));
}

TEST_F(Cli, CompileSummaryAndDefaults) {
  RunResult r = anetc({"model", "alexnet-mini", "-o", path("rgb.onnx"), "--channels", "3",
                       "--num-classes", "4", "--batch", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = anetc({"compile", path("rgb.onnx"), "-o", path("rgb.plan")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "wrote " + path("rgb.plan"))) << r.out;
  EXPECT_TRUE(contains(r.out, "f32[2,3,28,28]")) << r.out;
  r = anetc({"inspect", path("rgb.plan"), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["preprocess"]["mean"].size(), 3u) << "ImageNet means for RGB inputs";
  EXPECT_NEAR(j["preprocess"]["mean"][0].get<double>(), 123.68, 1e-4);
}

// ---------------------------------------------------------------- passes

TEST_F(Cli, TwoDevicePlansClassifyLikeOneDevice) {
  RunResult r =
      anetc({"model", "alexnet-mini", "-o", path("mini2.onnx"), "--seed", "7", "--batch", "4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = anetc({"compile", path("mini2.onnx"), "-o", path("one.plan")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char *partition : {"model", "data"}) {
    SCOPED_TRACE(partition);
    std::string plan = path(std::string(partition) + ".plan");
    r = anetc(
        {"compile", path("mini2.onnx"), "-o", plan, "--devices", "2", "--partition", partition});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = anetc({"inspect", plan, "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["programs"][0]["devices"].size(), 2u);
    EXPECT_GT(j["programs"][0]["transfer_bytes"].get<int64_t>(), 0);
    std::set<std::string> layers;
    for (const auto &t : j["programs"][0]["transfers"])
      layers.insert(t["layer"].get<std::string>());
    if (std::string(partition) == "model") {
      // The paper's communication: conv3 and the fully connected layers.
      for (const char *layer : {"conv3", "fc6", "fc7", "fc8"})
        EXPECT_TRUE(layers.count(layer)) << layer << " reads nothing from the other device";
      EXPECT_FALSE(layers.count("conv2")) << "grouped conv2 must stay on its own device";
    }

    RunResult one = anetrun(
        {"infer", path("one.plan"), path("three.npy"), "--json", "--output", path("one_out.npy")});
    RunResult two =
        anetrun({"infer", plan, path("three.npy"), "--json", "--output", path("two_out.npy")});
    ASSERT_EQ(one.exit_code, 0) << one.err;
    ASSERT_EQ(two.exit_code, 0) << two.err;
    EXPECT_EQ(nlohmann::json::parse(two.out)["kind"], "prob");
    auto a = read_npy(path("one_out.npy")), b = read_npy(path("two_out.npy"));
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_EQ(a->data.size(), b->data.size());
    for (size_t i = 0; i < a->data.size(); ++i)
      EXPECT_NEAR(a->data[i], b->data[i], 1e-6f * std::max(1.0f, std::fabs(a->data[i])));
  }
}

TEST_F(Cli, PassFlagsPrintAndDisable) {
  RunResult r =
      anetc({"compile", path("mini.onnx"), "-o", path("p.plan"), "--print-after", "fuse"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "// IR after fuse")) << r.out;
  EXPECT_TRUE(contains(r.out, "activation=\"Relu\"")) << r.out;
  r = anetc(
      {"compile", path("mini.onnx"), "-o", path("p.plan"), "--disable-pass=fuse", "--print-ir"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "// IR as compiled")) << r.out;
  EXPECT_FALSE(contains(r.out, "activation=")) << r.out;
  expect_failure(
      anetc({"compile", path("mini.onnx"), "-o", path("p.plan"), "--print-after", "fusion"}), 2,
      "anetc", "no pass is called 'fusion' (the passes: canonicalise");
  expect_failure(anetc({"compile", path("mini.onnx"), "-o", path("p.plan"), "--devices", "0"}), 2,
                 "anetc", "--devices");
  expect_failure(
      anetc({"compile", path("mini.onnx"), "-o", path("p.plan"), "--partition", "pipeline"}), 2,
      "anetc", "--partition");
}

TEST_F(Cli, InspectDrawsThePartitionedGraph) {
  RunResult r = anetc({"compile", path("mini.onnx"), "-o", path("d.plan"), "--devices", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = anetc({"inspect", path("d.plan"), "--format", "dot"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "subgraph cluster_device0")) << r.out;
  EXPECT_TRUE(contains(r.out, "subgraph cluster_device1")) << r.out;
  EXPECT_TRUE(contains(r.out, "KiB\"]")) << "transfers are labelled with bytes";
  r = anetc({"inspect", path("d.plan"), "--format=svg", "-o", path("d.svg")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream svg(path("d.svg"));
  std::string text((std::istreambuf_iterator<char>(svg)), {});
  EXPECT_TRUE(contains(text, "<svg")) << text.substr(0, 200);
  expect_failure(anetc({"inspect", path("d.plan"), "--format", "dot", "--program", "train"}), 2,
                 "anetc", "no program 'train'");
}

/// The parsed --json output of an infer run that must succeed.
nlohmann::json infer_json(const std::vector<std::string> &args) {
  RunResult r = anetrun(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return nlohmann::json::parse(r.out);
}

TEST_F(Cli, InferOnPngJpegAndNpy) {
  const auto j = infer_json({"infer", path("mini.plan"), path("square.png"), path("square.jpg"),
                             path("three.npy"), path("one.npy"), "--json", "--top-k=3"});
  EXPECT_EQ(j["kind"], "prob");
  const auto &results = j["results"];
  ASSERT_EQ(results.size(), 6u);
  EXPECT_EQ(results[0]["input"], path("square.png"));
  EXPECT_EQ(results[1]["input"], path("square.jpg"));
  EXPECT_EQ(results[2]["input"], path("three.npy") + "[0]");
  EXPECT_EQ(results[5]["input"], path("one.npy"));
  for (const auto &res : results) {
    ASSERT_EQ(res["top"].size(), 3u);
    double previous = 2;
    for (const auto &e : res["top"]) {
      const double p = e["prob"].get<double>();
      EXPECT_GE(p, 0.0);
      EXPECT_LE(p, previous);
      previous = p;
      EXPECT_GE(e["class"].get<int>(), 0);
      EXPECT_LT(e["class"].get<int>(), 10);
    }
  }
  // one.npy is three.npy's first sample: the same result.
  EXPECT_EQ(results[2]["top"], results[5]["top"]);
  // The PNG and the JPEG hold the same picture: the same ranking.
  EXPECT_EQ(results[0]["top"][0]["class"], results[1]["top"][0]["class"]);
}

TEST_F(Cli, InferTextOutputAndRawNpy) {
  RunResult r =
      anetrun({"infer", path("mini.plan"), path("three.npy"), "--output", path("out.npy")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, path("three.npy") + "[2]\n")) << r.out;
  EXPECT_TRUE(contains(r.out, " 5. prob ")) << r.out;
  auto out = read_npy(path("out.npy"));
  ASSERT_TRUE(out.ok()) << out.error().message;
  ASSERT_EQ(out->type.shape, (Shape{3, 10}));
  for (int s = 0; s < 3; ++s) {
    const double sum =
        std::accumulate(out->data.begin() + s * 10, out->data.begin() + (s + 1) * 10, 0.0);
    EXPECT_NEAR(sum, 1.0, 1e-4) << "softmax rows sum to 1";
  }
}

TEST_F(Cli, InferBatchesAndPadsLikeSingleRuns) {
  RunResult r = anetc({"compile", path("mini.onnx"), "-o", path("b2.plan"), "--batch", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto single = infer_json({"infer", path("mini.plan"), path("three.npy"), "--json"});
  const auto batched = infer_json({"infer", path("b2.plan"), path("three.npy"), "--json"});
  ASSERT_EQ(batched["results"].size(), 3u);
  for (size_t i = 0; i < 3; ++i)
    for (size_t k = 0; k < 5; ++k) {
      EXPECT_EQ(single["results"][i]["top"][k]["class"], batched["results"][i]["top"][k]["class"]);
      EXPECT_NEAR(single["results"][i]["top"][k]["prob"].get<double>(),
                  batched["results"][i]["top"][k]["prob"].get<double>(), 1e-5);
    }
}

TEST_F(Cli, InferShowsClassNames) {
  std::string labels;
  for (int i = 0; i < 10; ++i)
    labels += "class-name-" + std::to_string(i) + "\r\n";
  testing::write_text(path("labels.txt"), labels);
  RunResult r = anetc(
      {"compile", path("mini.onnx"), "-o", path("named.plan"), "--labels", path("labels.txt")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = infer_json({"infer", path("named.plan"), path("one.npy"), "--json"});
  const auto &top = j["results"][0]["top"][0];
  EXPECT_EQ(top["label"], "class-name-" + std::to_string(top["class"].get<int>()));
}

TEST_F(Cli, BenchReportsTimings) {
  RunResult r =
      anetrun({"bench", path("mini.plan"), "--warmup", "1", "--iterations", "3", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  for (const char *key : {"min_ms", "median_ms", "p90_ms", "p99_ms", "max_ms", "images_per_s"}) {
    ASSERT_TRUE(j.contains(key)) << key;
    EXPECT_GT(j[key].get<double>(), 0.0) << key;
  }
  EXPECT_LE(j["min_ms"].get<double>(), j["median_ms"].get<double>());
  EXPECT_LE(j["median_ms"].get<double>(), j["max_ms"].get<double>());
  EXPECT_EQ(j["iterations"], 3);
  EXPECT_EQ(j["batch"], 1);
  EXPECT_GE(j["start_s"].get<double>(), 0.0);
  EXPECT_EQ(j["program"], "infer");
  r = anetrun({"bench", path("mini.plan"), "--iterations", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "images/s")) << r.out;
}

TEST_F(Cli, BenchProfilesEveryNode) {
  RunResult r = anetrun({"bench", path("mini.plan"), "--warmup", "0", "--iterations", "2",
                         "--profile", "--peak-gflops", "100", "--threads", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char *part : {"conv1", "Conv", "GFLOP/s", "of_peak", "%", "Softmax"})
    EXPECT_TRUE(contains(r.out, part)) << part << " missing from:\n" << r.out;
}

#ifdef ANET_WITH_LLVM
TEST_F(Cli, EmbeddedKernelsTravelInThePlan) {
  RunResult r =
      anetc({"compile", path("mini.onnx"), "-o", path("kernels.plan"), "--embed-kernels"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "CPU kernels")) << r.out;
  r = anetc({"inspect", path("kernels.plan")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "KOBJ")) << r.out;
  RunResult with =
      anetrun({"infer", path("kernels.plan"), path("one.npy"), "--json", "--kernel-cache", "none"});
  RunResult without = anetrun({"infer", path("mini.plan"), path("one.npy"), "--json"});
  ASSERT_EQ(with.exit_code, 0) << with.err;
  ASSERT_EQ(without.exit_code, 0) << without.err;
  EXPECT_EQ(nlohmann::json::parse(with.out)["results"],
            nlohmann::json::parse(without.out)["results"]);
}

TEST_F(Cli, CudaKernelsTravelInThePlan) {
  RunResult r = anetc({"compile", path("mini.onnx"), "-o", path("cuda.plan"), "--target", "cuda",
                       "--arch", "sm_90"});
  if (r.exit_code == 2 && contains(r.err, "without NVRTC"))
    GTEST_SKIP() << r.err;
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "CUDA kernels (sm_90 and PTX, NVRTC ")) << r.out;
  r = anetc({"inspect", path("cuda.plan")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "cuda kernels sm_90: ")) << r.out;
  EXPECT_TRUE(contains(r.out, "no spills")) << r.out;
  EXPECT_TRUE(contains(r.out, "cuda kernels compute_90: ")) << r.out;
  EXPECT_TRUE(contains(r.out, "CUBN")) << r.out;
  r = anetc({"inspect", path("cuda.plan"), "--json"});
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["cuda_kernels"].size(), 2u) << r.out;
  EXPECT_EQ(j["cuda_kernels"][1]["arch"], "sm_90");
  EXPECT_EQ(j["cuda_kernels"][1]["kernels"], j["cuda_kernels"][0]["kernels"]);
  EXPECT_GT(j["cuda_kernels"][1]["max_registers"].get<int>(), 0);
  EXPECT_EQ(j["cuda_kernels"][1]["spilling"], 0);
  // Each node's kernel, per architecture.
  r = anetc({"inspect", path("cuda.plan"), "--kernels"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "conv1")) << r.out;
  EXPECT_TRUE(contains(r.out, "MaxPool")) << r.out;
  EXPECT_FALSE(contains(r.out, "not in the plan")) << r.out;
  r = anetc({"inspect", path("cuda.plan"), "--kernels", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = nlohmann::json::parse(r.out);
  ASSERT_GT(rows.size(), 2u);
  for (const auto &row : rows) {
    EXPECT_FALSE(row.contains("missing")) << row;
    if (row["arch"] == "sm_90") {
      EXPECT_GT(row["registers"].get<int>(), 0) << row;
    }
    EXPECT_EQ(row["spill_bytes"], 0) << row;
  }
  r = anetc({"inspect", path("mini.plan"), "--kernels"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "carries no CUDA kernels")) << r.out;
  expect_failure(anetc({"inspect", path("cuda.plan"), "--kernels", "--format", "svg"}), 2, "anetc",
                 "--kernels prints text or json");
  // A second compile finds every kernel in NVRTC's disk cache.
  r = anetc({"compile", path("mini.onnx"), "-o", path("cuda2.plan"), "--target", "cuda", "--arch",
             "sm_90"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "; 0 compiled, ")) << r.out;
  // Elsewhere the plan runs as any other.
  EXPECT_EQ(infer_json({"infer", path("cuda.plan"), path("one.npy"), "--json"})["results"],
            infer_json({"infer", path("mini.plan"), path("one.npy"), "--json"})["results"]);
}

TEST_F(Cli, CudaTargetFlagsAreChecked) {
  expect_failure(anetc({"compile", path("mini.onnx"), "-o", path("x.plan"), "--arch", "sm_90"}), 2,
                 "anetc", "--arch needs --target cuda");
  expect_failure(anetc({"compile", path("mini.onnx"), "-o", path("x.plan"), "--target", "tpu"}), 2,
                 "anetc", "--target");
  RunResult r = anetc(
      {"compile", path("mini.onnx"), "-o", path("x.plan"), "--target", "cuda", "--arch", "sm90"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(contains(r.err, "without NVRTC") ||
              contains(r.err, "'sm90' is not a GPU architecture such as sm_80 or sm_90"))
      << r.err;
}

TEST_F(Cli, InferOnTheEmuDeviceMatchesTheCpuDevice) {
  const auto cpu = infer_json({"infer", path("mini.plan"), path("three.npy"), "--json"});
  for (const char *check : {"", "--emu-check", "--no-graphs"}) {
    std::vector<std::string> args = {"infer",  path("mini.plan"), path("three.npy"),
                                     "--json", "--device",        "emu"};
    if (*check)
      args.push_back(check);
    const auto emu = infer_json(args);
    ASSERT_EQ(emu["results"].size(), 3u) << check;
    for (size_t i = 0; i < 3; ++i)
      for (size_t k = 0; k < 5; ++k) {
        EXPECT_EQ(cpu["results"][i]["top"][k]["class"], emu["results"][i]["top"][k]["class"]);
        EXPECT_NEAR(cpu["results"][i]["top"][k]["prob"].get<double>(),
                    emu["results"][i]["top"][k]["prob"].get<double>(), 1e-5)
            << check;
      }
  }
}
#else
TEST_F(Cli, EmbeddingKernelsNeedsLlvm) {
  expect_failure(
      anetc({"compile", path("mini.onnx"), "-o", path("kernels.plan"), "--embed-kernels"}), 2,
      "anetc", "without LLVM");
}
#endif

} // namespace
} // namespace anet
