// Line charts of training curves: axes with "nice" ticks (1, 2 or 5 times
// a power of ten), Bresenham lines clipped to the plot area, text in the
// built-in bitmap font, and libpng encoding to memory before an atomic
// write.
//
// libpng reports errors by longjmp: the functions that call it set their
// jump buffer and hold no object with a destructor, as in
// runtime/io/image_decode.cpp.

#include "runtime/train/plot.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <csetjmp>
#include <cstdint>
#include <cstdio>
#include <string_view>

#include <png.h>

#include "ir/atomic_file.h"
#include "runtime/train/bitmap_font.h"

namespace anet {
namespace {

constexpr unsigned kPalette[] = {0x1F77B4, 0xFF7F0E, 0x2CA02C, 0xD62728,
                                 0x9467BD, 0x8C564B, 0xE377C2, 0x17BECF};
constexpr unsigned kBackground = 0xFFFFFF;
constexpr unsigned kInk = 0x222222;   // axes and text
constexpr unsigned kGrid = 0xE4E4E4;  // grid lines
constexpr unsigned kFrame = 0xA0A0A0; // the legend's border

// Coordinates beyond this magnitude are not plotted: their differences
// could overflow.
constexpr double kMaxMagnitude = 1e300;

/// The plot area, inclusive, in pixels.
constexpr int kLeft = 76, kRight = kCurvesWidth - 24, kTop = 48, kBottom = kCurvesHeight - 56;

struct Rect {
  int left, top, right, bottom; // inclusive
  bool contains(int x, int y) const { return x >= left && x <= right && y >= top && y <= bottom; }
};

class Canvas {
public:
  Canvas(int width, int height)
      : width_(width), height_(height), rgb_(static_cast<size_t>(width) * height * 3) {
    fill({0, 0, width - 1, height - 1}, kBackground);
  }

  int width() const { return width_; }
  int height() const { return height_; }
  uint8_t *row(int y) { return rgb_.data() + static_cast<size_t>(y) * width_ * 3; }

  void set(int x, int y, unsigned colour, const Rect &clip) {
    if (!clip.contains(x, y) || x < 0 || y < 0 || x >= width_ || y >= height_)
      return;
    uint8_t *p = row(y) + static_cast<size_t>(x) * 3;
    p[0] = static_cast<uint8_t>(colour >> 16);
    p[1] = static_cast<uint8_t>(colour >> 8);
    p[2] = static_cast<uint8_t>(colour);
  }
  void set(int x, int y, unsigned colour) { set(x, y, colour, whole()); }

  void fill(const Rect &r, unsigned colour) {
    for (int y = r.top; y <= r.bottom; ++y)
      for (int x = r.left; x <= r.right; ++x)
        set(x, y, colour);
  }

  // A line `thickness` pixels wide from (x0, y0) to (x1, y1) (Bresenham),
  // drawing only inside `clip`.
  void line(int x0, int y0, int x1, int y1, unsigned colour, int thickness, const Rect &clip) {
    const int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0);
    const int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    int err = dx + dy;
    for (;;) {
      for (int ty = 0; ty < thickness; ++ty)
        for (int tx = 0; tx < thickness; ++tx)
          set(x0 + tx - thickness / 2, y0 + ty - thickness / 2, colour, clip);
      if (x0 == x1 && y0 == y1)
        return;
      const int e2 = 2 * err;
      if (e2 >= dy) {
        err += dy;
        x0 += sx;
      }
      if (e2 <= dx) {
        err += dx;
        y0 += sy;
      }
    }
  }

  // `text` with its top-left corner at (x, y), each font pixel `scale` wide.
  void text(int x, int y, std::string_view text, unsigned colour, int scale) {
    for (char c : text) {
      const Glyph &g = glyph_for(c);
      for (int gy = 0; gy < kGlyphHeight; ++gy)
        for (int gx = 0; gx < kGlyphWidth; ++gx)
          if (g[gy] >> (kGlyphWidth - 1 - gx) & 1)
            fill({x + gx * scale, y + gy * scale, x + (gx + 1) * scale - 1,
                  y + (gy + 1) * scale - 1},
                 colour);
      x += kGlyphAdvance * scale;
    }
  }

  static int text_width(std::string_view text, int scale) {
    return text.empty() ? 0 : (static_cast<int>(text.size()) * kGlyphAdvance - 1) * scale;
  }

private:
  Rect whole() const { return {0, 0, width_ - 1, height_ - 1}; }

