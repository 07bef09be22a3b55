/// Tests of the batch loader: determinism across thread counts and resume,
/// per-epoch shuffling, skipping corrupt images, evaluation crops, and the
/// pipeline's throughput on the installed Fashion-MNIST.

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "runtime/data/loader.h"
#include "test_files.h"

namespace anet {
namespace {

/// An IDX dataset of 50 8x8 images with distinct random pixels.
Dataset random_idx(const testing::ScratchDir &dir) {
  CounterRng rng(3);
  std::vector<uint8_t> px(50 * 64), labels(50);
  for (auto &v : px)
    v = static_cast<uint8_t>(rng.uniform_int(256));
  for (size_t i = 0; i < labels.size(); ++i)
    labels[i] = static_cast<uint8_t>(i % 10);
  testing::write_file(dir.file("train-images-idx3-ubyte"),
                      testing::idx_bytes(0x803, {50, 8, 8}, px));
  testing::write_file(dir.file("train-labels-idx1-ubyte"), testing::idx_bytes(0x801, {50}, labels));
  return *open_dataset(dir.path(), Split::Train);
}

LoaderOptions small_options(int threads) {
  LoaderOptions o;
  o.batch_size = 8;
  o.resize = 8;
  o.crop = 6;
  o.threads = threads;
  o.prefetch = 2;
  o.seed = 1234;
  return o;
}

/// Statistics of 8x8 grey images with a zero mean image and no lighting
/// variance, so crops hold the images' own values; framed by `pad`.
TrainingStats zero_stats(int64_t pad) {
  TrainingStats s;
  s.resize = 8;
  s.pad = pad;
  s.channels = 1;
  s.mean_image.assign(64, 0.0f);
  s.pca.channels = 1;
  s.pca.eigen = jacobi_eigen({0.0}, 1);
  return s;
}

std::vector<Batch> pull(const Dataset &d, const TrainingStats &s, LoaderOptions o, int64_t epoch,
                        int64_t batch, int count) {
  auto loader = Loader::create(d, s, std::move(o), epoch, batch);
  EXPECT_TRUE(loader.ok()) << loader.error().message;
  std::vector<Batch> out;
  for (int i = 0; i < count; ++i) {
    auto b = (*loader)->next();
    EXPECT_TRUE(b.ok());
    out.push_back(std::move(*b));
  }
  return out;
}

TEST(Loader, SameBatchesWithOneOrThreeThreadsAndOnResume) {
  testing::ScratchDir dir;
  const Dataset d = random_idx(dir);
  auto stats = compute_training_stats(d, 8);
  ASSERT_TRUE(stats.ok());
  const auto one = pull(d, *stats, small_options(1), 0, 0, 14); // crosses two epochs of 6
  const auto three = pull(d, *stats, small_options(3), 0, 0, 14);
  const auto resumed = pull(d, *stats, small_options(3), 1, 4, 4);
  for (size_t i = 0; i < one.size(); ++i) {
    EXPECT_EQ(one[i].images.data, three[i].images.data) << i;
    EXPECT_EQ(one[i].labels, three[i].labels) << i;
    EXPECT_EQ(one[i].epoch, static_cast<int64_t>(i) / 6);
    EXPECT_EQ(one[i].index, static_cast<int64_t>(i) % 6);
  }
  for (size_t i = 0; i < resumed.size(); ++i)
    EXPECT_EQ(resumed[i].images.data, one[10 + i].images.data) << i;
  EXPECT_EQ(one[0].images.type.shape, (Shape{8, 1, 6, 6}));
}

TEST(Loader, EachEpochHasItsOwnOrder) {
  testing::ScratchDir dir;
  const Dataset d = random_idx(dir);
  const auto o0 = epoch_order(50, 9, 0, true), o1 = epoch_order(50, 9, 1, true);
  EXPECT_NE(o0, o1);
  EXPECT_EQ(std::set<int64_t>(o0.begin(), o0.end()).size(), 50u);
  EXPECT_EQ(o0, epoch_order(50, 9, 0, true));
  auto stats = compute_training_stats(d, 8);
  const auto b = pull(d, *stats, small_options(2), 0, 0, 12);
  std::set<int64_t> seen;
  for (int i = 0; i < 6; ++i)
    seen.insert(b[i].indices.begin(), b[i].indices.end());
  EXPECT_EQ(seen.size(), 48u); // one epoch: distinct samples (two dropped with drop_last)
  EXPECT_NE(b[0].indices, b[6].indices);
}

TEST(Loader, EvalIsCentreCropMinusMean) {
  testing::ScratchDir dir;
  const Dataset d = random_idx(dir);
  auto stats = compute_training_stats(d, 8);
  LoaderOptions o = small_options(2);
  o.mode = AugmentMode::Eval;
  o.shuffle = false;
  o.drop_last = false;
  auto loader = Loader::create(d, *stats, o);
  ASSERT_TRUE(loader.ok());
  EXPECT_EQ((*loader)->batches_per_epoch(), 7);
  auto b = (*loader)->next();
  ASSERT_TRUE(b.ok());
  const RawImage img = d.sample(3)->image;
  for (int y = 0; y < 6; ++y)
    for (int x = 0; x < 6; ++x)
      EXPECT_FLOAT_EQ(b->images.data[3 * 36 + y * 6 + x],
                      img.at(y + 1, x + 1, 0) - stats->mean_image[(y + 1) * 8 + x + 1]);
}

TEST(Loader, ScaleMultipliesAfterMeanSubtraction) {
  testing::ScratchDir dir;
  const Dataset d = random_idx(dir);
  auto stats = compute_training_stats(d, 8);
  ASSERT_TRUE(stats.ok());
  TrainingStats scaled = *stats;
  scaled.scale = 1.0f / 255;
  LoaderOptions o = small_options(1);
  o.mode = AugmentMode::Eval;
  o.shuffle = false;
  auto plain = build_batch(d, *stats, o, epoch_order(d.size(), 0, 0, false), 0, 0);
  auto times = build_batch(d, scaled, o, epoch_order(d.size(), 0, 0, false), 0, 0);
  ASSERT_TRUE(plain.ok() && times.ok());
  for (size_t i = 0; i < plain->images.data.size(); ++i)
    EXPECT_FLOAT_EQ(times->images.data[i], plain->images.data[i] * (1.0f / 255)) << i;
  const RawImage img = d.sample(0)->image;
  const Tensor ten = ten_crop_batch(img, scaled, 6);
  const Tensor ten_plain = ten_crop_batch(img, *stats, 6);
  for (size_t i = 0; i < ten.data.size(); ++i)
    EXPECT_FLOAT_EQ(ten.data[i], ten_plain.data[i] * (1.0f / 255)) << i;
}

TEST(Loader, TenCropBatchIsCornersCentreAndMirrors) {
  TrainingStats s;
  s.resize = 4;
  s.channels = 3;
  s.mean_image.assign(48, 1.0f);
  RawImage img{4, 4, 3, std::vector<float>(48)};
  for (size_t i = 0; i < img.pixels.size(); ++i)
    img.pixels[i] = static_cast<float>(i);
  const Tensor t = ten_crop_batch(img, s, 2);
  ASSERT_EQ(t.type.shape, (Shape{10, 3, 2, 2}));
  // Crop 1 (top right) channel 2 at (0, 0) is pixel (0, 2); its mirror
  // (crop 6) has it at (0, 1). Values are minus the mean (1).
  EXPECT_EQ(t.data[1 * 12 + 2 * 4 + 0], img.at(0, 2, 2) - 1);
  EXPECT_EQ(t.data[6 * 12 + 2 * 4 + 1], img.at(0, 2, 2) - 1);
  // Crop 4 (centre) starts at (1, 1).
  EXPECT_EQ(t.data[4 * 12], img.at(1, 1, 0) - 1);
}

TEST(Loader, TrainCropIsAWindowOfTheImage) {
  testing::ScratchDir dir;
  const Dataset d = random_idx(dir);
  const TrainingStats s = zero_stats(0);
  LoaderOptions o = small_options(1);
  o.lighting_sigma = 0; // so values are exactly the image's
  auto b = pull(d, s, o, 0, 0, 1)[0];
  const RawImage img = d.sample(b.indices[0])->image;
  bool found = false;
  for (int y = 0; y <= 2; ++y)
    for (int x = 0; x <= 2; ++x)
      for (bool flip : {false, true}) {
        const RawImage w = crop(img, y, x, 6, 6, flip);
        found |= std::equal(w.pixels.begin(), w.pixels.end(), b.images.data.begin());
      }
  EXPECT_TRUE(found);
}

TEST(Loader, FramedEvalCropIsTheWholeImageMinusMean) {
  testing::ScratchDir dir;
  const Dataset d = random_idx(dir);
  auto stats = compute_training_stats(d, 8);
  ASSERT_TRUE(stats.ok());
  TrainingStats framed = *stats;
  framed.pad = 1; // a 10x10 patch: its centre 8x8 crop is the image itself
  LoaderOptions o = small_options(1);
  o.crop = 8;
  o.mode = AugmentMode::Eval;
  o.shuffle = false;
  auto b = build_batch(d, framed, o, epoch_order(d.size(), 0, 0, false), 0, 0);
  ASSERT_TRUE(b.ok());
  const RawImage img = d.sample(2)->image;
  for (int p = 0; p < 64; ++p)
    EXPECT_FLOAT_EQ(b->images.data[2 * 64 + p], img.pixels[p] - stats->mean_image[p]) << p;
  // Ten crops of 8 from the 10x10 patch: the top-left one is shifted by one
  // pixel, its first row and column from the frame.
  const Tensor ten = ten_crop_batch(img, framed, 8);
  ASSERT_EQ(ten.type.shape, (Shape{10, 1, 8, 8}));
  for (int k = 0; k < 8; ++k) {
    EXPECT_EQ(ten.data[k], 0.0f) << k;
    EXPECT_EQ(ten.data[k * 8], 0.0f) << k;
  }
  EXPECT_FLOAT_EQ(ten.data[9], img.pixels[0] - stats->mean_image[0]);
  // The centre crop (4) is the eval crop.
  EXPECT_TRUE(std::equal(ten.data.begin() + 4 * 64, ten.data.begin() + 5 * 64,
                         b->images.data.begin() + 2 * 64));
}

TEST(Loader, FramedTrainCropsShiftTheImageWithinTheFrame) {
  testing::ScratchDir dir;
  const Dataset d = random_idx(dir);
  const TrainingStats s = zero_stats(2);
  LoaderOptions o = small_options(1);
  o.crop = 8;
  o.lighting_sigma = 0;
  // Every sample's crop is a window of its framed image; over 48 samples
  // all five offsets occur on each axis.
  std::set<int> ys, xs;
  for (const Batch &b : pull(d, s, o, 0, 0, 6))
    for (size_t i = 0; i < b.indices.size(); ++i) {
      const RawImage framed = pad_image(d.sample(b.indices[i])->image, 2);
      bool found = false;
      for (int y = 0; y <= 4; ++y)
        for (int x = 0; x <= 4; ++x)
          for (bool flip : {false, true}) {
            const RawImage w = crop(framed, y, x, 8, 8, flip);
            if (std::equal(w.pixels.begin(), w.pixels.end(), b.images.data.begin() + 64 * i)) {
              found = true;
              ys.insert(y);
              xs.insert(x);
            }
          }
      EXPECT_TRUE(found) << b.indices[i];
    }
  EXPECT_EQ(ys.size(), 5u);
  EXPECT_EQ(xs.size(), 5u);
}

TEST(Loader, CorruptImagesAreSkippedCountedAndNamed) {
  testing::ScratchDir dir;
  for (int i = 0; i < 6; ++i)
    testing::write_png(
        dir.file("train/c" + std::to_string(i % 2) + "/" + std::to_string(i) + ".png"), 4, 4, 3,
        std::vector<uint8_t>(48, static_cast<uint8_t>(20 * i)));
  auto d = open_dataset(dir.path(), Split::Train);
  ASSERT_TRUE(d.ok());
  auto stats = compute_training_stats(*d, 4);
  ASSERT_TRUE(stats.ok());
  testing::write_file(dir.file("train/c1/3.png"), {'n', 'o', 't', ' ', 'p', 'n', 'g'});
  std::vector<std::string> warnings;
  LoaderOptions o = small_options(2);
  o.resize = 4;
  o.crop = 4;
  o.batch_size = 3;
  o.warn = [&](const std::string &w) { warnings.push_back(w); };
  auto loader = Loader::create(*d, *stats, o);
  ASSERT_TRUE(loader.ok()) << loader.error().message;
  auto b0 = (*loader)->next(), b1 = (*loader)->next();
  ASSERT_TRUE(b0.ok() && b1.ok());
  EXPECT_EQ(b0->labels.size(), 3u);
  EXPECT_EQ(b1->labels.size(), 3u);
  EXPECT_EQ((*loader)->skipped(), 1);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("c1/3.png"), std::string::npos) << warnings[0];
  // Deterministic: a second loader gives the same batches.
  o.threads = 1;
  auto again = Loader::create(*d, *stats, o);
  auto a0 = (*again)->next();
  EXPECT_EQ(a0->images.data, b0->images.data);
}

TEST(Loader, RejectsNonsenseOptions) {
  testing::ScratchDir dir;
  const Dataset d = random_idx(dir);
  auto stats = compute_training_stats(d, 8);
  LoaderOptions o = small_options(1);
  o.crop = 9;
  auto l = Loader::create(d, *stats, o);
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.error().code, ExitCode::Usage);
  o = small_options(1);
  o.resize = 16;
  EXPECT_FALSE(Loader::create(d, *stats, o).ok()); // stats are for resize 8
  // A frame makes room for crops larger than the resize, no more.
  TrainingStats framed = *stats;
  framed.pad = 1;
  o = small_options(1);
  o.crop = 10;
  EXPECT_TRUE(Loader::create(d, framed, o).ok());
  o.crop = 11;
  l = Loader::create(d, framed, o);
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.error().code, ExitCode::Usage);
  EXPECT_NE(l.error().message.find("pad 1"), std::string::npos) << l.error().message;
  framed.pad = -1;
  o.crop = 6;
  EXPECT_FALSE(Loader::create(d, framed, o).ok());
}

