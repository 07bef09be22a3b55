/// Decoding JPEG (libturbojpeg) and PNG (libpng) files into RGB floats.
///
/// libpng reports errors by longjmp. The only frames a longjmp may cross are
/// libpng's own and the small C-style functions below that call setjmp: they
/// hold no C++ objects with destructors, take every buffer from the caller,
/// and are not inlined into C++ frames that do. Every size a file claims is
/// checked against kMaxImagePixels before the pixel buffers are allocated.

#include <algorithm>
#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <memory>

#include <fcntl.h>
#include <png.h>
#include <sys/stat.h>
#include <turbojpeg.h>
#include <unistd.h>

#include "runtime/io/image.h"

namespace anet {

ImageFormat sniff_image_format(const uint8_t *bytes, size_t size) {
  static constexpr uint8_t kJpeg[] = {0xFF, 0xD8, 0xFF};
  static constexpr uint8_t kPng[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (size >= sizeof kJpeg && std::memcmp(bytes, kJpeg, sizeof kJpeg) == 0)
    return ImageFormat::Jpeg;
  if (size >= sizeof kPng && std::memcmp(bytes, kPng, sizeof kPng) == 0)
    return ImageFormat::Png;
  return ImageFormat::Unknown;
}

Expected<std::vector<uint8_t>> read_file_bytes(const std::string &path, int64_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return make_error(ExitCode::IO, path, ": ", std::strerror(errno));
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    return make_error(ExitCode::IO, path, ": ", std::strerror(errno));
  if (S_ISDIR(st.st_mode))
    return make_error(ExitCode::IO, path, ": is a directory");
  if (S_ISREG(st.st_mode) && st.st_size > max_bytes)
    return make_error(ExitCode::Dataset, path, ": file of ", st.st_size,
                      " bytes is larger than the limit of ", max_bytes, " bytes");
  std::vector<uint8_t> bytes;
  if (S_ISREG(st.st_mode))
    bytes.reserve(static_cast<size_t>(st.st_size));
  uint8_t chunk[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return make_error(ExitCode::IO, path, ": ", std::strerror(errno));
    if (n == 0)
      break;
    if (static_cast<int64_t>(bytes.size()) + n > max_bytes)
      return make_error(ExitCode::Dataset, path, ": larger than the limit of ", max_bytes,
                        " bytes");
    bytes.insert(bytes.end(), chunk, chunk + n);
  }
  return bytes;
}

namespace {

Error corrupt(const std::string &name, const char *format, const char *why) {
  return make_error(ExitCode::Dataset, name, ": corrupt ", format, ": ", why);
}

Error too_large(const std::string &name, const char *format, int64_t width, int64_t height) {
  return make_error(ExitCode::Dataset, name, ": ", format, " image of ", width, "x", height,
                    " pixels is larger than the limit of ", kMaxImagePixels, " pixels");
}

bool pixels_ok(int64_t width, int64_t height) {
  return width > 0 && height > 0 && width <= kMaxImagePixels && height <= kMaxImagePixels &&
         width * height <= kMaxImagePixels;
}

// ---------------------------------------------------------------- JPEG

struct TjDestroyer {
  void operator()(void *handle) const { tjDestroy(handle); }
};

Expected<RgbImage> decode_jpeg(const std::string &name, const std::vector<uint8_t> &bytes) {
  std::unique_ptr<void, TjDestroyer> tj(tjInitDecompress());
  if (!tj)
    return make_error(ExitCode::Runtime, name,
                      ": cannot start the JPEG decoder: ", tjGetErrorStr2(nullptr));
  int width = 0, height = 0, subsampling = 0, colorspace = 0;
  if (tjDecompressHeader3(tj.get(), bytes.data(), static_cast<unsigned long>(bytes.size()), &width,
                          &height, &subsampling, &colorspace) != 0)
    return corrupt(name, "JPEG", tjGetErrorStr2(tj.get()));
  if (!pixels_ok(width, height))
    return too_large(name, "JPEG", width, height);

  // CMYK can only be decoded as CMYK; it is converted below.
  const bool cmyk = colorspace == TJCS_CMYK || colorspace == TJCS_YCCK;
  const int format = cmyk ? TJPF_CMYK : TJPF_RGB;
  const size_t pixels = static_cast<size_t>(width) * static_cast<size_t>(height);
  std::vector<uint8_t> decoded(pixels * static_cast<size_t>(tjPixelSize[format]));
  // Warnings (a truncated file, corrupt entropy data) stop decoding: a
  // half-grey image must not be classified as if it were whole.
  const int flags = TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS;
  if (tjDecompress2(tj.get(), bytes.data(), static_cast<unsigned long>(bytes.size()),
                    decoded.data(), width, 0, height, format, flags) != 0)
    return corrupt(name, "JPEG", tjGetErrorStr2(tj.get()));

  RgbImage image;
  image.height = height;
  image.width = width;
  image.pixels.resize(pixels * 3);
  if (!cmyk) {
    std::copy(decoded.begin(), decoded.end(), image.pixels.begin());
    return image;
  }
  // libjpeg stores CMYK as Adobe writes it (inverted): R = C * K / 255.
  for (size_t p = 0; p < pixels; ++p) {
    const float k = decoded[4 * p + 3];
    for (size_t c = 0; c < 3; ++c)
      image.pixels[3 * p + c] = static_cast<float>(decoded[4 * p + c]) * k / 255.0f;
  }
  return image;
}

// ---------------------------------------------------------------- PNG

/// Where libpng reads from, and where its error message lands.
struct PngSource {
  const uint8_t *data;
  size_t size;
  size_t pos;
  char message[256];
};

void png_fail(png_structp png, png_const_charp message) {
  auto *source = static_cast<PngSource *>(png_get_error_ptr(png));
  std::snprintf(source->message, sizeof source->message, "%s", message);
  png_longjmp(png, 1);
}

void png_ignore_warning(png_structp, png_const_charp) {}

void png_read_memory(png_structp png, png_bytep out, size_t count) {
  auto *source = static_cast<PngSource *>(png_get_io_ptr(png));
  if (count > source->size - source->pos)
    png_error(png, "unexpected end of file (truncated)");
  std::memcpy(out, source->data + source->pos, count);
  source->pos += count;
}

/// The decoded layout after the transforms png_read_header sets up.
struct PngLayout {
  png_uint_32 width;
  png_uint_32 height;
  int bit_depth;
  int channels;
  size_t row_bytes;
};

/// Reads the header and asks libpng for 8- or 16-bit RGB rows (palette
/// looked up, grey expanded, alpha stripped, interlacing undone). Returns
/// false after a libpng error. C-style: see the file comment.
[[gnu::noinline]] bool png_read_header(png_structp png, png_infop info, PngLayout *layout) {
  if (setjmp(png_jmpbuf(png)))
    return false;
  png_read_info(png, info);
  const int color = png_get_color_type(png, info);
  if (color == PNG_COLOR_TYPE_PALETTE)
    png_set_palette_to_rgb(png);
  if (color == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(png, info) < 8)
    png_set_expand_gray_1_2_4_to_8(png);
  // libpng turns a palette's tRNS chunk into alpha while expanding it.
  if ((color & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, info, PNG_INFO_tRNS))
    png_set_strip_alpha(png);
  if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA)
    png_set_gray_to_rgb(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  layout->width = png_get_image_width(png, info);
  layout->height = png_get_image_height(png, info);
  layout->bit_depth = png_get_bit_depth(png, info);
  layout->channels = png_get_channels(png, info);
  layout->row_bytes = png_get_rowbytes(png, info);
  return true;
}

/// Decodes every row into `rows`. Returns false after a libpng error.
[[gnu::noinline]] bool png_read_rows(png_structp png, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png)))
    return false;
  png_read_image(png, rows);
  return true;
}