  int width_, height_;
  std::vector<uint8_t> rgb_;
};

/// An axis: the range drawn and its tick marks, every `step` from `lo`.
struct Axis {
  double lo = 0, hi = 1, step = 0.2;
  int ticks = 6;
};

// Rounds [lo, hi] out to about five ticks of 1, 2 or 5 times a power of
// ten. An empty range (lo > hi: no points) becomes [0, 1]; a (nearly)
// constant one is widened around its value.
Axis nice_axis(double lo, double hi) {
  if (lo > hi) {
    lo = 0;
    hi = 1;
  }
  const double middle = lo / 2 + hi / 2;
  if (hi - lo <= std::fabs(middle) * 1e-9 || hi - lo < 1e-280) {
    const double pad = std::fabs(middle) >= 1e-270 ? std::fabs(middle) * 0.1 : 1.0;
    lo = middle - pad;
    hi = middle + pad;
  }
  const double raw = (hi - lo) / 5;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / magnitude;
  Axis axis;
  axis.step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * magnitude;
  axis.lo = std::floor(lo / axis.step) * axis.step;
  axis.hi = std::ceil(hi / axis.step) * axis.step;
  axis.ticks = static_cast<int>(std::lround((axis.hi - axis.lo) / axis.step)) + 1;
  assert(axis.ticks >= 2 && axis.ticks <= 20 && "about five ticks");
  return axis;
}

// A tick's label with as many decimals as the step needs.
std::string tick_label(double v, double step) {
  if (std::fabs(v) < step * 1e-6)
    v = 0; // not "-0.0" from rounding
  const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
  char buf[64];
  if (decimals > 6 || std::fabs(v) >= 1e7)
    std::snprintf(buf, sizeof buf, "%.4g", v);
  else
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

bool plottable(double x, double y) {
  return std::isfinite(x) && std::isfinite(y) && std::fabs(x) <= kMaxMagnitude &&
         std::fabs(y) <= kMaxMagnitude;
}

// From data to pixel coordinates, clamped far outside the image so the
// conversion to int is always defined.
int to_pixel(double v, const Axis &axis, int from, int to) {
  const double p = from + (v - axis.lo) / (axis.hi - axis.lo) * (to - from);
  return static_cast<int>(std::lround(std::clamp(p, -4.0 * kCurvesWidth, 4.0 * kCurvesWidth)));
}

void draw_axes(Canvas &canvas, const Axis &ax, const Axis &ay) {
  const Rect all{0, 0, canvas.width() - 1, canvas.height() - 1};
  for (int i = 0; i < ax.ticks; ++i) {
    const double v = ax.lo + i * ax.step;
    const int x = to_pixel(v, ax, kLeft, kRight);
    canvas.line(x, kTop, x, kBottom, kGrid, 1, all);
    canvas.line(x, kBottom, x, kBottom + 4, kInk, 1, all);
    const std::string label = tick_label(v, ax.step);
    canvas.text(x - Canvas::text_width(label, 1) / 2, kBottom + 8, label, kInk, 1);
  }
  for (int i = 0; i < ay.ticks; ++i) {
    const double v = ay.lo + i * ay.step;
    const int y = to_pixel(v, ay, kBottom, kTop);
    canvas.line(kLeft, y, kRight, y, kGrid, 1, all);
    canvas.line(kLeft - 4, y, kLeft, y, kInk, 1, all);
    const std::string label = tick_label(v, ay.step);
    canvas.text(kLeft - 8 - Canvas::text_width(label, 1), y - kGlyphHeight / 2, label, kInk, 1);
  }
  canvas.line(kLeft, kTop, kLeft, kBottom, kInk, 1, all);
  canvas.line(kLeft, kBottom, kRight, kBottom, kInk, 1, all);
}

void draw_series(Canvas &canvas, const Series &s, unsigned colour, const Axis &ax, const Axis &ay) {
  const Rect plot{kLeft + 1, kTop, kRight, kBottom - 1};
  const size_t n = s.x.size();
  auto ok = [&](size_t i) { return i < n && plottable(s.x[i], s.y[i]); };
  for (size_t i = 0; i < n; ++i) {
    if (!ok(i))
      continue;
    const int x = to_pixel(s.x[i], ax, kLeft, kRight), y = to_pixel(s.y[i], ay, kBottom, kTop);
    if (ok(i + 1))
      canvas.line(x, y, to_pixel(s.x[i + 1], ax, kLeft, kRight),
                  to_pixel(s.y[i + 1], ay, kBottom, kTop), colour, 2, plot);
    else if (i == 0 || !ok(i - 1))
      canvas.line(x, y, x, y, colour, 4, plot); // an isolated point: a dot
  }
}

void draw_legend(Canvas &canvas, const std::vector<Series> &series) {
  if (series.empty())
    return;
  int name_width = 0;
  for (const Series &s : series)
    name_width = std::max(name_width, Canvas::text_width(s.name, 1));
  constexpr int kRow = 14, kSwatch = 24;
  const int width = 10 + kSwatch + 6 + name_width + 10;
  const int height = 8 + static_cast<int>(series.size()) * kRow;
  const Rect box{kRight - 8 - width, kTop + 8, kRight - 8, kTop + 8 + height};
  canvas.fill(box, kBackground);
  const Rect all{0, 0, canvas.width() - 1, canvas.height() - 1};
  canvas.line(box.left, box.top, box.right, box.top, kFrame, 1, all);
  canvas.line(box.left, box.bottom, box.right, box.bottom, kFrame, 1, all);
  canvas.line(box.left, box.top, box.left, box.bottom, kFrame, 1, all);
  canvas.line(box.right, box.top, box.right, box.bottom, kFrame, 1, all);
  for (size_t i = 0; i < series.size(); ++i) {
    const int y = box.top + 8 + static_cast<int>(i) * kRow;
    canvas.fill({box.left + 10, y + 2, box.left + 10 + kSwatch - 1, y + 4}, series_colour(i));
    canvas.text(box.left + 10 + kSwatch + 6, y, series[i].name, kInk, 1);
  }
}

// ------------------------------------------------------------------ PNG

/// Where libpng writes to, and where its error message lands.
struct PngSink {
  std::string bytes;
  char message[256];
};

void png_fail(png_structp png, png_const_charp message) {
  auto *sink = static_cast<PngSink *>(png_get_error_ptr(png));
  std::snprintf(sink->message, sizeof sink->message, "%s", message);
  png_longjmp(png, 1);
}

void png_ignore_warning(png_structp, png_const_charp) {}

void png_write_memory(png_structp png, png_bytep data, size_t count) {
  auto *sink = static_cast<PngSink *>(png_get_io_ptr(png));
  sink->bytes.append(reinterpret_cast<const char *>(data), count);
}

void png_flush_memory(png_structp) {}

/// Encodes 8-bit RGB rows. Returns false after a libpng error. C-style:
/// see the file comment.
[[gnu::noinline]] bool png_encode(png_structp png, png_infop info, int width, int height,
                                  png_bytepp rows) {
  if (setjmp(png_jmpbuf(png)))
    return false;
  png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height), 8,
               PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  png_write_image(png, rows);
  png_write_end(png, nullptr);
  return true;
}

Expected<std::string> encode_png(Canvas &canvas, const std::string &path) {
  auto fail = [&](const char *why) {
    return make_error(ExitCode::Runtime, "cannot encode plot '", path, "': ", why);
  };
  PngSink sink{{}, {}};
  png_structp png =
      png_create_write_struct(PNG_LIBPNG_VER_STRING, &sink, png_fail, png_ignore_warning);
  if (!png)
    return fail("cannot start the PNG encoder");
  png_infop info = png_create_info_struct(png);
  struct PngDestroyer {
    png_structp *png;
    png_infop *info;
    ~PngDestroyer() { png_destroy_write_struct(png, info); }
  } destroyer{&png, &info};
  if (!info)
    return fail("cannot start the PNG encoder");
  png_set_write_fn(png, &sink, png_write_memory, png_flush_memory);
  std::vector<png_bytep> rows(static_cast<size_t>(canvas.height()));
  for (int y = 0; y < canvas.height(); ++y)
    rows[static_cast<size_t>(y)] = canvas.row(y);
  if (!png_encode(png, info, canvas.width(), canvas.height(), rows.data()))
    return fail(sink.message);
  return std::move(sink.bytes);
}

} // namespace

