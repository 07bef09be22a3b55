#pragma once
// A second, independent reading of the checkpoint layout in
// docs/checkpoint-format.md: split a checkpoint file into its header
// fields, JSON header and data, and join them back with fresh lengths and
// checksums. Tests use it to forge checkpoints that pass the checksums but
// carry a hostile JSON header, and to check that the writer follows the
// document; the checkpoint fuzzer uses it to reseal mutated inputs so that
// mutations reach the JSON decoding.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ir/byte_order.h"
#include "ir/checksum.h"

namespace anet::testing {

/// The parts of a checkpoint file that are not derived from the others.
struct CheckpointPieces {
  uint32_t version = 1;
  uint32_t flags = 0;
  std::string reserved = std::string(24, '\0'); ///< bytes 32 to 55
  std::string json;                             ///< the JSON header
  std::string data;                             ///< everything after the header's padding
};

/// Splits `bytes` by the documented layout, ignoring the file length and
/// the checksums; none if it is too short, has another magic, or its JSON
/// header runs past the end.
inline std::optional<CheckpointPieces> split_checkpoint(std::string_view bytes) {
  if (bytes.size() < 64 || bytes.substr(0, 8) != "ANETCKPT")
    return std::nullopt;
  const uint64_t json_length = load_u64(bytes, 24);
  if (json_length > bytes.size() - 64)
    return std::nullopt;
  const uint64_t data_at = (64 + json_length + 63) / 64 * 64;
  if (data_at > bytes.size())
    return std::nullopt;
  CheckpointPieces p;
  p.version = load_u32(bytes, 8);
  p.flags = load_u32(bytes, 12);
  p.reserved = std::string(bytes.substr(32, 24));
  p.json = std::string(bytes.substr(64, json_length));
  p.data = std::string(bytes.substr(data_at));
  return p;
}

/// The file of `p`: fixed header with fresh lengths and CRCs, the JSON
/// padded with zeros to a multiple of 64, then the data as it is.
inline std::string join_checkpoint(const CheckpointPieces &p) {
  auto put = [](std::string &b, size_t at, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i)
      b[at + static_cast<size_t>(i)] = static_cast<char>(v >> (8 * i));
  };
  const uint64_t data_at = (64 + p.json.size() + 63) / 64 * 64;
  std::string b(data_at, '\0');
  b.replace(0, 8, "ANETCKPT");
  put(b, 8, p.version, 4);
  put(b, 12, p.flags, 4);
  put(b, 16, data_at + p.data.size(), 8);
  put(b, 24, p.json.size(), 8);
  std::string reserved = p.reserved;
  reserved.resize(24, '\0');
  b.replace(32, 24, reserved);
  b.replace(64, p.json.size(), p.json);
  const std::string_view view(b);
  put(b, 56, crc32(view.substr(64), crc32(view.substr(0, 56))), 4);
  put(b, 60, crc32(p.data), 4);
  return b + p.data;
}

} // namespace anet::testing
