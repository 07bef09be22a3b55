// External data: read from inside the model's directory, and refused when
// its location escapes it (.., absolute paths, symbolic links of the file
// or of a directory on the way, hard links) or its offset and length do not
// fit the file. Each refusal names the tensor and the location.

#include <cstring>

#include "import_test_util.h"
#include "onnx_builder.h"

namespace anet::test {
namespace {

namespace fs = std::filesystem;

const std::vector<float> kWeights = {1.5f, -2.0f, 3.25f, 4.0f, 0.5f, 6.0f};

std::string float_bytes(const std::vector<float> &v) {
  std::string s(v.size() * sizeof(float), '\0');
  std::memcpy(s.data(), v.data(), s.size());
  return s;
}

// x[1,6] + w, where w[6] is stored externally.
ModelBuilder external_model(const std::string &location, std::optional<int64_t> offset,
                            std::optional<int64_t> length, int64_t opset = 13) {
  ModelBuilder b(opset);
  b.input("x", {1, 6});
  onnx::TensorProto w;
  w.set_name("w");
  w.set_data_type(onnx::TensorProto::FLOAT);
  w.add_dims(6);
  w.set_data_location(onnx::TensorProto::EXTERNAL);
  auto add = [&](const char *key, const std::string &value) {
    auto *e = w.add_external_data();
    e->set_key(key);
    e->set_value(value);
  };
  add("location", location);
  if (offset)
    add("offset", std::to_string(*offset));
  if (length)
    add("length", std::to_string(*length));
  b.initializer(w);
  b.node("Add", {"x", "w"}, {"y"});
  b.output("y", {1, 6});
  return b;
}

// A model directory with the weights at offset 16 of data/weights.bin.
struct ModelDir {
  TempDir dir;
  ModelDir() {
    fs::create_directories(dir.path() / "data");
    dir.write("data/weights.bin", std::string(16, 'x') + float_bytes(kWeights) + "tail");
  }
  std::string model(const ModelBuilder &b) const { return dir.write("model.onnx", b.bytes()); }
};

TEST(ExternalData, ReadsTensorFromInsideTheModelDirectory) {
  for (int64_t opset : {13, 21}) { // with and without ONNX's checker
    ModelDir d;
    std::string path = d.model(external_model("data/weights.bin", 16, 24, opset));
    auto m = import_onnx_file(path, {});
    ASSERT_TRUE(m.ok()) << m.error().message;
    EXPECT_EQ(m->weights.at("w"), kWeights);
    EXPECT_EQ(m->onnx_bytes, external_model("data/weights.bin", 16, 24, opset).bytes())
        << "the original bytes, external references and all";
  }
}

TEST(ExternalData, LengthDefaultsToTheRestOfTheFile) {
  ModelDir d;
  d.dir.write("w.bin", float_bytes(kWeights));
  auto m = import_onnx_file(d.model(external_model("./w.bin", std::nullopt, std::nullopt)), {});
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->weights.at("w"), kWeights);
}

TEST(ExternalData, DotDotIsRefused) {
  ModelDir d;
  fs::create_directories(d.dir.path() / "model");
  d.dir.write("outside.bin", float_bytes(kWeights));
  std::string path = (d.dir.path() / "model" / "model.onnx").string();
  external_model("../outside.bin", std::nullopt, std::nullopt).write(path);
  EXPECT_TRUE(
      fails_with(import_onnx_file(path, {}), ExitCode::InvalidModel,
                 {path + ": tensor 'w': external data '../outside.bin'", "'..' component"}));
  external_model("data/../../outside.bin", std::nullopt, std::nullopt).write(path);
  EXPECT_TRUE(fails_with(import_onnx_file(path, {}), ExitCode::InvalidModel,
                         {"'data/../../outside.bin'", "'..' component"}));
}

TEST(ExternalData, AbsolutePathIsRefused) {
  ModelDir d;
  std::string target = (d.dir.path() / "data" / "weights.bin").string();
  std::string path = d.model(external_model(target, 16, 24));
  EXPECT_TRUE(fails_with(import_onnx_file(path, {}), ExitCode::InvalidModel,
                         {path + ": tensor 'w': external data '" + target + "'", "absolute path"}));
}

TEST(ExternalData, SymbolicLinkToFileIsRefused) {
  ModelDir d;
  TempDir elsewhere;
  std::string secret = elsewhere.write("secret.bin", float_bytes(kWeights));
  fs::create_symlink(secret, d.dir.path() / "link.bin");
  std::string path = d.model(external_model("link.bin", std::nullopt, std::nullopt));
  EXPECT_TRUE(fails_with(import_onnx_file(path, {}), ExitCode::InvalidModel,
                         {path + ": tensor 'w': external data 'link.bin'", "symbolic link"}));
}

TEST(ExternalData, SymbolicLinkOnTheWayIsRefused) {
  ModelDir d;
  TempDir elsewhere;
  elsewhere.write("secret.bin", float_bytes(kWeights));
  fs::create_directory_symlink(elsewhere.path(), d.dir.path() / "sub");
  std::string path = d.model(external_model("sub/secret.bin", std::nullopt, std::nullopt));
  EXPECT_TRUE(
      fails_with(import_onnx_file(path, {}), ExitCode::InvalidModel,
                 {"tensor 'w': external data 'sub/secret.bin'", "'sub' is a symbolic link"}));
}

TEST(ExternalData, HardLinkIsRefused) {
  ModelDir d;
  TempDir elsewhere;
  std::string secret = elsewhere.write("secret.bin", float_bytes(kWeights));
  std::error_code ec;
  fs::create_hard_link(secret, d.dir.path() / "hard.bin", ec);
  if (ec) // temp dirs on different file systems: link inside one directory instead
    fs::create_hard_link(d.dir.path() / "data" / "weights.bin", d.dir.path() / "hard.bin");
  std::string path = d.model(external_model("hard.bin", std::nullopt, 24));
  EXPECT_TRUE(fails_with(import_onnx_file(path, {}), ExitCode::InvalidModel,
                         {path + ": tensor 'w': external data 'hard.bin'", "2 hard links"}));
}

TEST(ExternalData, OffsetBeyondTheFileIsRefused) {
  ModelDir d;
  std::string path = d.model(external_model("data/weights.bin", 1000, 24));
  EXPECT_TRUE(fails_with(import_onnx_file(path, {}), ExitCode::InvalidModel,
                         {path + ": tensor 'w': external data 'data/weights.bin'",
                          "offset 1000 is beyond the end of the file (44 bytes)"}));
}

TEST(ExternalData, LengthBeyondTheFileIsRefused) {
  ModelDir d;
  std::string path = d.model(external_model("data/weights.bin", 32, 24));
  EXPECT_TRUE(fails_with(import_onnx_file(path, {}), ExitCode::InvalidModel,
                         {"tensor 'w': external data 'data/weights.bin'",
                          "offset 32 + length 24 is beyond the end of the file"}));
}

TEST(ExternalData, LengthDisagreeingWithShapeIsRefused) {
  ModelDir d;
  std::string path = d.model(external_model("data/weights.bin", 16, 20));
  EXPECT_TRUE(
      fails_with(import_onnx_file(path, {}), ExitCode::InvalidModel,
                 {"tensor 'w': external data 'data/weights.bin'", "holds 20 bytes", "needs 24"}));
}

TEST(ExternalData, MalformedOffsetIsRefused) {
  ModelBuilder b = external_model("data/weights.bin", std::nullopt, std::nullopt);
  auto *e = b.proto().mutable_graph()->mutable_initializer(0)->add_external_data();
  e->set_key("offset");
  e->set_value("-5");
  ModelDir d;
  EXPECT_TRUE(fails_with(import_onnx_file(d.model(b), {}), ExitCode::InvalidModel,
                         {"tensor 'w': external data offset '-5' is not a non-negative integer"}));
}

TEST(ExternalData, MissingFileIsAnIoError) {
  ModelDir d;
  std::string path = d.model(external_model("data/nothing.bin", std::nullopt, std::nullopt));
  EXPECT_TRUE(
      fails_with(import_onnx_file(path, {}), ExitCode::IO,
                 {path + ": tensor 'w': external data 'data/nothing.bin'", "cannot be found"}));
}

TEST(ExternalData, BytesWithoutADirectoryMayNotUseExternalData) {
  ModelBuilder b = external_model("data/weights.bin", 16, 24);
  EXPECT_TRUE(fails_with(import_onnx_bytes(b.bytes(), "", "memory.onnx", {}),
                         ExitCode::InvalidModel,
                         {"memory.onnx: tensor 'w': external data 'data/weights.bin'",
                          "external data is not allowed"}));
}

} // namespace
} // namespace anet::test
