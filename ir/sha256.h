#pragma once
/// SHA-256 (FIPS 180-4), for content keys that must not depend on LLVM: the
/// CUDA kernels a plan carries are keyed by the hash of their source, and
/// the GPU machine's build has no LLVM.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace anet {

/// The 32-byte digest of `data`.
std::array<uint8_t, 32> sha256(std::string_view data);

/// The digest as 64 lowercase hex digits.
std::string sha256_hex(std::string_view data);

} // namespace anet
