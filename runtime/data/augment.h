#pragma once
/// The paper's preprocessing and augmentation on RawImage (HWC, 0-255):
/// rescale-and-centre-crop to the resize x resize patch, random or fixed
/// crops with horizontal reflection, PCA colour (lighting) noise, ten-crop,
/// plus the small pieces they need: a counter-based RNG and a Jacobi
/// eigen-solver for symmetric 3x3 (or smaller) matrices.

#include <array>
#include <cstdint>
#include <vector>

#include "runtime/data/dataset.h"

namespace anet {

/// splitmix64's output function: a bijective 64-bit mix.
uint64_t mix64(uint64_t x);

/// A counter-based random stream: the n-th draw is mix64(key + n * golden),
/// so a stream is a pure function of its key (no shared state).
class CounterRng {
public:
  /// A stream keyed by `key`.
  explicit CounterRng(uint64_t key) : state_(key) {}
  /// The stream for (seed, epoch, index, purpose): independent for any
  /// differing argument.
  static CounterRng for_sample(uint64_t seed, uint64_t epoch, uint64_t index, uint64_t purpose);
  /// Next 64 random bits.
  uint64_t next();
  /// Uniform integer in [0, n) (n > 0).
  int64_t uniform_int(int64_t n);
  /// Uniform double in [0, 1).
  double uniform();
  /// Normal with mean 0 and standard deviation `sigma` (Box-Muller).
  double normal(double sigma);

private:
  uint64_t state_;
};

/// Eigen-decomposition of a symmetric n x n matrix (n <= 3).
struct Eigen3 {
  int n = 0;
  std::array<double, 3> values{};  ///< eigenvalues, descending
  std::array<double, 9> vectors{}; ///< row-major n x n; column k is values[k]'s unit eigenvector
};

/// Cyclic Jacobi rotations on the symmetric row-major n x n matrix `a`
/// (1 <= n <= 3) until the off-diagonal is below 1e-12 of its norm.
Eigen3 jacobi_eigen(const std::array<double, 9> &a, int n);

/// PCA of pixel colours: eigenvectors p_i and eigenvalues lambda_i of the
/// channel covariance of pixel values scaled to [0, 1] (as the reference
/// implementations of the paper, so that a ~ N(0, 0.1) gives noise of a few
/// grey levels). For grey images it has one component: lambda_0 is the
/// pixel variance and p_0 = (1); lighting then shifts brightness only.
struct Pca {
  int channels = 0;
  Eigen3 eigen;
};

/// Rescales so the shorter side is `resize` and cuts out the central
/// resize x resize patch (runtime/io's resampler; grey images pass through it
/// as one channel).
RawImage rescale_center_crop(const RawImage &image, int64_t resize);

/// `image` framed by `pad` pixels of zero on each side (pad >= 0).
RawImage pad_image(const RawImage &image, int64_t pad);

/// The h x w window at row y, column x of `image`, mirrored left-right when
/// `flip` (the window is cut first, then reflected). Asserts it fits.
RawImage crop(const RawImage &image, int64_t y, int64_t x, int64_t h, int64_t w, bool flip);

/// The central size x size window (offsets floor((H-size)/2), floor((W-size)/2)).
RawImage center_crop(const RawImage &image, int64_t size);

/// The paper's ten test patches of size x size: top-left, top-right,
/// bottom-left, bottom-right, centre, then the same five mirrored.
std::vector<RawImage> ten_crop(const RawImage &image, int64_t size);

/// Adds sum_i p_i * alpha_i * lambda_i (times 255, for the 0-255 scale) to
/// every pixel of `image` (whose channel count must equal pca.channels).
void add_lighting(RawImage &image, const Pca &pca, const std::array<double, 3> &alpha);

/// Draws the per-image lighting coefficients alpha_i ~ N(0, sigma).
std::array<double, 3> draw_lighting(CounterRng &rng, double sigma = 0.1);

} // namespace anet
