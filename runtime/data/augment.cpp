/// Preprocessing and augmentation of RawImage; see augment.h.

#include "runtime/data/augment.h"

#include <algorithm>
#include <cassert>
#include <cmath>

#include "runtime/io/image.h"

namespace anet {

uint64_t mix64(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

CounterRng CounterRng::for_sample(uint64_t seed, uint64_t epoch, uint64_t index, uint64_t purpose) {
  return CounterRng(mix64(mix64(mix64(mix64(seed) ^ epoch) ^ index) ^ purpose));
}

uint64_t CounterRng::next() {
  state_ += 0x9e3779b97f4a7c15ull;
  return mix64(state_);
}

int64_t CounterRng::uniform_int(int64_t n) {
  assert(n > 0);
  // Multiply-shift on the top 32 bits: bias below 2^-32 * n, irrelevant here.
  return static_cast<int64_t>(((next() >> 32) * static_cast<uint64_t>(n)) >> 32);
}

double CounterRng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double CounterRng::normal(double sigma) {
  const double u1 = 1.0 - uniform(); // (0, 1]
  const double u2 = uniform();
  return sigma * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

Eigen3 jacobi_eigen(const std::array<double, 9> &input, int n) {
  assert(n >= 1 && n <= 3);
  double a[3][3] = {}, v[3][3] = {};
  double norm = 0;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      a[i][j] = input[static_cast<size_t>(i * n + j)];
      v[i][j] = i == j ? 1.0 : 0.0;
      norm += a[i][j] * a[i][j];
    }
  for (int sweep = 0; sweep < 50; ++sweep) {
    double off = 0;
    for (int p = 0; p < n; ++p)
      for (int q = p + 1; q < n; ++q)
        off += 2 * a[p][q] * a[p][q];
    if (off <= 1e-24 * norm || off == 0)
      break;
    for (int p = 0; p < n; ++p)
      for (int q = p + 1; q < n; ++q) {
        if (a[p][q] == 0)
          continue;
        // Rotation angle that zeroes a[p][q] (numerically stable form).
        const double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const double t =
            (theta >= 0 ? 1.0 : -1.0) / (std::fabs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (int k = 0; k < n; ++k) { // A <- A J
          const double akp = a[k][p], akq = a[k][q];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (int k = 0; k < n; ++k) { // A <- J^T A
          const double apk = a[p][k], aqk = a[q][k];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
        for (int k = 0; k < n; ++k) { // V <- V J
          const double vkp = v[k][p], vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
  }
  // Sort eigenpairs by descending eigenvalue.
  int order[3] = {0, 1, 2};
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n; ++j)
      if (a[order[j]][order[j]] > a[order[i]][order[i]])
        std::swap(order[i], order[j]);
  Eigen3 e;
  e.n = n;
  for (int k = 0; k < n; ++k) {
    e.values[static_cast<size_t>(k)] = a[order[k]][order[k]];
    for (int i = 0; i < n; ++i)
      e.vectors[static_cast<size_t>(i * n + k)] = v[i][order[k]];
  }
  return e;
}

RawImage rescale_center_crop(const RawImage &image, int64_t resize) {
  assert(image.channels == 1 || image.channels == 3);
  if (image.height == resize && image.width == resize)
    return image;
  RgbImage rgb{image.height, image.width, {}};
  if (image.channels == 3) {
    rgb.pixels = image.pixels;
  } else {
    rgb.pixels.resize(image.pixels.size() * 3);
    for (size_t i = 0; i < image.pixels.size(); ++i)
      rgb.pixels[3 * i] = rgb.pixels[3 * i + 1] = rgb.pixels[3 * i + 2] = image.pixels[i];
  }
  RgbImage out = resize_and_center_crop(rgb, resize, resize, resize);
  RawImage r{resize, resize, image.channels, {}};
  if (image.channels == 3) {
    r.pixels = std::move(out.pixels);
  } else {
    r.pixels.resize(static_cast<size_t>(resize * resize));
    for (size_t i = 0; i < r.pixels.size(); ++i)
      r.pixels[i] = out.pixels[3 * i];
  }
  return r;
}

RawImage pad_image(const RawImage &image, int64_t pad) {
  assert(pad >= 0);
  if (pad == 0)
    return image;
  const int64_t c = image.channels, w = image.width + 2 * pad;
  RawImage r{image.height + 2 * pad, w, c, {}};
  r.pixels.assign(static_cast<size_t>(r.height * w * c), 0.f);
  for (int64_t y = 0; y < image.height; ++y)
    std::copy_n(&image.pixels[static_cast<size_t>(y * image.width * c)], image.width * c,
                &r.pixels[static_cast<size_t>(((y + pad) * w + pad) * c)]);
  return r;
}

RawImage crop(const RawImage &image, int64_t y, int64_t x, int64_t h, int64_t w, bool flip) {
  assert(y >= 0 && x >= 0 && y + h <= image.height && x + w <= image.width);
  const int64_t c = image.channels;
  RawImage out{h, w, c, std::vector<float>(static_cast<size_t>(h * w * c))};
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j < w; ++j) {
      const int64_t sx = x + (flip ? w - 1 - j : j);
      const float *src = &image.pixels[static_cast<size_t>(((y + i) * image.width + sx) * c)];
      float *dst = &out.pixels[static_cast<size_t>((i * w + j) * c)];
      for (int64_t k = 0; k < c; ++k)
        dst[k] = src[k];
    }
  return out;
}

RawImage center_crop(const RawImage &image, int64_t size) {
  return crop(image, (image.height - size) / 2, (image.width - size) / 2, size, size, false);
}

std::vector<RawImage> ten_crop(const RawImage &image, int64_t size) {
  const int64_t bottom = image.height - size, right = image.width - size;
  const int64_t ys[5] = {0, 0, bottom, bottom, bottom / 2};
  const int64_t xs[5] = {0, right, 0, right, right / 2};
  std::vector<RawImage> out;
  for (int flip = 0; flip < 2; ++flip)
    for (int k = 0; k < 5; ++k)
      out.push_back(crop(image, ys[k], xs[k], size, size, flip == 1));
  return out;
}

void add_lighting(RawImage &image, const Pca &pca, const std::array<double, 3> &alpha) {
  assert(image.channels == pca.channels && pca.eigen.n == pca.channels);
  const int n = pca.channels;
  float shift[3] = {};
  for (int c = 0; c < n; ++c) {
    double s = 0;
    for (int k = 0; k < n; ++k)
      s += pca.eigen.vectors[static_cast<size_t>(c * n + k)] * alpha[static_cast<size_t>(k)] *
           pca.eigen.values[static_cast<size_t>(k)];
    shift[c] = static_cast<float>(255.0 * s);
  }
  for (size_t i = 0; i < image.pixels.size(); ++i)
    image.pixels[i] += shift[i % static_cast<size_t>(n)];
}

std::array<double, 3> draw_lighting(CounterRng &rng, double sigma) {
  return {rng.normal(sigma), rng.normal(sigma), rng.normal(sigma)};
}

} // namespace anet
