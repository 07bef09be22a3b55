#pragma once
/// Training curves as PNG line charts (loss, error rates and learning rate
/// against step or epoch), drawn without a plotting library: our own
/// rasteriser and built-in bitmap font (runtime/train/bitmap_font.h),
/// encoded by libpng.

#include <string>
#include <vector>

#include "ir/error.h"

namespace anet {

/// Width of the chart write_curves_png draws, in pixels.
inline constexpr int kCurvesWidth = 800;
/// Height of the chart write_curves_png draws, in pixels.
inline constexpr int kCurvesHeight = 500;

/// One curve: the points (x[i], y[i]); x and y have the same length.
struct Series {
  std::string name; ///< shown in the legend
  std::vector<double> x;
  std::vector<double> y;
};

/// The colour of the i-th series (cycling through a palette of 8), as
/// 0xRRGGBB. Nothing else in the chart uses these colours.
unsigned series_colour(size_t i);

/// Draws `series` on shared axes (ranges covering every series' points,
/// rounded out to tick marks) with grid lines, tick labels, `x_label`
/// under the x axis, `title` above, and a legend naming each series in its
/// colour, and writes it to `path` as a kCurvesWidth x kCurvesHeight RGB
/// PNG, atomically (ir/atomic_file.h). Points with a non-finite coordinate,
/// or one beyond +-1e300, are skipped (the line breaks there); empty series
/// are allowed (listed in the legend only), and so is no series at all.
/// Characters the font lacks show as '?'. Errors: ExitCode::IO naming the
/// path; ExitCode::Runtime if libpng fails.
Status write_curves_png(const std::string &path, const std::string &title,
                        const std::vector<Series> &series, const std::string &x_label);

} // namespace anet
