// The import driver: bytes -> ModelProto -> checks -> IR graph.
//
//   1. parse the bytes once (protobuf; size limits checked first);
//   2. check the IR version and the default-domain opset (7 to 21);
//   3. refuse unsupported ops, all of them in one message;
//   4. read external data into the model (inside the model directory only);
//   5. run ONNX's checker, when the installed library (1.12: IR version <= 8,
//      opset <= 17) knows the model; newer models skip it rather than fail
//      because the library is older;
//   6. lower every node (GraphBuilder), which runs the op table's shape
//      rules, so every value gets a static shape whatever the opset, and
//      verify the IR;
//   7. run ONNX's shape inference, again where the library knows the model.
//      It comes after our own shape rules because it is not robust against
//      what they refuse: ONNX 1.12 divides by zero on a pooling stride of 0.
// Every error message starts with the model's display name.

#include "frontend/onnx_import.h"

#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>

#include "frontend/onnx_lowering.h"
#include "frontend/onnx_tensor.h"

namespace anet {
namespace {

using frontend::find_lowering;
using frontend::GraphBuilder;

constexpr int64_t kMinOpset = 7;
constexpr int64_t kMaxOpset = 21;
// What the installed ONNX library (1.12) knows.
constexpr int64_t kLibraryMaxIrVersion = 8;
constexpr int64_t kLibraryMaxOpset = 17;
// Protobuf cannot parse messages of 2 GiB or more.
constexpr int64_t kMaxProtoBytes = INT_MAX;

Error bad(const auto &...parts) { return make_error(ExitCode::InvalidModel, parts...); }

bool is_default_domain(const std::string &domain) { return domain.empty() || domain == "ai.onnx"; }

Expected<int64_t> check_versions(const onnx::ModelProto &model) {
  if (model.ir_version() < 3)
    return bad("IR version ", model.ir_version(),
               " is not supported (IR version 3 or newer, with opset imports, is required)");
  std::optional<int64_t> opset;
  for (const auto &import : model.opset_import()) {
    if (!is_default_domain(import.domain()))
      continue;
    if (opset && *opset != import.version())
      return bad("the default ONNX domain is imported twice (opsets ", *opset, " and ",
                 import.version(), ")");
    opset = import.version();
  }
  if (!opset)
    return bad("the model does not import the default ONNX operator set");
  if (*opset < kMinOpset || *opset > kMaxOpset)
    return bad("default-domain opset ", *opset, " is not supported (anet supports opsets ",
               kMinOpset, " to ", kMaxOpset, ")");
  return *opset;
}

// One message naming every unsupported op and the nodes that use it.
Status check_ops_supported(const onnx::GraphProto &graph) {
  std::map<std::string, std::vector<std::string>> unsupported;
  for (int i = 0; i < graph.node_size(); ++i) {
    const onnx::NodeProto &node = graph.node(i);
    bool ok = is_default_domain(node.domain()) && find_lowering(node.op_type()) != nullptr;
    if (ok)
      continue;
    std::string op =
        is_default_domain(node.domain()) ? node.op_type() : node.domain() + ":" + node.op_type();
    unsupported[op].push_back(node.name().empty() ? node.op_type() + "_" + std::to_string(i)
                                                  : node.name());
  }
  if (unsupported.empty())
    return {};
  std::ostringstream os;
  os << "unsupported operators: ";
  bool first = true;
  for (const auto &[op, nodes] : unsupported) {
    os << (first ? "" : "; ") << op << " (node" << (nodes.size() > 1 ? "s " : " ");
    first = false;
    constexpr size_t kShown = 8;
    for (size_t i = 0; i < nodes.size() && i < kShown; ++i)
      os << (i ? ", " : "") << "'" << nodes[i] << "'";
    if (nodes.size() > kShown)
      os << " and " << nodes.size() - kShown << " more";
    os << ")";
  }
  return bad(os.str());
}

// Reads external data of initializers and Constant node tensors into the
// model, so that every later step sees the data inline.
Status load_external_data(onnx::GraphProto &graph, const std::string &model_dir, int64_t budget) {
  for (auto &t : *graph.mutable_initializer())
    ANET_RETURN_IF_ERR(frontend::internalize_external_data(t, model_dir, budget));
  for (auto &node : *graph.mutable_node())
    for (auto &attr : *node.mutable_attribute())
      if (attr.has_t())
        ANET_RETURN_IF_ERR(
            frontend::internalize_external_data(*attr.mutable_t(), model_dir, budget));
  return {};
}

// ONNX 1.12's checker insists that every declared tensor type has a shape,
// which the spec has since made optional (an unknown rank). While an object
// of this class lives, such declarations carry an empty shape.
class ShapesForOldChecker {
public:
  explicit ShapesForOldChecker(onnx::GraphProto &graph) {
    for (auto *infos : {graph.mutable_input(), graph.mutable_output(), graph.mutable_value_info()})
      for (auto &vi : *infos)
        if (vi.type().has_tensor_type() && !vi.type().tensor_type().has_shape())
          patched_.push_back(vi.mutable_type()->mutable_tensor_type());
    for (auto *t : patched_)
      t->mutable_shape();
  }
  ShapesForOldChecker(const ShapesForOldChecker &) = delete;
  ShapesForOldChecker &operator=(const ShapesForOldChecker &) = delete;
  ~ShapesForOldChecker() {
    for (auto *t : patched_)
      t->clear_shape();
  }

private:
  std::vector<onnx::TypeProto_Tensor *> patched_;
};

// While an object of this class lives, the graph has no value_info and its
// outputs no declared types (see run_onnx_shape_inference).
class DeclaredTypesSetAside {
public:
  explicit DeclaredTypesSetAside(onnx::GraphProto &graph)
      : graph_(graph), outputs_(graph.output()) {
    value_info_.Swap(graph.mutable_value_info());
    for (auto &output : *graph.mutable_output())
      output.clear_type();
  }
  DeclaredTypesSetAside(const DeclaredTypesSetAside &) = delete;
  DeclaredTypesSetAside &operator=(const DeclaredTypesSetAside &) = delete;
  ~DeclaredTypesSetAside() {
    value_info_.Swap(graph_.mutable_value_info());
    outputs_.Swap(graph_.mutable_output());
  }

private:
  onnx::GraphProto &graph_;
  google::protobuf::RepeatedPtrField<onnx::ValueInfoProto> value_info_, outputs_;
};

// ONNX's own checker.
Status run_onnx_checker(onnx::ModelProto &model) {
  try {
    ShapesForOldChecker patched(*model.mutable_graph());
    onnx::checker::check_model(model);
  } catch (const std::exception &e) {
    return bad("the ONNX checker rejects the model: ", e.what());
  }
  return {};
}

// ONNX's own shape inference, in its lenient mode and without the model's
// declared output and intermediate types: graph-level inconsistencies (an
// initializer whose type contradicts its input declaration, an op given a
// type it does not take, ...) still fail, but the library's per-node shape
// rules cannot refuse a valid model, because they predate later corrections
// of the spec (ONNX 1.12 infers a MaxPool with ceil_mode one element too
// large when the last window would start in the padding, which ONNX's node
// test test_maxpool_2d_ceil_output_size_reduce_by_one declares correctly).
// Our op table's shape rules decide every shape, and the declared output
// shapes are checked against them when the graph is built.
Status run_onnx_shape_inference(onnx::ModelProto &model) {
  try {
    DeclaredTypesSetAside aside(*model.mutable_graph());
    onnx::ShapeInferenceOptions options(/*check_type=*/true, /*error_mode=*/0);
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(), options);
  } catch (const std::exception &e) {
    return bad("ONNX shape inference rejects the model: ", e.what());
  }
  return {};
}

Expected<ImportedModel> import_model(std::string bytes, const std::string &model_dir,
                                     const ImportOptions &opts) {
  if (opts.batch && *opts.batch < 1)
    return make_error(ExitCode::Usage, "batch size ", *opts.batch, " must be positive");
  if (opts.memory_budget_bytes <= 0)
    return make_error(ExitCode::Usage, "memory budget ", opts.memory_budget_bytes,
                      " must be positive");
  if (bytes.empty())
    return bad("the model is empty (0 bytes); it is not an ONNX model");
  if (static_cast<int64_t>(bytes.size()) >= kMaxProtoBytes)
    return bad("the model is ", bytes.size(),
               " bytes; ONNX models must be under 2 GiB (larger weights go in external data)");

  onnx::ModelProto model;
  if (!model.ParseFromString(bytes))
    return bad("not a valid ONNX model: the bytes do not parse as an ONNX ModelProto (the file "
               "is truncated, corrupt, or not an ONNX model)");
  if (!model.has_graph())
    return bad("not a valid ONNX model: it has no graph");
  ANET_ASSIGN_OR_RETURN(int64_t opset, check_versions(model));
  ANET_RETURN_IF_ERR(check_ops_supported(model.graph()));
  ANET_RETURN_IF_ERR(
      load_external_data(*model.mutable_graph(), model_dir, opts.memory_budget_bytes));
  bool library_knows_model =
      model.ir_version() <= kLibraryMaxIrVersion && opset <= kLibraryMaxOpset;
  if (library_knows_model)
    ANET_RETURN_IF_ERR(run_onnx_checker(model));

  GraphBuilder builder(model, opts, opset);
  ANET_RETURN_IF_ERR(builder.build());
  ANET_RETURN_IF_ERR(verify(builder.graph()));
  if (library_knows_model)
    ANET_RETURN_IF_ERR(run_onnx_shape_inference(model));
  return ImportedModel{std::move(builder.graph()), std::move(builder.weights()), std::move(bytes),
                       opset};
}

// Reads a whole file, refusing directories and files of `max_bytes` or more.
Expected<std::string> read_file(const std::string &path, int64_t max_bytes) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return make_error(ExitCode::IO, "is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return make_error(ExitCode::IO, "cannot open the file: ", std::strerror(errno));
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  if (size < 0)
    return make_error(ExitCode::IO, "cannot read the file's size");
  if (size >= max_bytes)
    return bad("the file is ", size, " bytes; at most ", max_bytes - 1, " are supported");
  in.seekg(0, std::ios::beg);
  std::string bytes(static_cast<size_t>(size), '\0');
  if (!in.read(bytes.data(), size))
    return make_error(ExitCode::IO, "cannot read the file");
  return bytes;
}

} // namespace

