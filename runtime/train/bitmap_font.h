#pragma once
/// A small built-in 5x7 bitmap font for the text of training plots (titles,
/// tick labels, legends): digits, upper- and lower-case letters, space and
/// the punctuation `. , - + = % : / ( ) _ ? ' [ ] #`.

#include <array>
#include <cstdint>

namespace anet {

/// Glyph cell: 5 columns by 7 rows of pixels, advanced by 6 (one blank column).
inline constexpr int kGlyphWidth = 5;
/// Glyph rows.
inline constexpr int kGlyphHeight = 7;
/// Horizontal distance from one character to the next.
inline constexpr int kGlyphAdvance = 6;

/// One glyph: a row each, top first; bit 4 is the leftmost column.
using Glyph = std::array<uint8_t, kGlyphHeight>;

/// Whether the font draws `c` (otherwise glyph_for shows '?').
bool has_glyph(char c);

/// The glyph of `c`, or of '?' for characters the font does not have.
const Glyph &glyph_for(char c);

} // namespace anet
