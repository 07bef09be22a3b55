#pragma once
/// Little-endian fields in byte strings: the one encoding of every binary
/// file anet writes (plans, checkpoints), on any host byte order.

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace anet {

/// The u32 at byte `at` of `b` (which must hold it).
inline uint32_t load_u32(std::string_view b, uint64_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i)
    v = v << 8 | static_cast<unsigned char>(b[at + static_cast<uint64_t>(i)]);
  return v;
}

/// The u64 at byte `at` of `b` (which must hold it).
inline uint64_t load_u64(std::string_view b, uint64_t at) {
  return uint64_t{load_u32(b, at)} | uint64_t{load_u32(b, at + 4)} << 32;
}

/// Writes `v` over the 4 bytes at `at` of `b` (which must hold them).
inline void store_u32(std::string &b, uint64_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    b[at + static_cast<uint64_t>(i)] = static_cast<char>(v >> (8 * i));
}

/// Writes `v` over the 8 bytes at `at` of `b` (which must hold them).
inline void store_u64(std::string &b, uint64_t at, uint64_t v) {
  store_u32(b, at, static_cast<uint32_t>(v));
  store_u32(b, at + 4, static_cast<uint32_t>(v >> 32));
}

/// The floats held in `b` (b.size() / 4 of them).
inline std::vector<float> load_floats(std::string_view b) {
  std::vector<float> out(b.size() / 4);
  if constexpr (std::endian::native == std::endian::little) {
    if (!out.empty()) // memcpy must not see an empty vector's null data
      std::memcpy(out.data(), b.data(), out.size() * 4);
  } else {
    for (size_t i = 0; i < out.size(); ++i)
      out[i] = std::bit_cast<float>(load_u32(b, 4 * i));
  }
  return out;
}

/// Writes `values` over the bytes from `at` of `b` (which must hold them).
inline void store_floats(std::string &b, uint64_t at, const std::vector<float> &values) {
  if constexpr (std::endian::native == std::endian::little) {
    if (!values.empty())
      std::memcpy(b.data() + at, values.data(), values.size() * 4);
  } else {
    for (size_t i = 0; i < values.size(); ++i)
      store_u32(b, at + 4 * i, std::bit_cast<uint32_t>(values[i]));
  }
}

} // namespace anet
