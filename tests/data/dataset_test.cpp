/// Tests of opening datasets: IDX parsing (plain and gzipped, malformed
/// files), ImageFolder layout and errors, and the installed Fashion-MNIST.

#include <gtest/gtest.h>

#include <filesystem>

#include "runtime/data/dataset.h"
#include "test_files.h"

namespace anet {
namespace {

using testing::idx_bytes;
using testing::ScratchDir;
using testing::write_file;

/// Writes a 3-image, 2x3-pixel IDX training split; pixel p of image k is 10k + p.
void write_small_idx(const ScratchDir &dir, bool gzip) {
  std::vector<uint8_t> px;
  for (int k = 0; k < 3; ++k)
    for (int p = 0; p < 6; ++p)
      px.push_back(static_cast<uint8_t>(10 * k + p));
  const std::string gz = gzip ? ".gz" : "";
  write_file(dir.file("train-images-idx3-ubyte" + gz), idx_bytes(0x803, {3, 2, 3}, px), gzip);
  write_file(dir.file("train-labels-idx1-ubyte" + gz), idx_bytes(0x801, {3}, {2, 0, 1}), gzip);
}

void expect_dataset_error(const Expected<Dataset> &d, const std::string &needle) {
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, ExitCode::Dataset) << d.error().message;
  EXPECT_NE(d.error().message.find(needle), std::string::npos) << d.error().message;
}

TEST(Idx, PlainAndGzippedReadAlike) {
  for (bool gzip : {false, true}) {
    ScratchDir dir;
    write_small_idx(dir, gzip);
    auto d = open_dataset(dir.path(), Split::Train);
    ASSERT_TRUE(d.ok()) << d.error().message;
    EXPECT_EQ(d->size(), 3);
    EXPECT_EQ(d->num_classes(), 3);
    EXPECT_EQ(d->class_names()[2], "2");
    auto s = d->sample(1);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->label, 0);
    EXPECT_EQ(s->image.height, 2);
    EXPECT_EQ(s->image.width, 3);
    EXPECT_EQ(s->image.channels, 1);
    EXPECT_EQ(s->image.at(1, 2, 0), 15.0f);
  }
}

TEST(Idx, BadMagic) {
  ScratchDir dir;
  write_small_idx(dir, false);
  write_file(dir.file("train-labels-idx1-ubyte"), idx_bytes(0x803, {3}, {0, 1, 2}));
  expect_dataset_error(open_dataset(dir.path(), Split::Train),
                       "train-labels-idx1-ubyte: bad IDX magic");
}

TEST(Idx, Truncated) {
  ScratchDir dir;
  write_small_idx(dir, true);
  std::vector<uint8_t> px(17, 0); // 3 * 2 * 3 = 18 promised
  write_file(dir.file("train-images-idx3-ubyte.gz"), idx_bytes(0x803, {3, 2, 3}, px), true);
  expect_dataset_error(open_dataset(dir.path(), Split::Train),
                       "train-images-idx3-ubyte.gz: truncated");
  write_file(dir.file("train-images-idx3-ubyte.gz"), {0, 0, 8}, true);
  expect_dataset_error(open_dataset(dir.path(), Split::Train), "truncated IDX header");
}

TEST(Idx, CorruptGzip) {
  ScratchDir dir;
  write_small_idx(dir, true);
  std::vector<uint8_t> bytes = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff};
  write_file(dir.file("train-labels-idx1-ubyte.gz"), bytes);
  auto d = open_dataset(dir.path(), Split::Train);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, ExitCode::Dataset);
  EXPECT_NE(d.error().message.find("train-labels-idx1-ubyte.gz"), std::string::npos);
}

TEST(Idx, HugeDimensionsAreTruncationNotOverflow) {
  ScratchDir dir;
  write_small_idx(dir, false);
  write_file(dir.file("train-images-idx3-ubyte"),
             idx_bytes(0x803, {0xffffffffu, 65536, 65536}, std::vector<uint8_t>(10)));
  expect_dataset_error(open_dataset(dir.path(), Split::Train), "truncated");
}

TEST(Idx, CountMismatch) {
  ScratchDir dir;
  write_small_idx(dir, false);
  write_file(dir.file("train-labels-idx1-ubyte"), idx_bytes(0x801, {2}, {0, 1}));
  expect_dataset_error(open_dataset(dir.path(), Split::Train), "has 3 images but");
}

TEST(Idx, MissingTestSplit) {
  ScratchDir dir;
  write_small_idx(dir, false);
  expect_dataset_error(open_dataset(dir.path(), Split::Test), "t10k-images-idx3-ubyte");
}

