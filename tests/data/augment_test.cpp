/// Tests of preprocessing and augmentation: the Jacobi solver, PCA and the
/// mean image on synthetic data, crop / flip / ten-crop geometry, lighting.

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "runtime/data/augment.h"
#include "runtime/data/stats.h"
#include "test_files.h"

namespace anet {
namespace {

/// A w x h image with `channels` channels whose value encodes its position:
/// 1000 * y + 10 * x + c.
RawImage coded_image(int64_t h, int64_t w, int64_t channels) {
  RawImage img{h, w, channels, std::vector<float>(static_cast<size_t>(h * w * channels))};
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x)
      for (int64_t c = 0; c < channels; ++c)
        img.pixels[static_cast<size_t>((y * w + x) * channels + c)] =
            static_cast<float>(1000 * y + 10 * x + c);
  return img;
}

TEST(Jacobi, KnownSymmetricMatrix) {
  // Eigenvalues of [[2,1,0],[1,2,0],[0,0,5]] are 5, 3, 1.
  const std::array<double, 9> a = {2, 1, 0, 1, 2, 0, 0, 0, 5};
  const Eigen3 e = jacobi_eigen(a, 3);
  EXPECT_NEAR(e.values[0], 5, 1e-12);
  EXPECT_NEAR(e.values[1], 3, 1e-12);
  EXPECT_NEAR(e.values[2], 1, 1e-12);
  // A v = lambda v and V is orthonormal.
  for (int k = 0; k < 3; ++k) {
    for (int i = 0; i < 3; ++i) {
      double av = 0;
      for (int j = 0; j < 3; ++j)
        av += a[static_cast<size_t>(i * 3 + j)] * e.vectors[static_cast<size_t>(j * 3 + k)];
      EXPECT_NEAR(av, e.values[static_cast<size_t>(k)] * e.vectors[static_cast<size_t>(i * 3 + k)],
                  1e-12);
    }
    for (int l = 0; l < 3; ++l) {
      double dot = 0;
      for (int i = 0; i < 3; ++i)
        dot +=
            e.vectors[static_cast<size_t>(i * 3 + k)] * e.vectors[static_cast<size_t>(i * 3 + l)];
      EXPECT_NEAR(dot, k == l ? 1.0 : 0.0, 1e-12);
    }
  }
  // The eigenvector of 3 is (1, 1, 0) / sqrt(2) up to sign.
  EXPECT_NEAR(std::fabs(e.vectors[1]), std::sqrt(0.5), 1e-12);
  EXPECT_NEAR(std::fabs(e.vectors[4]), std::sqrt(0.5), 1e-12);
}

TEST(Jacobi, DenseMatrixAndOneByOne) {
  const std::array<double, 9> a = {4, -2, 1, -2, 5, 3, 1, 3, 6};
  const Eigen3 e = jacobi_eigen(a, 3);
  EXPECT_NEAR(e.values[0] + e.values[1] + e.values[2], 15, 1e-10); // trace
  // Determinant = product of eigenvalues: 4(30-9) + 2(-12-3) + (-6-5) = 43.
  EXPECT_NEAR(e.values[0] * e.values[1] * e.values[2], 43, 1e-9);
  EXPECT_GE(e.values[0], e.values[1]);
  EXPECT_GE(e.values[1], e.values[2]);
  const Eigen3 one = jacobi_eigen({7}, 1);
  EXPECT_EQ(one.values[0], 7);
  EXPECT_EQ(one.vectors[0], 1);
}

TEST(Geometry, CropAndFlip) {
  const RawImage img = coded_image(6, 8, 3);
  const RawImage c = crop(img, 1, 2, 3, 4, false);
  ASSERT_EQ(c.height, 3);
  ASSERT_EQ(c.width, 4);
  EXPECT_EQ(c.at(0, 0, 0), 1000 * 1 + 10 * 2);
  EXPECT_EQ(c.at(2, 3, 2), 1000 * 3 + 10 * 5 + 2);
  const RawImage f = crop(img, 1, 2, 3, 4, true);
  EXPECT_EQ(f.at(0, 0, 1), 1000 * 1 + 10 * 5 + 1); // left column is the window's right one
  EXPECT_EQ(f.at(2, 3, 0), 1000 * 3 + 10 * 2);
  const RawImage cc = center_crop(img, 4);
  EXPECT_EQ(cc.at(0, 0, 0), 1000 * 1 + 10 * 2);
}

TEST(Geometry, PadFramesWithZeros) {
  const RawImage img = coded_image(2, 3, 3);
  const RawImage p = pad_image(img, 2);
  ASSERT_EQ(p.height, 6);
  ASSERT_EQ(p.width, 7);
  ASSERT_EQ(p.channels, 3);
  for (int64_t y = 0; y < 6; ++y)
    for (int64_t x = 0; x < 7; ++x)
      for (int64_t c = 0; c < 3; ++c) {
        const bool inside = y >= 2 && y < 4 && x >= 2 && x < 5;
        EXPECT_EQ(p.at(y, x, c), inside ? img.at(y - 2, x - 2, c) : 0.0f) << y << "," << x;
      }
  EXPECT_EQ(pad_image(img, 0).pixels, img.pixels);
}

TEST(Geometry, TenCropPositions) {
  const RawImage img = coded_image(7, 9, 1);
  const std::vector<RawImage> crops = ten_crop(img, 4);
  ASSERT_EQ(crops.size(), 10u);
  const int64_t ys[5] = {0, 0, 3, 3, 1}, xs[5] = {0, 5, 0, 5, 2};
  for (int k = 0; k < 5; ++k) {
    EXPECT_EQ(crops[k].at(0, 0, 0), 1000 * ys[k] + 10 * xs[k]) << k;
    EXPECT_EQ(crops[k + 5].at(0, 0, 0), 1000 * ys[k] + 10 * (xs[k] + 3)) << k;
    EXPECT_EQ(crops[k + 5].at(3, 3, 0), 1000 * (ys[k] + 3) + 10 * xs[k]) << k;
  }
}

TEST(Geometry, RescaleCenterCropShorterSide) {
  // A constant grey 20 x 40 image stays constant at 10 x 10.
  RawImage img{20, 40, 1, std::vector<float>(800, 77.0f)};
  const RawImage r = rescale_center_crop(img, 10);
  ASSERT_EQ(r.height, 10);
  ASSERT_EQ(r.width, 10);
  ASSERT_EQ(r.channels, 1);
  for (float v : r.pixels)
    EXPECT_NEAR(v, 77.0f, 1e-4);
}

TEST(Lighting, AddsEigenvectorCombination) {
  Pca pca;
  pca.channels = 3;
  pca.eigen = jacobi_eigen({0.04, 0, 0, 0, 0.01, 0, 0, 0, 0.0025}, 3);
  RawImage img{2, 2, 3, std::vector<float>(12, 100.0f)};
  add_lighting(img, pca, {1.0, 2.0, -1.0});
  // Eigenvectors are the axes: shift = 255 * (0.04 * 1, 0.01 * 2, -0.0025).
  EXPECT_NEAR(img.at(1, 1, 0), 100 + 255 * 0.04, 1e-3);
  EXPECT_NEAR(img.at(1, 1, 1), 100 + 255 * 0.02, 1e-3);
  EXPECT_NEAR(img.at(0, 1, 2), 100 - 255 * 0.0025, 1e-3);
}

TEST(Rng, NormalHasRequestedSpread) {
  CounterRng rng(42);
  double sum = 0, sq = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double v = rng.normal(0.1);
    sum += v;
    sq += v * v;
  }
  EXPECT_NEAR(sum / n, 0, 2e-3);
  EXPECT_NEAR(std::sqrt(sq / n), 0.1, 2e-3);
}