TEST(FashionMnist, PipelineThroughputWithTwoThreads) {
  const std::string dir = ANET_FASHION_MNIST_DIR;
  // tools/setup.sh installs the dataset (Debian's dataset-fashion-mnist):
  // its absence is a failure, not a reason to skip.
  ASSERT_TRUE(std::filesystem::exists(dir)) << dir << " is missing (run tools/setup.sh)";
  auto train = open_dataset(dir, Split::Train);
  ASSERT_TRUE(train.ok()) << train.error().message;
  testing::ScratchDir cache;
  auto stats = load_or_compute_training_stats(*train, 28, cache.path());
  ASSERT_TRUE(stats.ok()) << stats.error().message;
  EXPECT_EQ(stats->images, 60000);
  LoaderOptions o;
  o.batch_size = 128;
  o.resize = 28;
  o.crop = 24;
  o.threads = 2;
  auto loader = Loader::create(*train, *stats, o);
  ASSERT_TRUE(loader.ok()) << loader.error().message;
  EXPECT_EQ((*loader)->batches_per_epoch(), 468);
  auto ips = measure_images_per_second(**loader, 100);
  ASSERT_TRUE(ips.ok());
  std::printf(
      "Fashion-MNIST pipeline (2 threads, 28 -> random 24 crops, batch 128): %.0f images/s\n",
      *ips);
  EXPECT_GT(*ips, 0);
}

} // namespace
} // namespace anet