Expected<ImportedModel> import_onnx_file(const std::string &path, const ImportOptions &opts) {
  auto bytes = read_file(path, kMaxProtoBytes);
  if (!bytes)
    return with_context(std::move(bytes).take_error(), path);
  std::string dir = std::filesystem::path(path).parent_path().string();
  auto model = import_model(std::move(bytes).value(), dir.empty() ? "." : dir, opts);
  if (!model)
    return with_context(std::move(model).take_error(), path);
  return model;
}

Expected<ImportedModel> import_onnx_bytes(const std::string &bytes, const std::string &model_dir,
                                          const std::string &display_name,
                                          const ImportOptions &opts) {
  auto model = import_model(bytes, model_dir, opts);
  if (!model)
    return with_context(std::move(model).take_error(), display_name);
  return model;
}

Expected<Tensor> read_tensor_proto_file(const std::string &path) {
  auto fail = [&](Error e) { return with_context(std::move(e), path); };
  auto bytes = read_file(path, kMaxProtoBytes);
  if (!bytes)
    return fail(std::move(bytes).take_error());
  onnx::TensorProto proto;
  if (bytes->empty() || !proto.ParseFromString(*bytes))
    return fail(bad("not a valid ONNX TensorProto"));
  if (proto.data_location() == onnx::TensorProto::EXTERNAL)
    return fail(bad("tensor '", proto.name(), "' uses external data, which is not supported here"));
  auto shape = frontend::tensor_shape(proto);
  if (!shape)
    return fail(std::move(shape).take_error());
  auto data = frontend::tensor_floats(proto, /*release=*/true);
  if (!data)
    return fail(std::move(data).take_error());
  return Tensor(TensorType{DType::F32, std::move(shape).value()}, std::move(data).value());
}

} // namespace anet
