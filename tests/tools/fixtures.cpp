/// Test helpers for tests/tools (see fixtures.h). The PNG encoder is the
/// low-level libpng writer so that tests control every IHDR field (bit
/// depth, palette, interlacing); like the decoder it confines setjmp to one
/// C-style function.

#include "tests/tools/fixtures.h"

#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>

#include <fcntl.h>
#include <png.h>
#include <spawn.h>
#include <sys/wait.h>
#include <turbojpeg.h>
#include <unistd.h>

extern char **environ;

namespace anet::testing {

ScratchDir::ScratchDir() {
  std::string templ = (std::filesystem::temp_directory_path() / "anet-tools-XXXXXX").string();
  if (!::mkdtemp(templ.data()))
    throw std::runtime_error("mkdtemp failed");
  dir_ = templ;
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void write_bytes(const std::string &path, const std::vector<uint8_t> &bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char *>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!f)
    throw std::runtime_error("cannot write " + path);
}

void write_text(const std::string &path, const std::string &text) {
  write_bytes(path, std::vector<uint8_t>(text.begin(), text.end()));
}

std::vector<uint8_t> read_bytes(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  if (!f)
    throw std::runtime_error("cannot read " + path);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

namespace {

void png_append(png_structp png, png_bytep data, size_t size) {
  auto *out = static_cast<std::vector<uint8_t> *>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + size);
}

void png_flush_nothing(png_structp) {}

[[noreturn]] void png_abort(png_structp png, png_const_charp) { png_longjmp(png, 1); }

[[gnu::noinline]] bool png_write_c(png_structp png, png_infop info, const PngSpec *spec,
                                   png_bytepp rows, png_colorp palette, int palette_size) {
  if (setjmp(png_jmpbuf(png)))
    return false;
  png_set_IHDR(png, info, spec->width, spec->height, spec->bit_depth, spec->color_type,
               spec->interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (palette_size > 0)
    png_set_PLTE(png, info, palette, palette_size);
  if (!spec->trns.empty() && spec->color_type == PNG_COLOR_TYPE_PALETTE)
    png_set_tRNS(png, info, spec->trns.data(), static_cast<int>(spec->trns.size()), nullptr);
  if (!spec->trns.empty() && spec->color_type == PNG_COLOR_TYPE_GRAY) {
    png_color_16 grey{};
    grey.gray = static_cast<png_uint_16>(spec->trns[0] << 8 | spec->trns[1]);
    png_set_tRNS(png, info, nullptr, 0, &grey);
  }
  png_write_info(png, info);
  png_write_image(png, rows);
  png_write_end(png, nullptr);
  return true;
}

} // namespace

std::vector<uint8_t> encode_png(const PngSpec &spec) {
  std::vector<uint8_t> out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, png_abort, nullptr);
  png_infop info = png_create_info_struct(png);
  png_set_write_fn(png, &out, png_append, png_flush_nothing);
  std::vector<png_color> palette(spec.palette_rgb.size() / 3);
  for (size_t i = 0; i < palette.size(); ++i)
    palette[i] = png_color{spec.palette_rgb[3 * i], spec.palette_rgb[3 * i + 1],
                           spec.palette_rgb[3 * i + 2]};
  std::vector<png_bytep> rows;
  for (const auto &row : spec.rows)
    rows.push_back(const_cast<png_bytep>(row.data()));
  const bool ok =
      png_write_c(png, info, &spec, rows.data(), palette.data(), static_cast<int>(palette.size()));
  png_destroy_write_struct(&png, &info);
  if (!ok)
    throw std::runtime_error("libpng could not encode the test image");
  return out;
}

std::vector<uint8_t> encode_png_rgb8(uint32_t width, uint32_t height,
                                     const std::vector<uint8_t> &pixels) {
  PngSpec spec;
  spec.width = width;
  spec.height = height;
  for (uint32_t y = 0; y < height; ++y)
    spec.rows.emplace_back(pixels.begin() + y * width * 3, pixels.begin() + (y + 1) * width * 3);
  return encode_png(spec);
}

std::vector<uint8_t> encode_jpeg(int width, int height, int channels,
                                 const std::vector<uint8_t> &pixels, int quality) {
  tjhandle tj = tjInitCompress();
  const int format = channels == 1 ? TJPF_GRAY : channels == 4 ? TJPF_CMYK : TJPF_RGB;
  const int subsampling = channels == 1 ? TJSAMP_GRAY : TJSAMP_444;
  unsigned char *jpeg = nullptr;
  unsigned long size = 0;
  const int rc = tjCompress2(tj, pixels.data(), width, 0, height, format, &jpeg, &size, subsampling,
                             quality, TJFLAG_ACCURATEDCT);
  std::vector<uint8_t> out;
  if (rc == 0)
    out.assign(jpeg, jpeg + size);
  tjFree(jpeg);
  tjDestroy(tj);
  if (rc != 0)
    throw std::runtime_error("libturbojpeg could not encode the test image");
  return out;
}

RunResult run_program(const std::string &program, const std::vector<std::string> &args) {
  ScratchDir io;
  const std::string out_path = io.path("stdout"), err_path = io.path("stderr");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char *> argv;
  argv.push_back(const_cast<char *>(program.c_str()));
  for (const std::string &a : args)
    argv.push_back(const_cast<char *>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0)
    throw std::runtime_error("cannot start " + program);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      throw std::runtime_error("waitpid failed");
  RunResult r;
  if (WIFEXITED(status))
    r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status))
    r.signal = WTERMSIG(status);
  const auto out = read_bytes(out_path), err = read_bytes(err_path);
  r.out.assign(out.begin(), out.end());
  r.err.assign(err.begin(), err.end());
  return r;
}

} // namespace anet::testing
