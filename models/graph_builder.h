#pragma once
/// Shared building blocks of the model builders: a GraphBuilder that appends
/// inputs, outputs, initializers and nodes to one ONNX graph, and one function
/// per layer kind (convolution, ReLU, LRN, pooling, fully connected, softmax).
/// The builders in alexnet.cpp and exporter_variants.cpp are sequences of
/// these calls; naming and exporter quirks stay in the builders.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

namespace anet::models {

/// The parts of a model's header that differ between exporters.
struct ModelHeader {
  /// Graph name.
  std::string graph_name;
  /// ModelProto.ir_version.
  int64_t ir_version = 8;
  /// Version of the default ("") operator set.
  int64_t opset = 17;
  /// Old exporters (IR < 4 era) listed every initializer as a graph input too.
  bool initializers_as_inputs = false;
  /// ModelProto.doc_string.
  std::string doc;
};

/// Appends to the graph of one ModelProto. Parameter tensors are drawn from
/// a stream seeded by (seed, tensor name), see models/normal_generator.h.
class GraphBuilder {
public:
  /// Clears `model`, writes its header (IR version, opset, producer, seed in
  /// metadata_props) and builds into its graph. `model` must outlive this.
  GraphBuilder(onnx::ModelProto &model, const ModelHeader &header, uint64_t seed);

  /// Declares the float graph input `name` of shape [batch, dims...]; an
  /// unset batch is the symbolic dimension "N".
  void add_input(const std::string &name, std::optional<int64_t> batch,
                 const std::vector<int64_t> &dims);
  /// Declares the float graph output `name` of shape [batch, dims...].
  void add_output(const std::string &name, std::optional<int64_t> batch,
                  const std::vector<int64_t> &dims);

  /// Adds a float initializer with values ~ N(0, stddev^2); returns `name`.
  std::string normal_tensor(const std::string &name, const std::vector<int64_t> &dims,
                            double stddev);
  /// Adds a float initializer with every element equal to `value`; returns
  /// `name`. Empty `dims` is a scalar.
  std::string filled_tensor(const std::string &name, const std::vector<int64_t> &dims, float value);
  /// Adds an int64 initializer (shapes, axes); returns `name`.
  std::string int64_tensor(const std::string &name, const std::vector<int64_t> &dims,
                           const std::vector<int64_t> &values);

  /// Appends a node of the default domain; attributes are set by the caller.
  onnx::NodeProto &add_node(const std::string &op_type, const std::string &name,
                            const std::vector<std::string> &inputs,
                            const std::vector<std::string> &outputs);

private:
  onnx::TensorProto &new_initializer(const std::string &name, const std::vector<int64_t> &dims,
                                     int32_t elem_type);

  onnx::GraphProto &graph_;
  bool initializers_as_inputs_;
  uint64_t seed_;
};

/// Sets an integer attribute.
void set_int_attr(onnx::NodeProto &node, const std::string &name, int64_t value);
/// Sets a float attribute.
void set_float_attr(onnx::NodeProto &node, const std::string &name, float value);
/// Sets an integer-list attribute.
void set_ints_attr(onnx::NodeProto &node, const std::string &name,
                   const std::vector<int64_t> &values);

/// Output size of a sliding window (convolution or pooling, floor rounding)
/// over `size` elements padded by `pad_begin` and `pad_end`. The builders use
/// it to size the layers after the convolutions; it asserts that the window
/// fits, since every size it sees is fixed by a builder.
int64_t window_output_size(int64_t size, int64_t kernel, int64_t stride, int64_t pad_begin,
                           int64_t pad_end);

/// A 2-D convolution with bias: weight [out, in/group, k, k], bias [out].
struct ConvSpec {
  std::string node;   ///< node name (may be empty, as some exporters leave it)
  std::string output; ///< output value name
  std::string weight; ///< weight initializer name
  std::string bias;   ///< bias initializer name
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  int64_t kernel = 1;
  int64_t stride = 1;
  int64_t pad = 0; ///< the same on every side
  int64_t group = 1;
  double weight_std = 0.01; ///< weights ~ N(0, weight_std^2)
  float bias_value = 0.f;   ///< every bias element
};
/// Appends a Conv node (kernel_shape, strides, pads, group set; dilations left
/// to ONNX's default) and its parameters; returns the output value name.
std::string add_conv(GraphBuilder &b, const std::string &input, const ConvSpec &spec);

/// A fully connected layer as Gemm with transB=1: weight [out, in], bias [out].
struct GemmSpec {
  std::string node;   ///< node name
  std::string output; ///< output value name
  std::string weight; ///< weight initializer name
  std::string bias;   ///< bias initializer name
  int64_t in_features = 0;
  int64_t out_features = 0;
  double weight_std = 0.01; ///< weights ~ N(0, weight_std^2)
  float bias_value = 0.f;   ///< every bias element
};
/// Appends a Gemm node (transB=1, alpha and beta left at 1) and its
/// parameters; returns the output value name.
std::string add_gemm(GraphBuilder &b, const std::string &input, const GemmSpec &spec);

/// Appends a Relu node; returns `output`.
std::string add_relu(GraphBuilder &b, const std::string &node, const std::string &input,
                     const std::string &output);

/// LRN constants in ONNX's convention: ONNX divides alpha by size, so the
/// paper's alpha=1e-4 is alpha=5e-4 here.
struct LrnSpec {
  int64_t size = 5;
  float alpha = 5e-4f;
  float beta = 0.75f;
  float bias = 2.f;
};
/// Appends an LRN node with every attribute set; returns `output`.
std::string add_lrn(GraphBuilder &b, const std::string &node, const std::string &input,
                    const std::string &output, const LrnSpec &spec);

/// A square pooling window. `pads` is ONNX's [top, left, bottom, right]; empty
/// leaves the attribute out (ONNX's default: no padding).
struct PoolSpec {
  int64_t kernel = 3;
  int64_t stride = 2;
  std::vector<int64_t> pads;
};
/// Appends a MaxPool node; returns `output`.
std::string add_max_pool(GraphBuilder &b, const std::string &node, const std::string &input,
                         const std::string &output, const PoolSpec &spec);
/// Appends an AveragePool node; returns `output`.
std::string add_average_pool(GraphBuilder &b, const std::string &node, const std::string &input,
                             const std::string &output, const PoolSpec &spec);

/// Appends a Softmax node; an unset axis leaves the attribute to the opset's
/// default. Returns `output`.
std::string add_softmax(GraphBuilder &b, const std::string &node, const std::string &input,
                        const std::string &output, std::optional<int64_t> axis);

} // namespace anet::models
