#include "ir/tensor_type.h"

#include <sstream>

namespace anet {

const char *dtype_name(DType t) {
  switch (t) {
  case DType::F32:
    return "f32";
  }
  return "?";
}

int64_t dtype_size(DType t) {
  switch (t) {
  case DType::F32:
    return 4;
  }
  return 0;
}

int64_t TensorType::numel() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

int64_t checked_numel(const Shape &s) {
  int64_t n = 1;
  for (int64_t d : s) {
    if (d < 0)
      return -1;
    if (d != 0 && n > kMaxTensorElements / d)
      return -1;
    n *= d;
  }
  return n;
}

std::string shape_string(const Shape &s) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < s.size(); ++i)
    os << (i ? "," : "") << s[i];
  os << ']';
  return os.str();
}

std::string to_string(const TensorType &t) { return dtype_name(t.dtype) + shape_string(t.shape); }

} // namespace anet
