#pragma once
/// The CPU kernel emitters: for each node, C++ source with its shapes,
/// strides and constants baked in, for the host JIT (codegen/cpu/jit.h).
///
/// A kernel's source is a parameter struct `P` of compile-time constants and
/// one line that instantiates the op's kernel template with it:
///
///   struct P {
///     static constexpr long n = 128, c = 3, h = 227, w = 227;
///     ...
///   };
///   ANET_KERNEL(conv)
///
/// The source names no target: each kernel library defines ANET_KERNEL. The
/// CPU's (codegen/cpu/kernels/all.h) makes `constexpr anet_kernel_info
/// kernel = ak::conv<P>();`, which the JIT wraps in a namespace of its own and
/// exports under a symbol derived from the hash of the body, so two nodes with
/// equal shapes and attributes share one compiled kernel. The CUDA library
/// (codegen/cuda/kernels/all.h) makes the __global__ function of the same
/// template there (codegen/cuda/emit.h).

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ir/activation.h"
#include "ir/error.h"
#include "ir/graph.h"

namespace anet::cpu {

/// What an emitter sees of its node.
struct EmitContext {
  const Graph &graph;
  const Node &node;
  std::vector<Shape> in;  ///< input shapes, in the node's order
  std::vector<Shape> out; ///< output shapes, in the node's order
};

/// Writes the parameter struct of a kernel and the line that instantiates
/// its template: the one way every emitter formats constants.
class KernelSourceBuilder {
public:
  /// `static constexpr long name = v;`
  KernelSourceBuilder &constant(std::string_view name, int64_t v);
  /// `static constexpr bool name = v;`
  KernelSourceBuilder &flag(std::string_view name, bool v);
  /// `static constexpr float name = v;` written exactly (hex float).
  KernelSourceBuilder &constant(std::string_view name, float v);
  /// `static constexpr anet_array<long, N> name = {{...}};` and `name_size`
  /// (at least one element: an empty list is written as {0} with a
  /// `name_size` of 0). anet_array (each kernel library's base.h) is a plain
  /// array with a constexpr operator[]: CUDA device code cannot index a
  /// static constexpr array member, but can a local constexpr copy of one.
  KernelSourceBuilder &array(std::string_view name, std::span<const int64_t> v);
  /// `static constexpr anet_array<float, N> name = {{...}};` likewise.
  KernelSourceBuilder &array(std::string_view name, std::span<const float> v);
  /// The finished body: struct P, then `ANET_KERNEL(<kernel_template>)`.
  std::string finish(std::string_view kernel_template) const;

private:
  std::string fields_;
};

/// Writes an activation as kernels/activation.h reads it: `act` (its code),
/// `act_min` and `act_max` (Clip's bounds; 0 otherwise). nullopt is kNone.
void add_activation(KernelSourceBuilder &b, const std::optional<Activation> &act);

/// Writes `shape` split around `axis` as the per-axis kernels read it:
/// `outer` (the product of the axes before it), `axis_name` (its size) and
/// `inner` (the product after it).
void add_axis_split(KernelSourceBuilder &b, const Shape &shape, int64_t axis,
                    std::string_view axis_name);

/// Writes the shape and window of a pool over x [N, C, H, W] giving
/// y [N, C, OH, OW], as kernels/pooling.h reads them (planes, height, width,
/// out_h, out_w, kernel_h/_w, stride_h/_w, dilation_h/_w, pad_top, pad_left),
/// from the canonical attributes of `node`.
void add_pool_window(KernelSourceBuilder &b, const Node &node, const Shape &x, const Shape &y);

/// Formats a float as a C++ literal that reads back to the same bits
/// (hex float; inf and nan as __builtin_bit_cast of their bits).
std::string float_literal(float v);

/// The source body of node `id`'s kernel. Every op of ir/ops.def has an
/// emitter; an attribute combination the CPU kernels cannot run is an error
/// naming the node and op.
Expected<std::string> emit_kernel(const Graph &graph, NodeId id);

/// One emitter per op, defined in the emit_*.cpp file of its family.
#define ANET_OP(name, min_in, max_in, outs, fusion)                                                \
  Expected<std::string> emit_##name(const EmitContext &ctx);
#include "ir/ops.def"
#undef ANET_OP

} // namespace anet::cpu