/// Writes an ImageFolder split with classes "cat" (2 images) and "ant" (1).
void write_small_folder(const ScratchDir &dir, const std::string &split) {
  const std::vector<uint8_t> px(4 * 5 * 3, 128);
  testing::write_png(dir.file(split + "/cat/b.png"), 5, 4, 3, px);
  testing::write_png(dir.file(split + "/cat/a.png"), 5, 4, 3, px);
  testing::write_png(dir.file(split + "/ant/x.PNG"), 5, 4, 1, std::vector<uint8_t>(20, 9));
  write_file(dir.file(split + "/ant/notes.txt"), {'h', 'i'});
}

TEST(ImageFolder, ClassesSortedAndLazyDecode) {
  ScratchDir dir;
  write_small_folder(dir, "train");
  auto d = open_dataset(dir.path(), Split::Train);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->class_names(), (std::vector<std::string>{"ant", "cat"}));
  ASSERT_EQ(d->size(), 3);
  EXPECT_EQ(d->label(0), 0);
  EXPECT_EQ(d->label(1), 1);
  EXPECT_NE(d->sample_name(1).find("cat/a.png"), std::string::npos);
  auto s = d->sample(0);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->image.channels, 3); // grey PNG expanded to RGB
  EXPECT_EQ(s->image.height, 4);
  EXPECT_EQ(s->image.width, 5);
  EXPECT_EQ(s->image.at(3, 4, 2), 9.0f);
  // The file is read only when sampled: removing it makes that sample fail.
  std::filesystem::remove(dir.path() + "/train/cat/b.png");
  auto gone = d->sample(2);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, ExitCode::IO);
  EXPECT_NE(gone.error().message.find("b.png"), std::string::npos);
}

TEST(ImageFolder, EmptyClassFolderIsNamed) {
  ScratchDir dir;
  write_small_folder(dir, "train");
  std::filesystem::create_directories(dir.path() + "/train/zebra");
  expect_dataset_error(open_dataset(dir.path(), Split::Train), "zebra: empty class folder");
}

TEST(ImageFolder, MissingSplitOrFolder) {
  ScratchDir dir;
  write_small_folder(dir, "train");
  expect_dataset_error(open_dataset(dir.path(), Split::Val), "val: no such folder");
  expect_dataset_error(open_dataset(dir.path() + "/nope", Split::Train),
                       "nope: no such dataset folder");
  ScratchDir empty;
  expect_dataset_error(open_dataset(empty.path(), Split::Train), "not a dataset");
}

TEST(ImageFolder, ValClassesMustMatchTrain) {
  ScratchDir dir;
  write_small_folder(dir, "train");
  write_small_folder(dir, "val");
  EXPECT_TRUE(open_dataset(dir.path(), Split::Val).ok());
  testing::write_png(dir.file("val/dog/a.png"), 2, 2, 1, std::vector<uint8_t>(4, 0));
  expect_dataset_error(open_dataset(dir.path(), Split::Val), "class folders differ");
}

TEST(ImageFolder, CorruptImageFailsNamingIt) {
  ScratchDir dir;
  write_small_folder(dir, "train");
  write_file(dir.file("train/cat/a.png"), {0x89, 'P', 'N', 'G', 1, 2, 3});
  auto d = open_dataset(dir.path(), Split::Train);
  ASSERT_TRUE(d.ok());
  auto s = d->sample(1);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ExitCode::Dataset);
  EXPECT_NE(s.error().message.find("cat/a.png"), std::string::npos);
}

TEST(FashionMnist, InstalledCopyHasExpectedSizes) {
  const std::string dir = ANET_FASHION_MNIST_DIR;
  // tools/setup.sh installs the dataset (Debian's dataset-fashion-mnist):
  // its absence is a failure, not a reason to skip.
  ASSERT_TRUE(std::filesystem::exists(dir)) << dir << " is missing (run tools/setup.sh)";
  auto train = open_dataset(dir, Split::Train);
  ASSERT_TRUE(train.ok()) << train.error().message;
  EXPECT_EQ(train->size(), 60000);
  EXPECT_EQ(train->num_classes(), 10);
  auto test = open_dataset(dir, Split::Test);
  ASSERT_TRUE(test.ok()) << test.error().message;
  EXPECT_EQ(test->size(), 10000);
  EXPECT_EQ(test->num_classes(), 10);
  auto s = test->sample(9999);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->image.height, 28);
  EXPECT_EQ(s->image.width, 28);
}

} // namespace
} // namespace anet
