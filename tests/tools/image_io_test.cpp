/// Tests of runtime/io/image.h: PNG decoding in every colour type and bit
/// depth, JPEG decoding (RGB, grey, CMYK), refusal of corrupt, truncated and
/// oversized files, the resampler on constant, gradient and striped images,
/// the centre crop's position, and load_image's preprocessing and errors.

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <png.h>
#include <zlib.h>

#include "runtime/io/image.h"
#include "tests/tools/fixtures.h"

namespace anet {
namespace {

using testing::encode_jpeg;
using testing::encode_png;
using testing::encode_png_rgb8;
using testing::PngSpec;
using testing::ScratchDir;

Expected<RgbImage> decode(const std::vector<uint8_t> &bytes) { return decode_image("img", bytes); }

bool contains(const std::string &s, const std::string &part) {
  return s.find(part) != std::string::npos;
}

/// A w x h RGB image whose pixel (x, y) is (x * 10 + y, 2 * x, 255 - y).
std::vector<uint8_t> pattern_rgb(uint32_t w, uint32_t h) {
  std::vector<uint8_t> p;
  for (uint32_t y = 0; y < h; ++y)
    for (uint32_t x = 0; x < w; ++x) {
      p.push_back(static_cast<uint8_t>(x * 10 + y));
      p.push_back(static_cast<uint8_t>(2 * x));
      p.push_back(static_cast<uint8_t>(255 - y));
    }
  return p;
}

TEST(PngDecode, Rgb8IsExact) {
  const auto pixels = pattern_rgb(5, 4);
  auto img = decode(encode_png_rgb8(5, 4, pixels));
  ASSERT_TRUE(img.ok()) << img.error().message;
  EXPECT_EQ(img->width, 5);
  EXPECT_EQ(img->height, 4);
  ASSERT_EQ(img->pixels.size(), pixels.size());
  for (size_t i = 0; i < pixels.size(); ++i)
    EXPECT_EQ(img->pixels[i], pixels[i]) << i;
}

TEST(PngDecode, InterlacedEqualsPlain) {
  const auto pixels = pattern_rgb(9, 7);
  PngSpec spec;
  spec.width = 9;
  spec.height = 7;
  spec.interlaced = true;
  for (uint32_t y = 0; y < 7; ++y)
    spec.rows.emplace_back(pixels.begin() + y * 27, pixels.begin() + (y + 1) * 27);
  auto img = decode(encode_png(spec));
  ASSERT_TRUE(img.ok()) << img.error().message;
  for (size_t i = 0; i < pixels.size(); ++i)
    ASSERT_EQ(img->pixels[i], pixels[i]) << i;
}

TEST(PngDecode, GreyIsReplicatedToRgb) {
  PngSpec spec;
  spec.width = 3;
  spec.height = 1;
  spec.color_type = PNG_COLOR_TYPE_GRAY;
  spec.rows = {{0, 100, 255}};
  auto img = decode(encode_png(spec));
  ASSERT_TRUE(img.ok()) << img.error().message;
  EXPECT_EQ(img->pixels, (std::vector<float>{0, 0, 0, 100, 100, 100, 255, 255, 255}));
}

TEST(PngDecode, OneBitGreyExpandsToFullRange) {
  PngSpec spec;
  spec.width = 3;
  spec.height = 1;
  spec.bit_depth = 1;
  spec.color_type = PNG_COLOR_TYPE_GRAY;
  spec.rows = {{0b10100000}};
  auto img = decode(encode_png(spec));
  ASSERT_TRUE(img.ok()) << img.error().message;
  EXPECT_EQ(img->pixels, (std::vector<float>{255, 255, 255, 0, 0, 0, 255, 255, 255}));
}

TEST(PngDecode, AlphaIsDropped) {
  PngSpec rgba;
  rgba.width = 2;
  rgba.height = 1;
  rgba.color_type = PNG_COLOR_TYPE_RGB_ALPHA;
  rgba.rows = {{10, 20, 30, 0, 40, 50, 60, 255}};
  auto img = decode(encode_png(rgba));
  ASSERT_TRUE(img.ok()) << img.error().message;
  EXPECT_EQ(img->pixels, (std::vector<float>{10, 20, 30, 40, 50, 60}));

  PngSpec ga;
  ga.width = 2;
  ga.height = 1;
  ga.color_type = PNG_COLOR_TYPE_GRAY_ALPHA;
  ga.rows = {{7, 0, 200, 128}};
  img = decode(encode_png(ga));
  ASSERT_TRUE(img.ok()) << img.error().message;
  EXPECT_EQ(img->pixels, (std::vector<float>{7, 7, 7, 200, 200, 200}));
}

TEST(PngDecode, SixteenBitKeepsPrecision) {
  PngSpec spec;
  spec.width = 2;
  spec.height = 1;
  spec.bit_depth = 16;
  // (65535, 0, 257) and (32768, 1, 65280), big-endian.
  spec.rows = {{0xFF, 0xFF, 0x00, 0x00, 0x01, 0x01, 0x80, 0x00, 0x00, 0x01, 0xFF, 0x00}};
  auto img = decode(encode_png(spec));
  ASSERT_TRUE(img.ok()) << img.error().message;
  const float expected[] = {
      255.0f, 0.0f, 1.0f, 32768 * 255.0f / 65535, 255.0f / 65535, 65280 * 255.0f / 65535};
  for (int i = 0; i < 6; ++i)
    EXPECT_NEAR(img->pixels[i], expected[i], 1e-4) << i;
}

TEST(PngDecode, PaletteIsLookedUp) {
  PngSpec spec;
  spec.width = 4;
  spec.height = 1;
  spec.bit_depth = 2;
  spec.color_type = PNG_COLOR_TYPE_PALETTE;
  spec.palette_rgb = {255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 8, 7};
  spec.trns = {255, 0};       // transparency is ignored, as alpha is
  spec.rows = {{0b00011011}}; // indices 0, 1, 2, 3
  auto img = decode(encode_png(spec));
  ASSERT_TRUE(img.ok()) << img.error().message;
  EXPECT_EQ(img->pixels, (std::vector<float>{255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 8, 7}));
}

TEST(PngDecode, TransparencyChunkIsIgnored) {
  PngSpec grey;
  grey.width = 2;
  grey.height = 1;
  grey.color_type = PNG_COLOR_TYPE_GRAY;
  grey.trns = {0, 5}; // 16-bit grey value 5 is transparent
  grey.rows = {{5, 6}};
  auto img = decode(encode_png(grey));
  ASSERT_TRUE(img.ok()) << img.error().message;
  EXPECT_EQ(img->pixels, (std::vector<float>{5, 5, 5, 6, 6, 6}));
}

TEST(PngDecode, TruncatedFileIsCorrupt) {
  auto bytes = encode_png_rgb8(16, 16, pattern_rgb(16, 16));
  bytes.resize(bytes.size() / 2);
  auto img = decode(bytes);
  ASSERT_FALSE(img.ok());
  EXPECT_EQ(img.error().code, ExitCode::Dataset);
  EXPECT_TRUE(contains(img.error().message, "img: corrupt PNG:")) << img.error().message;
}

TEST(PngDecode, BadChecksumIsCorrupt) {
  auto bytes = encode_png_rgb8(4, 4, pattern_rgb(4, 4));
  bytes[20] ^= 0x01; // inside IHDR's data: its CRC no longer matches
  auto img = decode(bytes);
  ASSERT_FALSE(img.ok());
  EXPECT_EQ(img.error().code, ExitCode::Dataset);
  EXPECT_TRUE(contains(img.error().message, "corrupt PNG")) << img.error().message;
}

/// Rewrites the IHDR of a PNG to claim width x height, with a valid CRC.
void claim_png_size(std::vector<uint8_t> &png, uint32_t width, uint32_t height) {
  // Signature (8), length (4), "IHDR" (4), then width and height.
  for (int i = 0; i < 4; ++i) {
    png[16 + i] = static_cast<uint8_t>(width >> (24 - 8 * i));
    png[20 + i] = static_cast<uint8_t>(height >> (24 - 8 * i));
  }
  const uLong crc = crc32(0, png.data() + 12, 17);
  for (int i = 0; i < 4; ++i)
    png[29 + i] = static_cast<uint8_t>(crc >> (24 - 8 * i));
}

TEST(PngDecode, DecompressionBombIsRefusedBeforeAllocating) {
  auto bytes = encode_png_rgb8(1, 1, {1, 2, 3});
  claim_png_size(bytes, 60000, 60000);
  auto img = decode(bytes);
  ASSERT_FALSE(img.ok());
  EXPECT_EQ(img.error().code, ExitCode::Dataset);
  EXPECT_TRUE(contains(img.error().message, "60000x60000")) << img.error().message;
  EXPECT_TRUE(contains(img.error().message, "limit")) << img.error().message;
}

TEST(JpegDecode, RgbIsClose) {
  const auto pixels = pattern_rgb(16, 16);
  auto img = decode(encode_jpeg(16, 16, 3, pixels, 100));
  ASSERT_TRUE(img.ok()) << img.error().message;
  ASSERT_EQ(img->width, 16);
  ASSERT_EQ(img->height, 16);
  for (size_t i = 0; i < pixels.size(); ++i)
    ASSERT_NEAR(img->pixels[i], pixels[i], 6) << i;
}

TEST(JpegDecode, GreyIsReplicatedToRgb) {
  std::vector<uint8_t> grey(8 * 8);
  for (size_t i = 0; i < grey.size(); ++i)
    grey[i] = static_cast<uint8_t>(i * 3);
  auto img = decode(encode_jpeg(8, 8, 1, grey, 100));
  ASSERT_TRUE(img.ok()) << img.error().message;
  for (size_t i = 0; i < grey.size(); ++i) {
    EXPECT_NEAR(img->pixels[3 * i], grey[i], 3) << i;
    EXPECT_EQ(img->pixels[3 * i], img->pixels[3 * i + 1]);
    EXPECT_EQ(img->pixels[3 * i], img->pixels[3 * i + 2]);
  }
}

TEST(JpegDecode, CmykIsConvertedToRgb) {
  // Adobe-style (inverted) CMYK: R = C * K / 255.
  std::vector<uint8_t> cmyk;
  for (int i = 0; i < 8 * 8; ++i) {
    cmyk.insert(cmyk.end(), {200, 100, 50, 255});
  }
  auto img = decode(encode_jpeg(8, 8, 4, cmyk, 100));
  ASSERT_TRUE(img.ok()) << img.error().message;
  EXPECT_NEAR(img->pixels[0], 200, 3);
  EXPECT_NEAR(img->pixels[1], 100, 3);
  EXPECT_NEAR(img->pixels[2], 50, 3);
}

TEST(JpegDecode, TruncatedFileIsCorrupt) {
  auto bytes = encode_jpeg(64, 64, 3, pattern_rgb(64, 64), 90);
  bytes.resize(bytes.size() * 2 / 3);
  auto img = decode(bytes);
  ASSERT_FALSE(img.ok());
  EXPECT_EQ(img.error().code, ExitCode::Dataset);
  EXPECT_TRUE(contains(img.error().message, "img: corrupt JPEG: ")) << img.error().message;
}

TEST(JpegDecode, DecompressionBombIsRefused) {
  auto bytes = encode_jpeg(8, 8, 3, pattern_rgb(8, 8), 90);
  // Find the start-of-frame marker and claim 65000 x 65000 pixels.
  size_t sof = 0;
  for (size_t i = 2; i + 8 < bytes.size(); ++i)
    if (bytes[i] == 0xFF && (bytes[i + 1] == 0xC0 || bytes[i + 1] == 0xC1)) {
      sof = i;
      break;
    }
  ASSERT_NE(sof, 0u);
  bytes[sof + 5] = bytes[sof + 7] = 0xFD;
  bytes[sof + 6] = bytes[sof + 8] = 0xE8;
  auto img = decode(bytes);
  ASSERT_FALSE(img.ok());
  EXPECT_EQ(img.error().code, ExitCode::Dataset);
  EXPECT_TRUE(contains(img.error().message, "65000x65000")) << img.error().message;
}

TEST(ImageDecode, UnknownAndEmptyContentIsRefused) {
  auto img = decode({'G', 'I', 'F', '8', '9', 'a', 0, 0});
  ASSERT_FALSE(img.ok());
  EXPECT_EQ(img.error().code, ExitCode::Dataset);
  EXPECT_TRUE(contains(img.error().message, "not a JPEG or PNG")) << img.error().message;
  img = decode({});
  ASSERT_FALSE(img.ok());
  EXPECT_EQ(img.error().code, ExitCode::Dataset);
  EXPECT_TRUE(contains(img.error().message, "empty")) << img.error().message;
}

TEST(ImageDecode, FormatIsRecognisedByContent) {
  const auto jpeg = encode_jpeg(8, 8, 3, pattern_rgb(8, 8), 90);
  const auto png = encode_png_rgb8(2, 2, pattern_rgb(2, 2));
  EXPECT_EQ(sniff_image_format(jpeg.data(), jpeg.size()), ImageFormat::Jpeg);
  EXPECT_EQ(sniff_image_format(png.data(), png.size()), ImageFormat::Png);
  EXPECT_EQ(sniff_image_format(png.data(), 4), ImageFormat::Unknown);
}

TEST(ImageDecode, SurvivesCorruptedFiles) {
  // Deterministic mutations (flipped bytes, cut tails) of valid files: each
  // decodes or fails with a Dataset error; none may crash (run under ASan).
  const std::vector<std::vector<uint8_t>> originals = {
      encode_png_rgb8(12, 9, pattern_rgb(12, 9)),
      encode_jpeg(24, 16, 3, pattern_rgb(24, 16), 80),
  };
  uint32_t state = 2024;
  auto next = [&state] {
    state = state * 1664525u + 1013904223u;
    return state >> 8;
  };
  for (const auto &original : originals)
    for (int round = 0; round < 300; ++round) {
      std::vector<uint8_t> bytes = original;
      const int flips = 1 + static_cast<int>(next() % 4);
      for (int f = 0; f < flips; ++f)
        bytes[next() % bytes.size()] ^= static_cast<uint8_t>(1 + next() % 255);
      if (round % 3 == 0)
        bytes.resize(next() % bytes.size());
      auto img = decode(bytes);
      if (!img.ok()) {
        EXPECT_EQ(img.error().code, ExitCode::Dataset) << img.error().message;
        continue;
      }
      EXPECT_EQ(img->pixels.size(), static_cast<size_t>(img->width * img->height * 3));
    }
}

// ---------------------------------------------------------------- resampling

RgbImage make_image(int64_t h, int64_t w, float (*f)(int64_t y, int64_t x, int64_t c)) {
  RgbImage img;
  img.height = h;
  img.width = w;
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x)
      for (int64_t c = 0; c < 3; ++c)
        img.pixels.push_back(f(y, x, c));
  return img;
}

float at(const RgbImage &img, int64_t y, int64_t x, int64_t c) {
  return img.pixels[static_cast<size_t>((y * img.width + x) * 3 + c)];
}

TEST(Resize, RescaledSizeKeepsAspectRatio) {
  EXPECT_EQ(rescaled_size(375, 500, 256), (std::pair<int64_t, int64_t>{256, 341}));
  EXPECT_EQ(rescaled_size(500, 375, 256), (std::pair<int64_t, int64_t>{341, 256}));
  EXPECT_EQ(rescaled_size(100, 100, 256), (std::pair<int64_t, int64_t>{256, 256}));
  EXPECT_EQ(rescaled_size(1, 10000, 256), (std::pair<int64_t, int64_t>{256, 2560000}));
}

TEST(Resize, ConstantStaysConstant) {
  const RgbImage img = make_image(37, 53, [](int64_t, int64_t, int64_t c) { return 40.0f + c; });
  for (int64_t side : {8, 20, 37, 64, 100}) {
    const int64_t crop = std::min<int64_t>(side, 16);
    const RgbImage out = resize_and_center_crop(img, side, crop, crop);
    ASSERT_EQ(out.height, crop);
    ASSERT_EQ(out.width, crop);
    for (size_t i = 0; i < out.pixels.size(); ++i)
      ASSERT_NEAR(out.pixels[i], 40.0f + static_cast<float>(i % 3), 1e-4) << side << " " << i;
  }
}

TEST(Resize, IdentityWhenTheSizeIsKept) {
  const RgbImage img = make_image(20, 30, [](int64_t y, int64_t x, int64_t c) {
    return static_cast<float>((y * 31 + x * 7 + c * 13) % 256);
  });
  const RgbImage out = resize_and_center_crop(img, 20, 20, 20);
  for (int64_t y = 0; y < 20; ++y)
    for (int64_t x = 0; x < 20; ++x)
      ASSERT_EQ(at(out, y, x, 1), at(img, y, x + 5, 1));
}

TEST(Resize, UpscalingInterpolatesLinearlyBetweenPixelCentres) {
  // A horizontal ramp 8 -> 16 wide (and 8 -> 16 high): output column o sits
  // at source coordinate (o + 0.5) / 2 - 0.5, where the ramp is 10 * that.
  const RgbImage img =
      make_image(8, 8, [](int64_t, int64_t x, int64_t) { return 10.0f * static_cast<float>(x); });
  const RgbImage out = resize_and_center_crop(img, 16, 16, 16);
  for (int64_t o = 1; o < 15; ++o) {
    const float expected = 10.0f * ((static_cast<float>(o) + 0.5f) / 2.0f - 0.5f);
    EXPECT_NEAR(at(out, 5, o, 0), expected, 1e-4) << o;
  }
  // Edges clamp to the border pixel.
  EXPECT_NEAR(at(out, 5, 0, 0), 0.0f, 1e-4);
  EXPECT_NEAR(at(out, 5, 15, 0), 70.0f, 1e-4);
}

TEST(Resize, DownscalingARampAveragesAroundTheCentre) {
  const RgbImage img =
      make_image(32, 32, [](int64_t y, int64_t, int64_t) { return static_cast<float>(y); });
  const RgbImage out = resize_and_center_crop(img, 16, 16, 16);
  // Output row i covers source rows 2i, 2i+1; its centre is at 2i + 0.5.
  for (int64_t i = 2; i < 14; ++i)
    EXPECT_NEAR(at(out, i, 3, 2), 2.0f * static_cast<float>(i) + 0.5f, 1e-4) << i;
}

TEST(Resize, DownscalingIsAntialiased) {
  // One-pixel stripes of 0 and 255 shrunk 4x: every output pixel must be
  // their average; point sampling or plain bilinear would give 0 or 255.
  const RgbImage img =
      make_image(64, 64, [](int64_t, int64_t x, int64_t) { return x % 2 ? 255.0f : 0.0f; });
  const RgbImage out = resize_and_center_crop(img, 16, 16, 16);
  for (int64_t x = 1; x < 15; ++x)
    EXPECT_NEAR(at(out, 8, x, 0), 127.5f, 1e-3) << x;
}

TEST(Resize, CentreCropPosition) {
  // Same scale (shorter side kept): the crop starts at floor((W - cw) / 2).
  const RgbImage wide =
      make_image(256, 301, [](int64_t, int64_t x, int64_t) { return static_cast<float>(x); });
  RgbImage out = resize_and_center_crop(wide, 256, 224, 224);
  EXPECT_EQ(at(out, 0, 0, 0), 38.0f); // (301 - 224) / 2 = 38
  EXPECT_EQ(at(out, 0, 223, 0), 261.0f);
  const RgbImage tall =
      make_image(300, 256, [](int64_t y, int64_t, int64_t) { return static_cast<float>(y); });
  out = resize_and_center_crop(tall, 256, 227, 227);
  EXPECT_EQ(at(out, 0, 0, 0), 36.0f); // (300 - 227) / 2 = 36
  EXPECT_EQ(at(out, 226, 0, 0), 262.0f);
}

// ---------------------------------------------------------------- load_image

TEST(LoadImage, MeanScaleAndLayout) {
  ScratchDir dir;
  // A 4x4 image of constant colour (30, 60, 90), saved with a misleading name.
  std::vector<uint8_t> pixels;
  for (int i = 0; i < 16; ++i)
    pixels.insert(pixels.end(), {30, 60, 90});
  const std::string path = dir.path("photo.jpg");
  testing::write_bytes(path, encode_png_rgb8(4, 4, pixels));

  Preprocess pp;
  pp.resize = 4;
  pp.mean = {10, 20, 30};
  pp.scale = 0.5f;
  auto t = load_image(path, pp, 3, 2, 2);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->type.shape, (Shape{1, 3, 2, 2}));
  EXPECT_EQ(t->data, (std::vector<float>{10, 10, 10, 10, 20, 20, 20, 20, 30, 30, 30, 30}));

