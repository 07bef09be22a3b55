// Every way the importer refuses a model, one test each: the exit code, and
// a message that starts with the file's display name and names the node, op
// and reason.

#include <functional>
#include <random>

#include "import_test_util.h"
#include "onnx_builder.h"

namespace anet::test {
namespace {

using onnx::TensorProto;

ModelBuilder relu_model(int64_t opset = 13, int64_t ir_version = 7) {
  ModelBuilder b(opset, ir_version);
  b.input("x", {1, 3, 8, 8});
  b.initializer("w", {4, 3, 3, 3}, std::vector<float>(108, 0.5f));
  b.node("Conv", {"x", "w"}, {"c"}, "conv").ints("kernel_shape", {3, 3});
  b.node("Relu", {"c"}, {"y"}, "relu");
  b.output("y", {1, 4, 6, 6});
  return b;
}

TEST(ImportFileErrors, MissingFileIsAnIoError) {
  TempDir dir;
  std::string path = (dir.path() / "absent.onnx").string();
  EXPECT_TRUE(fails_with(import_onnx_file(path, {}), ExitCode::IO, {path + ": ", "cannot open"}));
  EXPECT_TRUE(fails_with(import_onnx_file(dir.path().string(), {}), ExitCode::IO,
                         {dir.path().string() + ": ", "is a directory"}));
}

TEST(ImportFileErrors, EmptyFile) {
  TempDir dir;
  std::string path = dir.write("empty.onnx", "");
  EXPECT_TRUE(
      fails_with(import_onnx_file(path, {}), ExitCode::InvalidModel, {path + ": ", "empty"}));
}

TEST(ImportFileErrors, TruncatedFile) {
  TempDir dir;
  std::string bytes = relu_model().bytes();
  // Cut inside the weight's raw data: no longer a parseable message.
  std::string path = dir.write("cut.onnx", bytes.substr(0, bytes.size() - 40));
  EXPECT_TRUE(fails_with(import_onnx_file(path, {}), ExitCode::InvalidModel,
                         {path + ": not a valid ONNX model", "truncated"}));
  // Every other truncation is refused too, whatever part survives.
  for (size_t n = 1; n < bytes.size(); n += 7) {
    auto m = import_onnx_bytes(bytes.substr(0, n), "", "cut.onnx", {});
    ASSERT_FALSE(m.ok()) << "truncated to " << n << " bytes";
    EXPECT_EQ(m.error().code, ExitCode::InvalidModel);
    EXPECT_EQ(m.error().message.rfind("cut.onnx: ", 0), 0u) << m.error().message;
  }
}

TEST(ImportFileErrors, RandomBytes) {
  TempDir dir;
  std::mt19937 rng(1234);
  std::string bytes(4096, '\0');
  for (char &c : bytes)
    c = static_cast<char>(rng());
  std::string path = dir.write("random.onnx", bytes);
  EXPECT_TRUE(fails_with(import_onnx_file(path, {}), ExitCode::InvalidModel,
                         {path + ": not a valid ONNX model"}));
}

TEST(ImportFileErrors, ValidProtobufThatIsNoModel) {
  onnx::ModelProto no_graph;
  no_graph.set_ir_version(7);
  no_graph.add_opset_import()->set_version(13);
  EXPECT_TRUE(fails_with(import_onnx_bytes(no_graph.SerializeAsString(), "", "m.onnx", {}),
                         ExitCode::InvalidModel,
                         {"m.onnx: not a valid ONNX model: it has no graph"}));
}

TEST(ImportVersionErrors, OldIrVersion) {
  EXPECT_TRUE(fails_with(relu_model(13, 2).import(), ExitCode::InvalidModel,
                         {"test.onnx: IR version 2 is not supported"}));
}

TEST(ImportVersionErrors, OpsetOutsideSevenToTwentyOne) {
  EXPECT_TRUE(fails_with(relu_model(6).import(), ExitCode::InvalidModel,
                         {"test.onnx: default-domain opset 6 is not supported", "7 to 21"}));
  EXPECT_TRUE(fails_with(relu_model(22, 10).import(), ExitCode::InvalidModel,
                         {"default-domain opset 22 is not supported"}));
}

TEST(ImportVersionErrors, NoDefaultDomainImport) {
  ModelBuilder b = relu_model();
  b.proto().mutable_opset_import(0)->set_domain("ai.onnx.ml");
  EXPECT_TRUE(fails_with(b.import(), ExitCode::InvalidModel,
                         {"does not import the default ONNX operator set"}));
}

TEST(ImportOpErrors, EveryUnsupportedOpInOneMessage) {
  ModelBuilder b(13);
  b.proto().add_opset_import()->set_domain("ai.onnx.ml");
  b.proto().mutable_opset_import(1)->set_version(3);
  b.input("x", {2, 3});
  b.node("Erf", {"x"}, {"a"}, "erf1");
  b.node("Relu", {"a"}, {"b"});
  b.node("Erf", {"b"}, {"c"}, "erf2");
  b.node("Scaler", {"c"}, {"d"}, "scale", "ai.onnx.ml");
  b.node("Gather", {"d", "d"}, {"y"});
  b.output("y");
  EXPECT_TRUE(fails_with(b.import(), ExitCode::InvalidModel,
                         {"test.onnx: unsupported operators: ", "Erf (nodes 'erf1', 'erf2')",
                          "Gather (node 'Gather_4')", "ai.onnx.ml:Scaler (node 'scale')"}));
}

TEST(ImportGraphErrors, Cycle) {
  ModelBuilder b(13);
  b.input("x", {2});
  b.node("Add", {"x", "b"}, {"a"}, "first");
  b.node("Relu", {"a"}, {"b"}, "second");
  b.output("b");
  // Opset 18 skips ONNX's checker, so our own check is what refuses it.
  b.proto().mutable_opset_import(0)->set_version(18);
  EXPECT_TRUE(fails_with(b.import(), ExitCode::InvalidModel,
                         {"test.onnx: node 'first' (Add) reads 'b'", "cycle"}));
}

TEST(ImportGraphErrors, DanglingInput) {
  ModelBuilder b(18, 8);
  b.input("x", {2});
  b.node("Add", {"x", "ghost"}, {"y"}, "add");
  b.output("y");
  EXPECT_TRUE(fails_with(b.import(), ExitCode::InvalidModel,
                         {"test.onnx: node 'add' (Add) reads 'ghost'", "dangling input"}));
}

TEST(ImportGraphErrors, CheckerRefusesWhatItKnows) {
  ModelBuilder b(13);
  b.input("x", {2});
  b.node("Add", {"x", "ghost"}, {"y"}, "add");
  b.output("y");
  EXPECT_TRUE(fails_with(b.import(), ExitCode::InvalidModel,
                         {"test.onnx: the ONNX checker rejects the model", "ghost"}));
}

TEST(ImportGraphErrors, DuplicateOutputNames) {
  ModelBuilder b(18, 8);
  b.input("x", {2});
  b.node("Relu", {"x"}, {"y"}, "one");
  b.node("Sigmoid", {"x"}, {"y"}, "two");
  b.output("y");
  EXPECT_TRUE(fails_with(b.import(), ExitCode::InvalidModel,
                         {"test.onnx: node 'two' (Sigmoid)", "writes 'y'", "already defined"}));

  ModelBuilder c(18, 8);
  c.input("x", {2});
  c.node("Relu", {"x"}, {"x"}, "inplace");
  c.output("x");
  EXPECT_TRUE(fails_with(c.import(), ExitCode::InvalidModel,
                         {"node 'inplace' (Relu)", "writes 'x'", "already defined"}));
}

TEST(ImportGraphErrors, MissingAndAbsentGraphOutputs) {
  ModelBuilder b(13);
  b.input("x", {2});
  b.node("Relu", {"x"}, {"y"});
  b.output("nope", {2});
  EXPECT_TRUE(
      fails_with(b.import(), ExitCode::InvalidModel, {"test.onnx: ", "graph output 'nope'"}));

  ModelBuilder c(18, 8);
  c.input("x", {2});
  c.node("Relu", {"x"}, {"y"});
  EXPECT_TRUE(
      fails_with(c.import(), ExitCode::InvalidModel, {"test.onnx: the graph has no outputs"}));
}

TEST(ImportGraphErrors, DeclaredOutputShapeMustMatch) {
  ModelBuilder b(13);
  b.input("x", {2, 3});
  b.node("Relu", {"x"}, {"y"});
  b.output("y", {2, 4});
  EXPECT_TRUE(
      fails_with(b.import(), ExitCode::InvalidModel,
                 {"test.onnx: graph output 'y' is declared with shape [2,4]", "computes [2,3]"}));
}

TEST(ImportInputErrors, NonFloatInput) {
  ModelBuilder b(13);
  b.input("ids", {2, 3}, TensorProto::INT64);
  b.node("Add", {"ids", "ids"}, {"y"});
  b.output("y", {2, 3}, TensorProto::INT64);
  EXPECT_TRUE(
      fails_with(b.import(), ExitCode::InvalidModel,
                 {"test.onnx: graph input 'ids' has element type INT64", "only FLOAT inputs"}));
}

TEST(ImportInputErrors, UnusedNonFloatInput) {
  ModelBuilder b(13);
  b.input("x", {2});
  b.input("ids", {2}, TensorProto::INT64);
  b.node("Relu", {"x"}, {"y"});
  b.output("y");
  EXPECT_TRUE(fails_with(b.import(), ExitCode::InvalidModel,
                         {"test.onnx: graph input 'ids' has element type INT64"}));
}

TEST(ImportInputErrors, UnknownNonBatchDimension) {
  ModelBuilder b(13);
  b.input("x", {2, kSymbolic, 4});
  b.node("Relu", {"x"}, {"y"});
  b.output("y");
  EXPECT_TRUE(fails_with(
      b.import(), ExitCode::InvalidModel,
      {"test.onnx: graph input 'x' has an unknown dimension 1 ('N')", "only dimension 0"}));
}

TEST(ImportInputErrors, ShapeWhoseSizeOverflows) {
  ModelBuilder b(13);
  b.input("x", {int64_t{1} << 40, int64_t{1} << 40});
  b.node("Relu", {"x"}, {"y"});
  b.output("y");
  EXPECT_TRUE(fails_with(b.import(), ExitCode::InvalidModel,
                         {"test.onnx: graph input 'x' has a too large shape "
                          "[1099511627776,1099511627776]"}));
}

TEST(ImportInputErrors, InputWithoutTypeOrShape) {
  ModelBuilder b(13);
  b.proto().mutable_graph()->add_input()->set_name("x");
  b.node("Relu", {"x"}, {"y"});
  b.output("y");
  EXPECT_TRUE(fails_with(b.import(), ExitCode::InvalidModel,
                         {"test.onnx: the ONNX checker rejects the model"}));
  b.proto().mutable_opset_import(0)->set_version(18);
  EXPECT_TRUE(fails_with(b.import(), ExitCode::InvalidModel,
                         {"test.onnx: graph input 'x' is not a tensor"}));

  ModelBuilder c(18, 8);
  auto *vi = c.proto().mutable_graph()->add_input();
  vi->set_name("x");
  vi->mutable_type()->mutable_tensor_type()->set_elem_type(TensorProto::FLOAT);
  c.node("Relu", {"x"}, {"y"});
  c.output("y");
  EXPECT_TRUE(fails_with(c.import(), ExitCode::InvalidModel,
                         {"graph input 'x' has no shape (unknown rank)"}));
}

TEST(ImportOptionsErrors, BadBatchAndUnknownBoundInput) {
  ImportOptions opts;
  opts.batch = 0;
  EXPECT_TRUE(fails_with(relu_model().import(opts), ExitCode::Usage,
                         {"test.onnx: batch size 0 must be positive"}));
  ImportOptions bind;
  bind.bind_inputs["nope"] = Tensor(TensorType{DType::F32, {1}}, {1});
  EXPECT_TRUE(fails_with(relu_model().import(bind), ExitCode::Usage,
                         {"bind_inputs names 'nope'", "not an input"}));
}

TEST(ImportShapeErrors, ChannelMismatch) {
  ModelBuilder b(13);
  b.input("x", {1, 3, 8, 8});
  b.initializer("w", {4, 2, 3, 3}, std::vector<float>(72, 1.0f));
  b.node("Conv", {"x", "w"}, {"y"}, "conv1");
  b.output("y");
  EXPECT_TRUE(fails_with(b.import(), ExitCode::InvalidModel,
                         {"test.onnx: node 'conv1' (Conv)", "input has 3 channels"}));
}

TEST(ImportShapeErrors, ZeroStride) {
  ModelBuilder b(13);
  b.input("x", {1, 3, 8, 8});
  b.node("MaxPool", {"x"}, {"y"}, "pool").ints("kernel_shape", {2, 2}).ints("strides", {0, 1});
  b.output("y");
  EXPECT_TRUE(fails_with(b.import(), ExitCode::InvalidModel,
                         {"test.onnx: node 'pool' (MaxPool)", "stride 0"}));
}

TEST(ImportShapeErrors, KernelLargerThanInput) {
  ModelBuilder b(13);
  b.input("x", {1, 3, 3, 3});
  b.initializer("w", {1, 3, 5, 5}, std::vector<float>(75, 1.0f));
  b.node("Conv", {"x", "w"}, {"y"}, "big");
  b.output("y");
  EXPECT_TRUE(fails_with(b.import(), ExitCode::InvalidModel,
                         {"test.onnx: node 'big' (Conv)", "kernel extent 5 is larger than the "
                                                          "padded input 3"}));
}

TEST(ImportShapeErrors, OneDimensionalConvIsUnsupported) {
  ModelBuilder b(13);
  b.input("x", {1, 3, 8});
  b.initializer("w", {2, 3, 3}, std::vector<float>(18, 1.0f));
  b.node("Conv", {"x", "w"}, {"y"}, "conv1d");
  b.output("y");
  EXPECT_TRUE(fails_with(b.import(), ExitCode::InvalidModel,
                         {"test.onnx: node 'conv1d' (Conv)", "only 2-D windows", "[1,3,8]"}));
}

TEST(ImportShapeErrors, MemoryBudget) {
  ImportOptions opts;
  opts.memory_budget_bytes = 2000;
  EXPECT_TRUE(fails_with(relu_model().import(opts), ExitCode::InvalidModel,
                         {"test.onnx: ", "memory budget of 2000 bytes"}));
}

TEST(ImportShapeErrors, AbsurdInitializerShape) {
  ModelBuilder b(13);
  b.input("x", {2});
  onnx::TensorProto t = float_tensor("w", {}, {});
  t.add_dims(int64_t{1} << 40);
  t.add_dims(int64_t{1} << 40);
  b.initializer(t);
  b.node("Add", {"x", "w"}, {"y"});
  b.output("y");
  b.proto().mutable_opset_import(0)->set_version(18);
  EXPECT_TRUE(fails_with(b.import(), ExitCode::InvalidModel,
                         {"test.onnx: tensor 'w' has a negative or too large shape"}));
}

TEST(ImportShapeErrors, RawDataOfTheWrongSize) {
  ModelBuilder b(18, 8);
  b.input("x", {2});
  b.initializer(float_tensor("w", {3}, {1, 2}));
  b.node("Add", {"x", "w"}, {"y"});
  b.output("y");
  EXPECT_TRUE(fails_with(b.import(), ExitCode::InvalidModel,
                         {"test.onnx: tensor 'w' has 8 bytes of raw_data", "needs 12"}));
}

TEST(ImportShapeErrors, InitializerDisagreeingWithItsInputDeclaration) {
  ModelBuilder b(9, 3);
  b.input("x", {4, 3});
  b.input("w", {4, 3});
  b.initializer("w", {3, 4}, std::vector<float>(12, 1.0f));
  b.node("Add", {"x", "x"}, {"y"});
  b.node("MatMul", {"y", "w"}, {"z"});
  b.output("z");
  EXPECT_TRUE(fails_with(b.import(), ExitCode::InvalidModel,
                         {"test.onnx: graph input 'w' is declared with another shape than its "
                          "initializer [3,4]"}));
}

TEST(ImportOperandErrors, NonConstantOperand) {
  ModelBuilder b(13);
  b.input("x", {2, 3});
  b.input("shape", {2}, TensorProto::INT64);
  b.node("Reshape", {"x", "shape"}, {"y"}, "reshape");
  b.output("y");
  EXPECT_TRUE(fails_with(b.import(), ExitCode::InvalidModel,
                         {"test.onnx: operand 'shape' of node 'reshape' (Reshape) must be a "
                          "constant"}));
}

TEST(ImportOperandErrors, IntegerInitializerAsData) {
  ModelBuilder b(13);
  b.input("x", {2});
  b.int_initializer("k", {2}, {1, 2});
  b.node("Mul", {"x", "k"}, {"y"}, "mul");
  b.output("y");
  // The ONNX checker does not look at types; our importer does.
  b.proto().mutable_opset_import(0)->set_version(18);
  EXPECT_TRUE(fails_with(b.import(), ExitCode::InvalidModel,
                         {"test.onnx: node 'mul' (Mul) computes on 'k'", "INT64", "only FLOAT"}));
}

TEST(ImportOperandErrors, MaxPoolIndices) {
  ModelBuilder b(12);
  b.input("x", {1, 1, 4, 4});
  b.node("MaxPool", {"x"}, {"y", "idx"}, "pool").ints("kernel_shape", {2, 2});
  b.output("y");
  EXPECT_TRUE(fails_with(b.import(), ExitCode::InvalidModel,
                         {"test.onnx: node 'pool' (MaxPool)", "Indices output 'idx'"}));
}

TEST(ImportOperandErrors, DropoutMaskUsedOrTraining) {
  ModelBuilder b(13);
  b.input("x", {2});
  b.node("Dropout", {"x"}, {"y", "mask"}, "drop");
  b.output("y");
  b.output("mask");
  EXPECT_TRUE(fails_with(b.import(), ExitCode::InvalidModel,
                         {"test.onnx: node 'drop' (Dropout)", "'mask' is read"}));

  ModelBuilder c(13);
  c.input("x", {2});
  onnx::TensorProto yes;
  yes.set_name("train");
  yes.set_data_type(TensorProto::BOOL);
  yes.add_int32_data(1);
  c.initializer(yes);
  c.node("Dropout", {"x", "", "train"}, {"y"}, "drop");
  c.output("y");
  EXPECT_TRUE(fails_with(c.import(), ExitCode::InvalidModel,
                         {"test.onnx: node 'drop' (Dropout)", "training_mode is true"}));
}

TEST(ImportAttributeErrors, UnknownAttribute) {
  // Known to ONNX's checker (opset 13) ...
  ModelBuilder b(13);
  b.input("x", {2});
  b.node("Relu", {"x"}, {"y"}, "relu").i("alpha", 1);
  b.output("y");
  EXPECT_TRUE(fails_with(b.import(), ExitCode::InvalidModel,
                         {"test.onnx: the ONNX checker rejects the model", "alpha"}));
  // ... and to our own lowering, for opsets the library does not know.
  b.proto().mutable_opset_import(0)->set_version(19);
  b.proto().set_ir_version(9);
  EXPECT_TRUE(fails_with(b.import(), ExitCode::InvalidModel,
                         {"test.onnx: node 'relu' (Relu): attribute 'alpha' is not supported"}));
}

TEST(ImportAttributeErrors, WrongAttributeType) {
  ModelBuilder b(18, 8);
  b.input("x", {1, 1, 4, 4});
  b.node("MaxPool", {"x"}, {"y"}, "pool").i("kernel_shape", 2);
  b.output("y");
  EXPECT_TRUE(fails_with(b.import(), ExitCode::InvalidModel,
                         {"test.onnx: node 'pool' (MaxPool)",
                          "attribute 'kernel_shape' must be of type INTS, is INT"}));
}

TEST(ImportAttributeErrors, UnexpectedInput) {
  ModelBuilder b(18, 8);
  b.input("x", {2});
  b.node("Relu", {"x", "x"}, {"y"}, "relu");
  b.output("y");
  EXPECT_TRUE(fails_with(b.import(), ExitCode::InvalidModel,
                         {"test.onnx: node 'relu' (Relu)", "unexpected input #1"}));
}

TEST(ImportAttributeErrors, ConstantWithTwoValues) {
  ModelBuilder b(18, 8);
  b.input("x", {1});
  b.node("Constant", {}, {"c"}, "const").f("value_float", 1.0f).ints("value_ints", {1});
  b.node("Add", {"x", "c"}, {"y"});
  b.output("y");
  EXPECT_TRUE(fails_with(b.import(), ExitCode::InvalidModel,
                         {"test.onnx: node 'const' (Constant)", "exactly one"}));
}

// Lowering errors of single ops, each naming the node, its op and the reason.
TEST(ImportLoweringErrors, OneOpEach) {
  struct Case {
    const char *what;
    std::function<void(ModelBuilder &)> build; // adds node "n" reading "x" [2,3,4], writing "y"
    std::vector<std::string> expected;
  };
  const std::vector<Case> cases = {
      {"reshape with two -1",
       [](ModelBuilder &b) {
         b.int_initializer("s", {2}, {-1, -1});
         b.node("Reshape", {"x", "s"}, {"y"}, "n");
       },
       {"node 'n' (Reshape)", "more than one -1"}},
      {"reshape to a wrong size",
       [](ModelBuilder &b) {
         b.int_initializer("s", {2}, {5, 5});
         b.node("Reshape", {"x", "s"}, {"y"}, "n");
       },
       {"node 'n' (Reshape)", "cannot reshape [2,3,4]"}},
      {"slice step 0",
       [](ModelBuilder &b) {
         b.int_initializer("st", {1}, {0});
         b.int_initializer("en", {1}, {1});
         b.int_initializer("ax", {1}, {0});
         b.int_initializer("sp", {1}, {0});
         b.node("Slice", {"x", "st", "en", "ax", "sp"}, {"y"}, "n");
       },
       {"node 'n' (Slice)", "step of axis 0 is 0"}},
      {"squeeze of a dimension that is not 1",
       [](ModelBuilder &b) {
         b.int_initializer("a", {1}, {1});
         b.node("Squeeze", {"x", "a"}, {"y"}, "n");
       },
       {"node 'n' (Squeeze)", "cannot squeeze axis 1"}},
      {"unsqueeze with a repeated axis",
       [](ModelBuilder &b) {
         b.int_initializer("a", {2}, {0, -5});
         b.node("Unsqueeze", {"x", "a"}, {"y"}, "n");
       },
       {"node 'n' (Unsqueeze)", "repeated"}},
      {"split sizes that do not add up",
       [](ModelBuilder &b) {
         b.int_initializer("sz", {2}, {1, 2});
         b.node("Split", {"x", "sz"}, {"y", "z"}, "n");
       },
       {"node 'n' (Split)", "do not add up to 2"}},
      {"concat without axis",
       [](ModelBuilder &b) {
         b.node("Concat", {"x", "x"}, {"y"}, "n");
       },
       {"node 'n' (Concat)", "attribute 'axis' is required"}},
      {"pad with too few pads",
       [](ModelBuilder &b) {
         b.int_initializer("p", {2}, {1, 1});
         b.node("Pad", {"x", "p"}, {"y"}, "n");
       },
       {"node 'n' (Pad)", "need 6 values for rank 3"}},
      {"softmax axis out of range",
       [](ModelBuilder &b) { b.node("Softmax", {"x"}, {"y"}, "n").i("axis", 3); },
       {"node 'n' (Softmax)", "axis 3 is out of range for rank 3"}},
      {"flatten axis out of range",
       [](ModelBuilder &b) { b.node("Flatten", {"x"}, {"y"}, "n").i("axis", -4); },
       {"node 'n' (Flatten)", "axis -4 is out of range"}},
      {"transpose with a bad perm",
       [](ModelBuilder &b) {
         b.node("Transpose", {"x"}, {"y"}, "n").ints("perm", {0, 0, 1});
       },
       {"node 'n' (Transpose)", "is not a permutation"}},
      {"auto_pad with explicit pads",
       [](ModelBuilder &b) {
         b.int_initializer("s", {4}, {1, 2, 3, 4});
         b.node("Reshape", {"x", "s"}, {"x4"}, "r");
         b.node("MaxPool", {"x4"}, {"y"}, "n")
             .ints("kernel_shape", {2, 2})
             .s("auto_pad", "SAME_UPPER")
             .ints("pads", {1, 1, 1, 1});
       },
       {"node 'n' (MaxPool)", "cannot be combined with auto_pad"}},
      {"clip bound from a computed tensor",
       [](ModelBuilder &b) {
         b.node("ReduceMax", {"x"}, {"m"}, "max");
         b.node("Clip", {"x", "m"}, {"y"}, "n");
       },
       {"unsupported operators: ReduceMax (node 'max')"}},
      {"dropout ratio from a graph input",
       [](ModelBuilder &b) {
         b.input("r", {});
         b.node("Dropout", {"x", "r"}, {"y"}, "n");
       },
       {"operand 'r' of node 'n' (Dropout) must be a constant"}},
  };
  for (const Case &c : cases) {
    ModelBuilder b(18, 8);
    b.input("x", {2, 3, 4});
    c.build(b);
    b.output("y");
    EXPECT_TRUE(fails_with(b.import(), ExitCode::InvalidModel, c.expected)) << c.what;
  }
}

} // namespace
} // namespace anet::test
