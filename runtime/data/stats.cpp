/// Mean image and colour PCA of a training split, with an on-disk cache.
/// The cache file is: "ANETSTA1", then int64 fingerprint, resize, channels,
/// images, skipped, then the mean image floats, the eigenvalues (3 doubles)
/// and eigenvectors (9 doubles), all little-endian host order.

#include "runtime/data/stats.h"

#include "ir/atomic_file.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace anet {

namespace fs = std::filesystem;

namespace {

constexpr char kMagic[8] = {'A', 'N', 'E', 'T', 'S', 'T', 'A', '1'};

void emit(const WarningSink &warn, const std::string &line) {
  if (warn)
    warn(line);
  else
    std::cerr << "warning: " << line << "\n";
}

template <class T> void put(std::ostream &os, const T &v) {
  os.write(reinterpret_cast<const char *>(&v), sizeof v);
}
template <class T> bool get(std::istream &is, T &v) {
  return static_cast<bool>(is.read(reinterpret_cast<char *>(&v), sizeof v));
}

/// Reads the cache file; false if absent or not matching.
bool read_cache(const std::string &path, uint64_t fingerprint, int64_t resize, int64_t channels,
                TrainingStats &s) {
  std::ifstream in(path, std::ios::binary);
  char magic[8];
  int64_t fp = 0;
  if (!in || !in.read(magic, 8) || std::memcmp(magic, kMagic, 8) != 0 || !get(in, fp) ||
      static_cast<uint64_t>(fp) != fingerprint || !get(in, s.resize) || s.resize != resize ||
      !get(in, s.channels) || s.channels != channels || !get(in, s.images) || !get(in, s.skipped))
    return false;
  s.mean_image.resize(static_cast<size_t>(resize * resize * channels));
  if (!in.read(reinterpret_cast<char *>(s.mean_image.data()),
               static_cast<std::streamsize>(s.mean_image.size() * sizeof(float))))
    return false;
  s.pca.channels = static_cast<int>(channels);
  s.pca.eigen.n = static_cast<int>(channels);
  for (double &v : s.pca.eigen.values)
    if (!get(in, v))
      return false;
  for (double &v : s.pca.eigen.vectors)
    if (!get(in, v))
      return false;
  char extra;
  return !in.read(&extra, 1);
}

} // namespace

Expected<TrainingStats> compute_training_stats(const Dataset &train, int64_t resize,
                                               const WarningSink &warn) {
  const int64_t c = train.channels();
  const size_t n = static_cast<size_t>(resize * resize * c);
  std::vector<double> sum(n, 0.0);
  double csum[3] = {}, cprod[3][3] = {};
  TrainingStats s;
  s.resize = resize;
  s.channels = c;
  for (int64_t i = 0; i < train.size(); ++i) {
    auto sample = train.sample(i);
    if (!sample) {
      emit(warn, "skipping " + sample.error().message); // names the file
      ++s.skipped;
      continue;
    }
    const RawImage img = rescale_center_crop(sample->image, resize);
    for (size_t k = 0; k < n; ++k)
      sum[k] += img.pixels[k];
    for (size_t p = 0; p < n; p += static_cast<size_t>(c))
      for (int64_t a = 0; a < c; ++a) {
        const double va = img.pixels[p + static_cast<size_t>(a)] / 255.0;
        csum[a] += va;
        for (int64_t b = a; b < c; ++b)
          cprod[a][b] += va * img.pixels[p + static_cast<size_t>(b)] / 255.0;
      }
    ++s.images;
  }
  if (s.images == 0)
    return make_error(ExitCode::Dataset, train.sample_name(0),
                      ": no readable image in the training set");
  s.mean_image.resize(n);
  for (size_t k = 0; k < n; ++k)
    s.mean_image[k] = static_cast<float>(sum[k] / static_cast<double>(s.images));
  const double pixels = static_cast<double>(s.images) * static_cast<double>(resize * resize);
  std::array<double, 9> cov{};
  for (int64_t a = 0; a < c; ++a)
    for (int64_t b = a; b < c; ++b) {
      const double v = cprod[a][b] / pixels - (csum[a] / pixels) * (csum[b] / pixels);
      cov[static_cast<size_t>(a * c + b)] = cov[static_cast<size_t>(b * c + a)] = v;
    }
  s.pca.channels = static_cast<int>(c);
  s.pca.eigen = jacobi_eigen(cov, static_cast<int>(c));
  return s;
}

Expected<TrainingStats> load_or_compute_training_stats(const Dataset &train, int64_t resize,
                                                       const std::string &cache_dir,
                                                       const WarningSink &warn) {
  std::ostringstream name;
  name << "anet-stats-" << std::hex << train.fingerprint() << std::dec << "-" << resize << ".bin";
  const fs::path path = fs::path(cache_dir) / name.str();
  TrainingStats s;
  if (read_cache(path.string(), train.fingerprint(), resize, train.channels(), s))
    return s;
  ANET_ASSIGN_OR_RETURN(s, compute_training_stats(train, resize, warn));
  std::error_code ec;
  fs::create_directories(cache_dir, ec);
  if (ec)
    return make_error(ExitCode::IO, cache_dir, ": ", ec.message());
  std::ostringstream out(std::ios::binary);
  out.write(kMagic, 8);
  put(out, static_cast<int64_t>(train.fingerprint()));
  put(out, s.resize);
  put(out, s.channels);
  put(out, s.images);
  put(out, s.skipped);
  out.write(reinterpret_cast<const char *>(s.mean_image.data()),
            static_cast<std::streamsize>(s.mean_image.size() * sizeof(float)));
  for (double v : s.pca.eigen.values)
    put(out, v);
  for (double v : s.pca.eigen.vectors)
    put(out, v);
  ANET_RETURN_IF_ERR(write_file_atomically(path.string(), {out.str()}, "training statistics"));
  return s;
}

} // namespace anet