  Preprocess plain;
  plain.resize = 4;
  auto grey = load_image(path, plain, 1, 3, 3);
  ASSERT_TRUE(grey.ok()) << grey.error().message;
  EXPECT_EQ(grey->type.shape, (Shape{1, 1, 3, 3}));
  EXPECT_NEAR(grey->data[0], 0.299f * 30 + 0.587f * 60 + 0.114f * 90, 1e-3);
}

TEST(LoadImage, MeanImageOfCropOrOfResizedSize) {
  ScratchDir dir;
  const std::string path = dir.path("x.png");
  testing::write_bytes(path, encode_png_rgb8(4, 4, std::vector<uint8_t>(48, 100)));
  Preprocess pp;
  pp.resize = 4;
  pp.mean = {1000, 1000, 1000}; // ignored: the mean image wins
  for (int i = 0; i < 3 * 2 * 2; ++i)
    pp.mean_image.push_back(static_cast<float>(i));
  auto t = load_image(path, pp, 3, 2, 2);
  ASSERT_TRUE(t.ok()) << t.error().message;
  for (int i = 0; i < 12; ++i)
    EXPECT_EQ(t->data[i], 100.0f - static_cast<float>(i));

  // A resize x resize mean image: its centre 2x2 is subtracted.
  pp.mean_image.clear();
  for (int i = 0; i < 3 * 4 * 4; ++i)
    pp.mean_image.push_back(static_cast<float>(i));
  t = load_image(path, pp, 3, 2, 2);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->data[0], 100.0f - 5);  // channel 0, (1, 1) of 4x4
  EXPECT_EQ(t->data[3], 100.0f - 10); // channel 0, (2, 2)
  EXPECT_EQ(t->data[4], 100.0f - 21); // channel 1, (1, 1)
}

