// Tests of what every model shares: the list of names and the errors of
// build_model, ONNX's checkers (the Python one from onnx 1.16 through
// ANET_PYTHON, and the C++ one of the linked libonnx), the common interface,
// determinism of the bytes written, and write_model's errors.

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <onnx/checker.h>

#include "models/alexnet.h"
#include "tests/models/model_inspect.h"

namespace anet::models {
namespace {

using namespace anet::models::testing;
namespace fs = std::filesystem;

TEST(ModelRegistry, NamesInOrder) {
  EXPECT_EQ(model_names(), (std::vector<std::string>{"alexnet", "alexnet-mini", "alexnet-caffe",
                                                     "alexnet-torchvision"}));
}

TEST(ModelRegistry, UnknownNameIsAUsageErrorListingTheNames) {
  Expected<onnx::ModelProto> m = build_model("lenet", {});
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, ExitCode::Usage);
  EXPECT_NE(m.error().message.find("'lenet'"), std::string::npos) << m.error().message;
  for (const std::string &name : model_names())
    EXPECT_NE(m.error().message.find(name), std::string::npos) << m.error().message;
}

TEST(ModelRegistry, OutOfRangeOptionsAreUsageErrors) {
  auto with = [](std::optional<int64_t> batch, std::optional<int64_t> classes,
                 std::optional<int64_t> channels) {
    BuildOptions o;
    o.batch = batch;
    o.num_classes = classes;
    o.channels = channels;
    return o;
  };
  const std::vector<std::pair<BuildOptions, std::string>> cases = {
      {with(0, {}, {}), "batch"},
      {with(-3, {}, {}), "batch"},
      {with({}, 0, {}), "number of classes"},
      {with({}, 1'000'000, {}), "number of classes"},
      {with({}, {}, 0), "input channels"},
      {with({}, {}, 100'000), "input channels"},
  };
  for (const auto &[opts, what] : cases) {
    Expected<onnx::ModelProto> m = build_model("alexnet-mini", opts);
    ASSERT_FALSE(m.ok()) << what;
    EXPECT_EQ(m.error().code, ExitCode::Usage);
    EXPECT_NE(m.error().message.find("alexnet-mini"), std::string::npos) << m.error().message;
    EXPECT_NE(m.error().message.find(what), std::string::npos) << m.error().message;
  }
}

// A fresh directory per test, removed afterwards.
class TempDir : public ::testing::Test {
protected:
  void SetUp() override {
    const auto *info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(info->test_suite_name()) + "-" + info->name();
    for (char &c : name)
      if (!std::isalnum(static_cast<unsigned char>(c)))
        c = '-';
    dir_ = fs::temp_directory_path() / ("anet-models-" + std::to_string(getpid()) + "-" + name);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string &file) const { return (dir_ / file).string(); }

  fs::path dir_;
};

bool same_file_bytes(const std::string &a, const std::string &b) {
  std::ifstream fa(a, std::ios::binary), fb(b, std::ios::binary);
  if (!fa || !fb)
    return false;
  std::vector<char> ba(1 << 20), bb(1 << 20);
  while (true) {
    fa.read(ba.data(), static_cast<std::streamsize>(ba.size()));
    fb.read(bb.data(), static_cast<std::streamsize>(bb.size()));
    if (fa.gcount() != fb.gcount() || !std::equal(ba.begin(), ba.begin() + fa.gcount(), bb.begin()))
      return false;
    if (!fa)
      return !fb;
  }
}

class EveryModel : public TempDir, public ::testing::WithParamInterface<std::string> {};

TEST_P(EveryModel, PassesTheOnnxCheckers) {
  const std::string python = ANET_PYTHON;
  ASSERT_TRUE(fs::exists(python))
      << "ANET_PYTHON '" << python
      << "' does not exist; the ONNX checker is this test's oracle (set -DANET_PYTHON=...)";
  BuildOptions opts;
  opts.seed = 7;
  const onnx::ModelProto m = build_or_fail(GetParam(), opts);
  EXPECT_NO_THROW(onnx::checker::check_model(m));
  const std::string file = path(GetParam() + ".onnx");
  Status s = write_model(m, file);
  ASSERT_TRUE(s.ok()) << s.error().message;
  const std::string cmd =
      "'" + python +
      "' -c 'import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), "
      "full_check=True)' '" +
      file + "'";
  const int status = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(status)) << cmd;
  EXPECT_EQ(WEXITSTATUS(status), 0) << cmd;
}

TEST_P(EveryModel, CommonInterface) {
  const onnx::ModelProto m = build_or_fail(GetParam());
  EXPECT_EQ(m.producer_name(), "anet-models");
  ASSERT_GE(m.graph().input_size(), 1);
  const auto &data = m.graph().input(0);
  EXPECT_EQ(data.name(), "data");
  EXPECT_EQ(data.type().tensor_type().elem_type(), onnx::TensorProto::FLOAT);
  EXPECT_EQ(data.type().tensor_type().shape().dim_size(), 4);
  ASSERT_EQ(m.graph().output_size(), 2);
  EXPECT_EQ(m.graph().output(0).name(), "prob");
  EXPECT_EQ(m.graph().output(1).name(), "logits");
  // An unset batch is the symbolic "N" (the tests of each model set it).
  for (const auto *v : {&data, &m.graph().output(0), &m.graph().output(1)})
    EXPECT_EQ(v->type().tensor_type().shape().dim(0).dim_param(), "N") << v->name();
  EXPECT_EQ(find_producer(m, "prob")->op_type(), "Softmax");
  EXPECT_EQ(find_producer(m, "prob")->input(0), "logits");
  EXPECT_EQ(find_producer(m, "logits")->op_type(), "Gemm");
}

TEST_P(EveryModel, SameSeedWritesTheSameBytes) {
  BuildOptions opts;
  opts.seed = 5;
  for (const char *file : {"a.onnx", "b.onnx"}) {
    Status s = write_model(build_or_fail(GetParam(), opts), path(file));
    ASSERT_TRUE(s.ok()) << s.error().message;
  }
  EXPECT_TRUE(same_file_bytes(path("a.onnx"), path("b.onnx")));
}

TEST_P(EveryModel, DifferentSeedDrawsDifferentWeights) {
  BuildOptions a_opts, b_opts;
  a_opts.seed = 1;
  b_opts.seed = 2;
  onnx::ModelProto a = build_or_fail(GetParam(), a_opts);
  onnx::ModelProto b = build_or_fail(GetParam(), b_opts);
  ASSERT_EQ(a.graph().initializer_size(), b.graph().initializer_size());
  int weights = 0;
  for (int i = 0; i < a.graph().initializer_size(); ++i) {
    const onnx::TensorProto &ta = a.graph().initializer(i), &tb = b.graph().initializer(i);
    ASSERT_EQ(ta.name(), tb.name());
    ASSERT_EQ(dims(ta), dims(tb)) << ta.name();
    // Weights are drawn (and differ); biases and constants are fixed.
    const bool drawn =
        ta.name().find("weight") != std::string::npos || ta.name().find("_w_") != std::string::npos;
    if (drawn) {
      EXPECT_NE(ta.raw_data(), tb.raw_data()) << ta.name();
      ++weights;
    } else {
      EXPECT_EQ(ta.raw_data(), tb.raw_data()) << ta.name();
    }
  }
  EXPECT_EQ(weights, 8);
  // Apart from the weights and the recorded seed, the models are identical.
  for (onnx::ModelProto *m : {&a, &b}) {
    for (onnx::TensorProto &t : *m->mutable_graph()->mutable_initializer())
      t.clear_raw_data();
    m->clear_metadata_props();
  }
  EXPECT_EQ(a.SerializeAsString(), b.SerializeAsString());
}

std::string test_name(const ::testing::TestParamInfo<std::string> &info) {
  std::string name = info.param;
  for (char &c : name)
    if (c == '-')
      c = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Models, EveryModel, ::testing::ValuesIn(model_names()), test_name);

using WriteModel = TempDir;

TEST_F(WriteModel, RoundTrips) {
  const onnx::ModelProto m = build_or_fail("alexnet-mini");
  const std::string file = path("mini.onnx");
  Status s = write_model(m, file);
  ASSERT_TRUE(s.ok()) << s.error().message;
  onnx::ModelProto back;
  std::ifstream in(file, std::ios::binary);
  ASSERT_TRUE(back.ParseFromIstream(&in));
  EXPECT_EQ(back.SerializeAsString(), m.SerializeAsString());
  EXPECT_EQ(back.metadata_props(0).key(), "anet.seed");
  EXPECT_EQ(back.metadata_props(0).value(), "0");
}

TEST_F(WriteModel, UnwritablePathIsAnIOErrorNamingIt) {
  const onnx::ModelProto m = build_or_fail("alexnet-mini");
  for (const std::string &bad : {path("no-such-dir/model.onnx"), dir_.string()}) {
    Status s = write_model(m, bad);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.error().code, ExitCode::IO);
    EXPECT_NE(s.error().message.find(bad), std::string::npos) << s.error().message;
  }
}

} // namespace
} // namespace anet::models