/// An IDX dataset of `n` 4x4 images in a scratch folder.
Dataset idx_dataset(const testing::ScratchDir &dir,
                    const std::vector<std::vector<uint8_t>> &images) {
  std::vector<uint8_t> px, labels;
  for (const auto &im : images) {
    px.insert(px.end(), im.begin(), im.end());
    labels.push_back(static_cast<uint8_t>(labels.size() % 2));
  }
  const auto n = static_cast<uint32_t>(images.size());
  testing::write_file(dir.file("train-images-idx3-ubyte"),
                      testing::idx_bytes(0x803, {n, 4, 4}, px));
  testing::write_file(dir.file("train-labels-idx1-ubyte"), testing::idx_bytes(0x801, {n}, labels));
  auto d = open_dataset(dir.path(), Split::Train);
  EXPECT_TRUE(d.ok()) << (d.ok() ? "" : d.error().message);
  return *d;
}

TEST(Stats, MeanImagePerPixel) {
  testing::ScratchDir dir;
  std::vector<std::vector<uint8_t>> images(3, std::vector<uint8_t>(16));
  for (int k = 0; k < 3; ++k)
    for (int p = 0; p < 16; ++p)
      images[k][p] = static_cast<uint8_t>(p * (k + 1));
  const Dataset d = idx_dataset(dir, images);
  auto s = compute_training_stats(d, 4);
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(s->mean_image.size(), 16u);
  for (int p = 0; p < 16; ++p)
    EXPECT_NEAR(s->mean_image[p], p * 2.0, 1e-4) << p; // mean of p, 2p, 3p
  // Grey PCA: one component, the pixel variance on the [0, 1] scale.
  double sum = 0, sq = 0;
  for (const auto &im : images)
    for (uint8_t v : im) {
      sum += v / 255.0;
      sq += (v / 255.0) * (v / 255.0);
    }
  EXPECT_EQ(s->pca.channels, 1);
  EXPECT_NEAR(s->pca.eigen.values[0], sq / 48 - (sum / 48) * (sum / 48), 1e-9);
  EXPECT_EQ(s->images, 3);
}