TEST(LoadImage, CropReachingIntoTheFrameIsTheImageAmidZeros) {
  ScratchDir dir;
  const std::string path = dir.path("x.png");
  testing::write_bytes(path, encode_png_rgb8(4, 4, std::vector<uint8_t>(48, 100)));
  Preprocess pp;
  pp.resize = 4;
  pp.pad = 2;
  pp.mean = {10, 20, 30};
  pp.scale = 0.5f;
  // 7x6 from the 8x8 patch: rows from offset floor(1 / 2) = 0 (the image at
  // rows 2-5 of the crop), columns from offset 1 (the image at columns 1-4).
  auto t = load_image(path, pp, 3, 7, 6);
  ASSERT_TRUE(t.ok()) << t.error().message;
  ASSERT_EQ(t->type.shape, (Shape{1, 3, 7, 6}));
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 7; ++y)
      for (int x = 0; x < 6; ++x) {
        const bool inside = y >= 2 && y < 6 && x >= 1 && x < 5;
        EXPECT_EQ(t->data[(c * 7 + y) * 6 + x], inside ? (100.0f - 10 * (c + 1)) * 0.5f : 0.0f)
            << c << "," << y << "," << x;
      }
  auto too_big = load_image(path, pp, 3, 9, 8);
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.error().code, ExitCode::Usage);
  EXPECT_TRUE(contains(too_big.error().message, "and its frame")) << too_big.error().message;
}

