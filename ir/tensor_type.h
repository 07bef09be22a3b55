#pragma once
/// Element types and static tensor types (NCHW, row-major).

#include <cstdint>
#include <string>
#include <vector>

namespace anet {

/// Element type of a tensor. float32 first; bf16/fp16 later.
enum class DType : uint8_t { F32 };

/// Name of a dtype as the IR text writes it ("f32").
const char *dtype_name(DType t);
/// Size of one element in bytes.
int64_t dtype_size(DType t);

using Shape = std::vector<int64_t>;

/// A static tensor type: element type and fully known dimensions.
struct TensorType {
  DType dtype = DType::F32;
  Shape shape;

  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
  /// Number of elements (1 for a scalar). Shapes in a verified graph are
  /// known not to overflow.
  int64_t numel() const;
  int64_t bytes() const { return numel() * dtype_size(dtype); }
  bool operator==(const TensorType &) const = default;
};

/// "f32[1,3,224,224]".
std::string to_string(const TensorType &t);
/// "[1,3,224,224]".
std::string shape_string(const Shape &s);

/// Largest tensor the compiler accepts, in elements: keeps shape arithmetic
/// far from int64 overflow and refuses absurd models early (16 Gi elements).
inline constexpr int64_t kMaxTensorElements = int64_t{1} << 34;

/// Product of `s` if every dimension is >= 0 and the product stays within
/// kMaxTensorElements, else -1.
int64_t checked_numel(const Shape &s);

} // namespace anet