TEST(Stats, PcaRecoversKnownCovariance) {
  // Pixels r = a + b, g = a - b, b = 0.5 c with a, b, c independent
  // uniform: covariance diag-blocked with known eigenvectors.
  testing::ScratchDir dir;
  CounterRng rng(7);
  const int w = 64, h = 64;
  std::vector<uint8_t> px(w * h * 3);
  double cov[3][3] = {}, mean[3] = {};
  const int n = w * h;
  for (int p = 0; p < n; ++p) {
    const int a = static_cast<int>(rng.uniform_int(61)) + 60,
              b = static_cast<int>(rng.uniform_int(21)), c = static_cast<int>(rng.uniform_int(41));
    px[3 * p] = static_cast<uint8_t>(a + b);
    px[3 * p + 1] = static_cast<uint8_t>(a - b + 20);
    px[3 * p + 2] = static_cast<uint8_t>(c);
  }
  for (int p = 0; p < n; ++p)
    for (int i = 0; i < 3; ++i)
      mean[i] += px[3 * p + i] / 255.0 / n;
  for (int p = 0; p < n; ++p)
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j)
        cov[i][j] += (px[3 * p + i] / 255.0 - mean[i]) * (px[3 * p + j] / 255.0 - mean[j]) / n;
  testing::write_png(dir.file("train/only/img.png"), w, h, 3, px);
  auto d = open_dataset(dir.path(), Split::Train);
  ASSERT_TRUE(d.ok()) << d.error().message;
  auto s = compute_training_stats(*d, h);
  ASSERT_TRUE(s.ok()) << s.error().message;
  const Eigen3 want = jacobi_eigen({cov[0][0], cov[0][1], cov[0][2], cov[1][0], cov[1][1],
                                    cov[1][2], cov[2][0], cov[2][1], cov[2][2]},
                                   3);
  for (int k = 0; k < 3; ++k) {
    EXPECT_NEAR(s->pca.eigen.values[k], want.values[k], 1e-6) << k;
    double dot = 0;
    for (int i = 0; i < 3; ++i)
      dot += s->pca.eigen.vectors[i * 3 + k] * want.vectors[i * 3 + k];
    EXPECT_NEAR(std::fabs(dot), 1.0, 1e-5) << k;
  }
  // a (variance 310, in both r and g: 620 along (1, 1, 0)) dominates c (140): the
  // first component is (1, 1, 0) / sqrt(2) up to sign.
  EXPECT_NEAR(std::fabs(s->pca.eigen.vectors[0]), std::sqrt(0.5), 0.05);
  EXPECT_NEAR(std::fabs(s->pca.eigen.vectors[6]), 0.0, 0.05);
}

TEST(Stats, CacheRoundTripsAndIsKeyedByContent) {
  testing::ScratchDir dir, cache;
  const Dataset d = idx_dataset(dir, {std::vector<uint8_t>(16, 10), std::vector<uint8_t>(16, 30)});
  auto first = load_or_compute_training_stats(d, 4, cache.path());
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto again = load_or_compute_training_stats(d, 4, cache.path());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->mean_image, first->mean_image);
  EXPECT_EQ(again->pca.eigen.values, first->pca.eigen.values);
  // Different content gives a different key, so a fresh mean.
  testing::ScratchDir dir2;
  const Dataset d2 =
      idx_dataset(dir2, {std::vector<uint8_t>(16, 50), std::vector<uint8_t>(16, 70)});
  EXPECT_NE(d2.fingerprint(), d.fingerprint());
  auto other = load_or_compute_training_stats(d2, 4, cache.path());
  ASSERT_TRUE(other.ok());
  EXPECT_NEAR(other->mean_image[0], 60, 1e-4);
  EXPECT_NEAR(first->mean_image[0], 20, 1e-4);
  // A damaged cache file is recomputed and replaced.
  for (const auto &entry : std::filesystem::directory_iterator(cache.path()))
    testing::write_file(entry.path().string(), {'b', 'a', 'd'});
  auto fixed = load_or_compute_training_stats(d, 4, cache.path());
  ASSERT_TRUE(fixed.ok());
  EXPECT_EQ(fixed->mean_image, first->mean_image);
}

} // namespace
} // namespace anet