unsigned series_colour(size_t i) { return kPalette[i % std::size(kPalette)]; }

Status write_curves_png(const std::string &path, const std::string &title,
                        const std::vector<Series> &series, const std::string &x_label) {
  double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
  for (const Series &s : series) {
    assert(s.x.size() == s.y.size() && "a series has as many x as y values");
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!plottable(s.x[i], s.y[i]))
        continue;
      x_lo = std::min(x_lo, s.x[i]);
      x_hi = std::max(x_hi, s.x[i]);
      y_lo = std::min(y_lo, s.y[i]);
      y_hi = std::max(y_hi, s.y[i]);
    }
  }
  const Axis ax = nice_axis(x_lo, x_hi), ay = nice_axis(y_lo, y_hi);

  Canvas canvas(kCurvesWidth, kCurvesHeight);
  draw_axes(canvas, ax, ay);
  for (size_t i = 0; i < series.size(); ++i)
    draw_series(canvas, series[i], series_colour(i), ax, ay);
  draw_legend(canvas, series);
  canvas.text((kCurvesWidth - Canvas::text_width(title, 2)) / 2, 14, title, kInk, 2);
  canvas.text((kLeft + kRight - Canvas::text_width(x_label, 1)) / 2, kBottom + 28, x_label, kInk,
              1);

  ANET_ASSIGN_OR_RETURN(std::string png, encode_png(canvas, path));
  return write_file_atomically(path, {png}, "plot");
}

} // namespace anet
