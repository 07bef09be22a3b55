#pragma once
/// Counter-based random draws for ops that need randomness (DropoutMask):
/// a pure function of (seed, step, index), so a mask is the same on every
/// backend, thread count and partitioning, and is recomputed exactly on
/// resume. The mixing function is SplitMix64's finaliser; kernels on every
/// device (host C++, the CPU JIT and CUDA) implement exactly this: the file
/// is freestanding (no includes), so the JIT-compiled kernels include it too.

namespace anet {

/// SplitMix64's finaliser: a bijective mix of 64 bits.
constexpr unsigned long long mix64(unsigned long long z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// A uniform draw in [0, 1) with 24 bits of precision for element `index`
/// of the tensor drawn by node seed `seed` at training step `step`.
constexpr float uniform_draw(unsigned long long seed, unsigned long long step,
                             unsigned long long index) {
  unsigned long long h = mix64(mix64(mix64(seed + 0x9e3779b97f4a7c15ULL) ^ step) ^ index);
  return static_cast<float>(h >> 40) * (1.0f / 16777216.0f);
}

/// Whether DropoutMask keeps element `index` (probability 1 - ratio).
constexpr bool dropout_keeps(unsigned long long seed, unsigned long long step,
                             unsigned long long index, float ratio) {
  return uniform_draw(seed, step, index) >= ratio;
}

} // namespace anet
