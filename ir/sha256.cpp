// SHA-256 as FIPS 180-4 specifies it: 64-byte blocks, a 64-entry message
// schedule, 64 rounds per block.

#include "ir/sha256.h"

#include <bit>

namespace anet {
namespace {

// The first 32 bits of the fractional parts of the cube roots of the first
// 64 primes (FIPS 180-4, 4.2.2).
constexpr uint32_t kRound[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

void compress(std::array<uint32_t, 8> &h, const uint8_t *block) {
  uint32_t w[64];
  for (int t = 0; t < 16; ++t)
    w[t] = uint32_t{block[4 * t]} << 24 | uint32_t{block[4 * t + 1]} << 16 |
           uint32_t{block[4 * t + 2]} << 8 | uint32_t{block[4 * t + 3]};
  for (int t = 16; t < 64; ++t) {
    const uint32_t s0 = std::rotr(w[t - 15], 7) ^ std::rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
    const uint32_t s1 = std::rotr(w[t - 2], 17) ^ std::rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
    w[t] = w[t - 16] + s0 + w[t - 7] + s1;
  }
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
  for (int t = 0; t < 64; ++t) {
    const uint32_t t1 = k + (std::rotr(e, 6) ^ std::rotr(e, 11) ^ std::rotr(e, 25)) +
                        ((e & f) ^ (~e & g)) + kRound[t] + w[t];
    const uint32_t t2 =
        (std::rotr(a, 2) ^ std::rotr(a, 13) ^ std::rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    k = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  const uint32_t out[8] = {a, b, c, d, e, f, g, k};
  for (int i = 0; i < 8; ++i)
    h[static_cast<size_t>(i)] += out[i];
}

} // namespace

std::array<uint8_t, 32> sha256(std::string_view data) {
  // Initial hash: the fractional parts of the square roots of the first 8
  // primes (4.2.2... 5.3.3).
  std::array<uint32_t, 8> h = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                               0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  const auto *bytes = reinterpret_cast<const uint8_t *>(data.data());
  size_t done = 0;
  for (; done + 64 <= data.size(); done += 64)
    compress(h, bytes + done);
  // Padding: 0x80, zeros, then the length in bits as a big-endian u64.
  uint8_t tail[128] = {};
  const size_t rest = data.size() - done;
  for (size_t i = 0; i < rest; ++i)
    tail[i] = bytes[done + i];
  tail[rest] = 0x80;
  const size_t tail_size = rest + 1 + 8 <= 64 ? 64 : 128;
  const uint64_t bits = static_cast<uint64_t>(data.size()) * 8;
  for (int i = 0; i < 8; ++i)
    tail[tail_size - 1 - static_cast<size_t>(i)] = static_cast<uint8_t>(bits >> (8 * i));
  compress(h, tail);
  if (tail_size == 128)
    compress(h, tail + 64);
  std::array<uint8_t, 32> digest;
  for (size_t i = 0; i < 8; ++i)
    for (size_t j = 0; j < 4; ++j)
      digest[4 * i + j] = static_cast<uint8_t>(h[i] >> (24 - 8 * j));
  return digest;
}

std::string sha256_hex(std::string_view data) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s;
  for (uint8_t b : sha256(data)) {
    s += digits[b >> 4];
    s += digits[b & 15];
  }
  return s;
}

std::string seal(std::string_view magic, std::string_view payload) {
  const auto digest = sha256(payload);
  std::string sealed(magic);
  sealed.append(digest.begin(), digest.end());
  sealed += payload;
  return sealed;
}

std::optional<std::string> unseal(std::string_view magic, std::string_view sealed) {
  const size_t header = magic.size() + 32;
  if (sealed.size() <= header || !sealed.starts_with(magic))
    return std::nullopt;
  const std::string_view payload = sealed.substr(header);
  const auto digest = sha256(payload);
  if (sealed.substr(magic.size(), 32) !=
      std::string_view(reinterpret_cast<const char *>(digest.data()), digest.size()))
    return std::nullopt;
  return std::string(payload);
}

} // namespace anet
