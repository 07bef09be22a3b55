/// Tests of the curve plots: the PNG decodes (with libpng) to the documented
/// size, each series' colour is drawn, constant, NaN, single-point and
/// empty series are handled, text is drawn, and errors name the file.
/// Also the bitmap font's coverage.

#include <gtest/gtest.h>

#include <png.h>

#include <cmath>
#include <limits>
#include <set>

#include "runtime/train/bitmap_font.h"
#include "runtime/train/plot.h"
#include "tests/train/train_test_util.h"

namespace anet {
namespace {

using testing::ScratchDir;

struct Image {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;

  unsigned at(int x, int y) const {
    const uint8_t *p = &rgb[(static_cast<size_t>(y) * width + x) * 3];
    return unsigned{p[0]} << 16 | unsigned{p[1]} << 8 | p[2];
  }
  /// Pixels of `colour` in rows [y0, y1).
  int count(unsigned colour, int y0 = 0, int y1 = -1) const {
    int n = 0;
    for (int y = y0; y < (y1 < 0 ? height : y1); ++y)
      for (int x = 0; x < width; ++x)
        n += at(x, y) == colour;
    return n;
  }
};

/// Decodes `path` as 8-bit RGB with libpng's simplified API.
Image decode(const std::string &path) {
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  Image image;
  if (!png_image_begin_read_from_file(&png, path.c_str())) {
    ADD_FAILURE() << path << ": " << png.message;
    return image;
  }
  png.format = PNG_FORMAT_RGB;
  image.width = static_cast<int>(png.width);
  image.height = static_cast<int>(png.height);
  image.rgb.resize(PNG_IMAGE_SIZE(png));
  if (!png_image_finish_read(&png, nullptr, image.rgb.data(), 0, nullptr)) {
    ADD_FAILURE() << path << ": " << png.message;
    png_image_free(&png);
  }
  return image;
}

Image plot(const std::string &path, const std::vector<Series> &series,
           const std::string &title = "loss") {
  Status s = write_curves_png(path, title, series, "step");
  EXPECT_TRUE(s.ok()) << s.error().message;
  return decode(path);
}

// The legend's colour swatch of a series: 24 x 3 pixels.
constexpr int kSwatchPixels = 72;

Series ramp(const std::string &name, double slope, int n = 50) {
  Series s{name, {}, {}};
  for (int i = 0; i < n; ++i) {
    s.x.push_back(i * 10.0);
    s.y.push_back(3.0 - slope * i);
  }
  return s;
}

TEST(Plot, DrawsEachSeriesInItsColour) {
  ScratchDir dir;
  const Image image =
      plot(dir.file("curves.png"), {ramp("train loss", 0.05), ramp("val loss", 0.02)});
  EXPECT_EQ(image.width, kCurvesWidth);
  EXPECT_EQ(image.height, kCurvesHeight);
  for (size_t i = 0; i < 2; ++i)
    EXPECT_GT(image.count(series_colour(i)), 5 * kSwatchPixels) << i;
  EXPECT_EQ(image.count(series_colour(2)), 0);
  EXPECT_EQ(image.at(0, 0), 0xFFFFFFu);
  EXPECT_EQ(testing::file_names(dir.path()), std::vector<std::string>{"curves.png"});
}

TEST(Plot, PaletteColoursAreDistinctAndCycle) {
  std::set<unsigned> colours;
  for (size_t i = 0; i < 8; ++i)
    colours.insert(series_colour(i));
  EXPECT_EQ(colours.size(), 8u);
  EXPECT_EQ(series_colour(8), series_colour(0));
  EXPECT_EQ(colours.count(0xFFFFFF), 0u);
}

TEST(Plot, AnEmptySeriesAppearsOnlyInTheLegend) {
  ScratchDir dir;
  const Image image = plot(dir.file("c.png"), {ramp("a", 0.05), Series{"empty", {}, {}}});
  EXPECT_EQ(image.count(series_colour(1)), kSwatchPixels);
  EXPECT_GT(image.count(series_colour(0)), 5 * kSwatchPixels);
}

TEST(Plot, AConstantSeriesIsAFlatLineNotADivisionByZero) {
  ScratchDir dir;
  Series flat{"lr", {0, 1, 2, 3}, {0.01, 0.01, 0.01, 0.01}};
  const Image image = plot(dir.file("c.png"), {flat});
  // A horizontal line across the plot, two pixels thick.
  EXPECT_GT(image.count(series_colour(0)), 2 * 600);
  Series zero{"zero", {5, 5}, {0, 0}};
  const Image at_zero = plot(dir.file("z.png"), {zero});
  EXPECT_GT(at_zero.count(series_colour(0)), 0);
}

TEST(Plot, NonFinitePointsAreSkipped) {
  ScratchDir dir;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  Series gappy{"loss", {0, 1, 2, 3, 4, 5, nan, 7}, {1, 2, nan, inf, 3, 2, 1, 1e308}};
  Series all_nan{"nan", {nan, nan}, {nan, nan}};
  const Image image = plot(dir.file("c.png"), {gappy, all_nan});
  EXPECT_GT(image.count(series_colour(0)), 2 * kSwatchPixels);
  EXPECT_EQ(image.count(series_colour(1)), kSwatchPixels);
}

TEST(Plot, ASinglePointIsADot) {
  ScratchDir dir;
  const Image image = plot(dir.file("c.png"), {Series{"one", {3}, {0.5}}});
  EXPECT_EQ(image.count(series_colour(0)), kSwatchPixels + 16);
}

TEST(Plot, NoSeriesAtAllDrawsEmptyAxes) {
  ScratchDir dir;
  const Image image = plot(dir.file("c.png"), {});
  EXPECT_EQ(image.width, kCurvesWidth);
  EXPECT_GT(image.count(0x222222), 1000); // axes, ticks and labels
}

TEST(Plot, TitleIsDrawnAtTheTop) {
  ScratchDir dir;
  const int with_title =
      plot(dir.file("a.png"), {ramp("a", 1)}, "Top-1 error %").count(0x222222, 0, 40);
  const int without = plot(dir.file("b.png"), {ramp("a", 1)}, "").count(0x222222, 0, 40);
  EXPECT_EQ(without, 0);
  EXPECT_GT(with_title, 100);
}

TEST(Plot, HugeAndTinyRangesDoNotBreakTheAxes) {
  ScratchDir dir;
  plot(dir.file("a.png"), {Series{"big", {-1e300, 1e300}, {-1e300, 1e300}}});
  plot(dir.file("b.png"), {Series{"tiny", {0, 1}, {1e-300, 2e-300}}});
  plot(dir.file("c.png"), {Series{"close", {0, 1}, {1.0, 1.0 + 1e-15}}});
}

TEST(Plot, AnUnwritablePathIsAnIOErrorNamingIt) {
  ScratchDir dir;
  const std::string path = dir.file("missing/c.png");
  Status s = write_curves_png(path, "t", {ramp("a", 1)}, "step");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ExitCode::IO);
  EXPECT_EQ(s.error().message,
            "cannot create a temporary file for plot '" + path + "': No such file or directory");
}

TEST(BitmapFont, HasTheDocumentedCharactersEachDistinct) {
  const std::string documented = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                 " .,-+=%:/()_?'[]#";
  std::set<Glyph> seen;
  for (char c : documented) {
    EXPECT_TRUE(has_glyph(c)) << c;
    EXPECT_TRUE(seen.insert(glyph_for(c)).second) << "the glyph of '" << c << "' is a duplicate";
    for (uint8_t row : glyph_for(c))
      EXPECT_LT(row, 1u << kGlyphWidth) << c;
  }
  EXPECT_FALSE(has_glyph('~'));
  EXPECT_EQ(glyph_for('~'), glyph_for('?'));
}

} // namespace
} // namespace anet
