#pragma once
/// SHA-256 (FIPS 180-4), for content keys that must not depend on LLVM: the
/// CUDA kernels a plan carries are keyed by the hash of their source, and
/// the GPU machine's build has no LLVM.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace anet {

/// The 32-byte digest of `data`.
std::array<uint8_t, 32> sha256(std::string_view data);

/// The digest as 64 lowercase hex digits.
std::string sha256_hex(std::string_view data);

/// A payload sealed for a disk cache: `magic`, the SHA-256 of the payload,
/// the payload (the kernel caches of codegen/cpu/jit.cpp and
/// codegen/cuda/nvrtc.cpp).
std::string seal(std::string_view magic, std::string_view payload);

/// The payload of what seal(magic, ...) wrote, or nullopt where `sealed` is
/// not that (another magic, truncated, damaged, or an empty payload).
std::optional<std::string> unseal(std::string_view magic, std::string_view sealed);

} // namespace anet
