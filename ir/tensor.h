#pragma once
/// A tensor with its data on the host: what programs take and return.

#include <vector>

#include "ir/tensor_type.h"

namespace anet {

struct Tensor {
  TensorType type;
  std::vector<float> data; ///< row-major, type.numel() elements

  Tensor() = default;
  explicit Tensor(TensorType t) : type(std::move(t)), data(static_cast<size_t>(type.numel())) {}
  Tensor(TensorType t, std::vector<float> d) : type(std::move(t)), data(std::move(d)) {}
};

} // namespace anet
