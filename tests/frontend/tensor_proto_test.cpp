// read_tensor_proto_file: ONNX TensorProto files (as in ONNX's node tests)
// read as f32, from raw and typed data fields, with the element types it
// converts and those it refuses.

#include <cstring>

#include "import_test_util.h"
#include "onnx_builder.h"

namespace anet::test {
namespace {

using onnx::TensorProto;

std::string write_tensor(const TempDir &dir, const TensorProto &t) {
  return dir.write(t.name() + ".pb", t.SerializeAsString());
}

TEST(ReadTensorProto, FloatRawData) {
  TempDir dir;
  auto t = read_tensor_proto_file(write_tensor(dir, float_tensor("f", {2, 2}, {1, 2, 3, 4})));
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->type.shape, (Shape{2, 2}));
  EXPECT_EQ(t->data, (std::vector<float>{1, 2, 3, 4}));
}

TEST(ReadTensorProto, IntegerTypesAreConverted) {
  TempDir dir;
  auto i64 = read_tensor_proto_file(write_tensor(dir, int_tensor("i", {3}, {-1, 0, 7})));
  ASSERT_TRUE(i64.ok()) << i64.error().message;
  EXPECT_EQ(i64->data, (std::vector<float>{-1, 0, 7}));

  TensorProto b;
  b.set_name("b");
  b.set_data_type(TensorProto::BOOL);
  b.add_dims(2);
  b.set_raw_data(std::string("\x01\x00", 2));
  auto boolean = read_tensor_proto_file(write_tensor(dir, b));
  ASSERT_TRUE(boolean.ok()) << boolean.error().message;
  EXPECT_EQ(boolean->data, (std::vector<float>{1, 0}));

  TensorProto u8;
  u8.set_name("u8");
  u8.set_data_type(TensorProto::UINT8);
  u8.add_dims(2);
  u8.add_int32_data(200);
  u8.add_int32_data(3);
  auto bytes = read_tensor_proto_file(write_tensor(dir, u8));
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  EXPECT_EQ(bytes->data, (std::vector<float>{200, 3}));
}

TEST(ReadTensorProto, DoubleAndScalar) {
  TempDir dir;
  TensorProto d;
  d.set_name("d");
  d.set_data_type(TensorProto::DOUBLE);
  d.add_double_data(2.5);
  auto t = read_tensor_proto_file(write_tensor(dir, d));
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->type.shape, Shape{});
  EXPECT_EQ(t->data, (std::vector<float>{2.5f}));
}

TEST(ReadTensorProto, UnsupportedTypeAndGarbageAreRefused) {
  TempDir dir;
  TensorProto h;
  h.set_name("h");
  h.set_data_type(TensorProto::FLOAT16);
  h.add_dims(1);
  h.add_int32_data(0x3c00);
  std::string path = write_tensor(dir, h);
  EXPECT_TRUE(fails_with(read_tensor_proto_file(path), ExitCode::InvalidModel,
                         {path + ": tensor 'h' has element type FLOAT16, which is not supported"}));

  std::string garbage = dir.write("garbage.pb", std::string("\xff\xff\xff\xff", 4));
  EXPECT_TRUE(fails_with(read_tensor_proto_file(garbage), ExitCode::InvalidModel,
                         {garbage + ": not a valid ONNX TensorProto"}));
  std::string missing = (dir.path() / "missing.pb").string();
  EXPECT_TRUE(fails_with(read_tensor_proto_file(missing), ExitCode::IO, {missing + ": "}));
}

TEST(ReadTensorProto, DataThatDoesNotFitTheShapeIsRefused) {
  TempDir dir;
  TensorProto t = float_tensor("short", {3}, {1, 2});
  std::string path = write_tensor(dir, t);
  EXPECT_TRUE(fails_with(read_tensor_proto_file(path), ExitCode::InvalidModel,
                         {path + ": tensor 'short' has 8 bytes of raw_data", "needs 12"}));
  TensorProto typed;
  typed.set_name("typed");
  typed.set_data_type(TensorProto::FLOAT);
  typed.add_dims(2);
  typed.add_float_data(1);
  path = write_tensor(dir, typed);
  EXPECT_TRUE(fails_with(read_tensor_proto_file(path), ExitCode::InvalidModel,
                         {"tensor 'typed' has 1 elements of data, its shape needs 2"}));
}

} // namespace
} // namespace anet::test