TEST(LoadImage, Errors) {
  ScratchDir dir;
  const std::string good = dir.path("good.png");
  testing::write_bytes(good, encode_png_rgb8(2, 2, std::vector<uint8_t>(12, 1)));
  Preprocess pp;
  pp.resize = 8;

  auto missing = load_image(dir.path("missing.png"), pp, 3, 4, 4);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ExitCode::IO);
  EXPECT_TRUE(contains(missing.error().message, "missing.png: No such file"))
      << missing.error().message;

  auto directory = load_image(dir.dir(), pp, 3, 4, 4);
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.error().code, ExitCode::IO);

  const std::string junk = dir.path("junk.jpg");
  testing::write_text(junk, "hello, world");
  auto corrupt = load_image(junk, pp, 3, 4, 4);
  ASSERT_FALSE(corrupt.ok());
  EXPECT_EQ(corrupt.error().code, ExitCode::Dataset);

  auto four = load_image(good, pp, 4, 4, 4);
  ASSERT_FALSE(four.ok());
  EXPECT_EQ(four.error().code, ExitCode::Usage);

  auto small = load_image(good, pp, 3, 9, 4);
  ASSERT_FALSE(small.ok());
  EXPECT_EQ(small.error().code, ExitCode::Usage);

  Preprocess bad_mean = pp;
  bad_mean.mean = {1, 2};
  auto mean = load_image(good, bad_mean, 3, 4, 4);
  ASSERT_FALSE(mean.ok());
  EXPECT_EQ(mean.error().code, ExitCode::IncompatiblePlan);

  Preprocess bad_image = pp;
  bad_image.mean_image.assign(7, 0.0f);
  auto image = load_image(good, bad_image, 3, 4, 4);
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.error().code, ExitCode::IncompatiblePlan);
}

} // namespace
} // namespace anet
