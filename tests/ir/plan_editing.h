#pragma once
// A second, independent reading of the plan layout in docs/plan-format.md:
// split a plan file into its header fields and sections, and join them
// back with fresh lengths and checksums. Tests use it to forge plans (an
// unknown section, a hostile count, a program that does not parse) that
// still pass the checksums, and to check that the writer follows the
// document byte for byte; the plan fuzzer uses it to reseal mutated inputs
// so mutations reach the payload decoders.

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ir/byte_order.h"
#include "ir/checksum.h"
#include "ir/plan.h"

namespace anet::testing {

struct PlanSection {
  std::string tag; ///< four characters
  uint32_t flags = 0;
  std::string payload;
};

struct PlanPieces {
  uint32_t version = kPlanFormatVersion;
  uint32_t header_flags = 0;
  std::string producer;
  std::vector<PlanSection> sections;
};

inline void put_u32(std::string &b, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    b += static_cast<char>(v >> (8 * i));
}
inline void put_u64(std::string &b, uint64_t v) {
  put_u32(b, static_cast<uint32_t>(v));
  put_u32(b, static_cast<uint32_t>(v >> 32));
}
inline size_t align64(size_t n) { return (n + 63) / 64 * 64; }

/// Reads the layout without checking checksums or the file length; nullopt
/// when the structure itself does not fit in the bytes.
inline std::optional<PlanPieces> split_plan(std::string_view b) {
  if (b.size() < 32 || b.substr(0, 8) != "ANETPLAN")
    return std::nullopt;
  PlanPieces p;
  p.version = load_u32(b, 8);
  p.header_flags = load_u32(b, 12);
  uint32_t count = load_u32(b, 24);
  uint32_t producer_length = load_u32(b, 28);
  if (producer_length > b.size() - 32 || count > 4096)
    return std::nullopt;
  p.producer = std::string(b.substr(32, producer_length));
  size_t pos = align64(32 + producer_length);
  for (uint32_t i = 0; i < count; ++i) {
    if (pos > b.size() || b.size() - pos < 64)
      return std::nullopt;
    PlanSection s;
    s.tag = std::string(b.substr(pos, 4));
    s.flags = load_u32(b, pos + 4);
    uint64_t length = load_u64(b, pos + 8);
    if (length > b.size() - pos - 64)
      return std::nullopt;
    s.payload = std::string(b.substr(pos + 64, length));
    p.sections.push_back(std::move(s));
    pos = align64(pos + 64 + length);
  }
  return p;
}

/// Writes the layout with correct lengths and checksums.
inline std::string join_plan(const PlanPieces &p) {
  std::string b = "ANETPLAN";
  put_u32(b, p.version);
  put_u32(b, p.header_flags);
  put_u64(b, 0); // file length, set below
  put_u32(b, static_cast<uint32_t>(p.sections.size()));
  put_u32(b, static_cast<uint32_t>(p.producer.size()));
  b += p.producer;
  b.resize(align64(b.size()), '\0');
  for (const PlanSection &s : p.sections) {
    std::string tag = s.tag;
    tag.resize(4, ' ');
    b += tag;
    put_u32(b, s.flags);
    put_u64(b, s.payload.size());
    put_u32(b, crc32(s.payload));
    b.resize(b.size() + 44, '\0');
    b += s.payload;
    b.resize(align64(b.size()), '\0');
  }
  store_u64(b, 16, b.size() + 16);
  b += std::string_view("ANETEND\0", 8);
  put_u32(b, crc32(b));
  put_u32(b, 0);
  return b;
}

/// The section tagged `tag` (the first one), or nullptr.
inline PlanSection *find_section(PlanPieces &p, std::string_view tag) {
  for (PlanSection &s : p.sections)
    if (s.tag == tag)
      return &s;
  return nullptr;
}

} // namespace anet::testing