Expected<RgbImage> decode_png(const std::string &name, const std::vector<uint8_t> &bytes) {
  PngSource source{bytes.data(), bytes.size(), 0, {}};
  png_structp png =
      png_create_read_struct(PNG_LIBPNG_VER_STRING, &source, png_fail, png_ignore_warning);
  if (!png)
    return make_error(ExitCode::Runtime, name, ": cannot start the PNG decoder");
  png_infop info = png_create_info_struct(png);
  struct PngDestroyer {
    png_structp *png;
    png_infop *info;
    ~PngDestroyer() { png_destroy_read_struct(png, info, nullptr); }
  } destroyer{&png, &info};
  if (!info)
    return make_error(ExitCode::Runtime, name, ": cannot start the PNG decoder");
  png_set_read_fn(png, &source, png_read_memory);
  // libpng's own guards, set to ours: rows and columns, and chunk memory.
  png_set_user_limits(png, static_cast<png_uint_32>(kMaxImagePixels),
                      static_cast<png_uint_32>(kMaxImagePixels));
  png_set_chunk_malloc_max(png, 8u << 20);

  PngLayout layout{};
  if (!png_read_header(png, info, &layout))
    return corrupt(name, "PNG", source.message);
  if (!pixels_ok(layout.width, layout.height))
    return too_large(name, "PNG", layout.width, layout.height);
  const size_t sample_bytes = layout.bit_depth == 16 ? 2 : 1;
  if (layout.channels != 3 || (layout.bit_depth != 8 && layout.bit_depth != 16) ||
      layout.row_bytes != layout.width * 3 * sample_bytes)
    return corrupt(name, "PNG", "unsupported pixel layout after conversion to RGB");

  std::vector<uint8_t> decoded(layout.row_bytes * layout.height);
  std::vector<png_bytep> rows(layout.height);
  for (size_t y = 0; y < rows.size(); ++y)
    rows[y] = decoded.data() + y * layout.row_bytes;
  if (!png_read_rows(png, rows.data()))
    return corrupt(name, "PNG", source.message);

  RgbImage image;
  image.height = layout.height;
  image.width = layout.width;
  const size_t samples = static_cast<size_t>(layout.width) * layout.height * 3;
  image.pixels.resize(samples);
  if (sample_bytes == 1) {
    std::copy(decoded.begin(), decoded.end(), image.pixels.begin());
    return image;
  }
  // 16-bit samples are big-endian; keep their precision on the 0-255 scale.
  for (size_t i = 0; i < samples; ++i) {
    const unsigned v = (unsigned{decoded[2 * i]} << 8) | decoded[2 * i + 1];
    image.pixels[i] = static_cast<float>(v) * (255.0f / 65535.0f);
  }
  return image;
}

} // namespace

Expected<RgbImage> decode_image(const std::string &name, const std::vector<uint8_t> &bytes) {
  switch (sniff_image_format(bytes.data(), bytes.size())) {
  case ImageFormat::Jpeg:
    return decode_jpeg(name, bytes);
  case ImageFormat::Png:
    return decode_png(name, bytes);
  case ImageFormat::Unknown:
    break;
  }
  if (bytes.empty())
    return make_error(ExitCode::Dataset, name, ": empty file, not a JPEG or PNG image");
  return make_error(ExitCode::Dataset, name, ": not a JPEG or PNG image (unrecognised content)");
}

} // namespace anet
