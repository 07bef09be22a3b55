// Deterministic uniform and normal random numbers (see normal_generator.h).

#include "models/normal_generator.h"

#include <cmath>

namespace anet::models {
namespace {

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

} // namespace

uint64_t splitmix64_next(uint64_t &state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t tensor_seed(uint64_t seed, std::string_view name) {
  // FNV-1a of the name, then one splitmix64 step over seed ^ hash so that
  // nearby seeds and similar names give unrelated streams.
  uint64_t hash = 0xCBF29CE484222325ull;
  for (char c : name) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001B3ull;
  }
  uint64_t state = seed ^ hash;
  return splitmix64_next(state);
}

NormalGenerator::NormalGenerator(uint64_t seed) {
  uint64_t state = seed;
  for (uint64_t &word : s_)
    word = splitmix64_next(state);
}

uint64_t NormalGenerator::next_u64() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double NormalGenerator::next_uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

double NormalGenerator::next_normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double u, v, s;
  do {
    u = 2.0 * next_uniform() - 1.0;
    v = 2.0 * next_uniform() - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  const double scale = std::sqrt(-2.0 * std::log(s) / s);
  spare_ = v * scale;
  has_spare_ = true;
  return u * scale;
}

} // namespace anet::models
