#pragma once
/// The op table (ir/ops.def) as C++: op kinds and per-op facts.

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "ir/error.h"
#include "ir/tensor_type.h"

namespace anet {

/// How an op combines with its neighbours when fusing (after TVM's
/// TOpPattern): an elementwise op can join any producer's epilogue; a
/// ComplexOutFusable op (Conv, Gemm) accepts elementwise epilogues.
enum class FusionKind : uint8_t {
  Elementwise,
  Broadcast,
  Injective,
  Reduction,
  ComplexOutFusable,
  Opaque,
};

enum class OpKind : uint16_t {
#define ANET_OP(name, min_in, max_in, outs, fusion) name,
#include "ir/ops.def"
#undef ANET_OP
};

inline constexpr int kNumOps = 0
#define ANET_OP(name, min_in, max_in, outs, fusion) +1
#include "ir/ops.def"
#undef ANET_OP
    ;

struct Node;

/// Computes a node's output types from its input types and attributes;
/// the error names what is wrong (the caller adds the node and op).
using ShapeRule = Expected<std::vector<TensorType>> (*)(const Node &node,
                                                        const std::vector<TensorType> &inputs);

/// One row of the op table.
struct OpInfo {
  std::string_view name;
  int min_inputs;
  int max_inputs;
  int num_outputs; ///< for Split: the maximum; the node says how many.
  FusionKind fusion;
  ShapeRule shape;
};

/// The row for `op`.
const OpInfo &op_info(OpKind op);
inline std::string_view op_name(OpKind op) { return op_info(op).name; }
/// The op named `name`, if the table has it.
std::optional<OpKind> op_from_name(std::string_view name);

/// Runs the op's shape rule; errors name the node and op.
Expected<std::vector<TensorType>> infer_shapes(const Node &node,
                                               const std::vector<TensorType> &inputs);

} // namespace anet
