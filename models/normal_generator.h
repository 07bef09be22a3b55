#pragma once
/// Deterministic random numbers for weight initialisation.
///
/// std::normal_distribution's output differs between standard libraries, so
/// a model built from the same seed would differ between platforms. This
/// generator is written out in full: splitmix64 expands a seed into the state
/// of xoshiro256** (both by Vigna and Blackman), and Marsaglia's polar method
/// turns uniform doubles into standard normals. The polar method needs only
/// sqrt (exactly rounded by IEEE 754) and log; the result is rounded to float
/// before it is stored, so the same seed gives the same bytes everywhere.

#include <cstdint>
#include <string_view>

namespace anet::models {

/// One step of splitmix64: advances `state` and returns the next output.
uint64_t splitmix64_next(uint64_t &state);

/// Seed of the stream for the tensor called `name` in a model built from
/// `seed`. Each tensor has its own stream, so a tensor's values depend only on
/// the seed and its name, not on the order in which the builder creates them.
uint64_t tensor_seed(uint64_t seed, std::string_view name);

/// A stream of uniform and standard normal numbers from a 64-bit seed.
class NormalGenerator {
public:
  /// Starts the stream: the four state words are successive splitmix64
  /// outputs from `seed` (never all zero).
  explicit NormalGenerator(uint64_t seed);

  /// Next 64 random bits (xoshiro256**).
  uint64_t next_u64();
  /// Uniform double in [0, 1) from the top 53 bits of next_u64().
  double next_uniform();
  /// Standard normal N(0, 1) by Marsaglia's polar method; values come in
  /// pairs, the second is kept for the next call.
  double next_normal();

private:
  uint64_t s_[4];
  double spare_ = 0.0;
  bool has_spare_ = false;
};

} // namespace anet::models
