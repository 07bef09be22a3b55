/// Opening datasets: IDX files are read whole (through zlib, which passes
/// plain files through unchanged) and validated up front; ImageFolder trees
/// are listed up front and decoded lazily with runtime/io's decoders.

#include "runtime/data/dataset.h"

#include <zlib.h>

#include <algorithm>
#include <cassert>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "runtime/io/image.h"

namespace anet {

namespace fs = std::filesystem;

struct Dataset::Impl {
  bool idx = false;
  std::vector<std::string> class_names;
  std::vector<int> labels;
  int64_t channels = 0;
  uint64_t fingerprint = 0;
  // IDX: all images, rows * cols bytes each.
  std::string idx_images_path;
  std::vector<uint8_t> idx_pixels;
  int64_t rows = 0, cols = 0;
  // ImageFolder: one file per example.
  std::vector<std::string> files;
};

namespace {

constexpr uint64_t kFnvOffset = 1469598103934665603ull;

/// FNV-1a over `size` bytes, continuing from `h`.
uint64_t fnv1a(uint64_t h, const void *data, size_t size) {
  const auto *p = static_cast<const uint8_t *>(data);
  for (size_t i = 0; i < size; ++i)
    h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

/// Reads a whole file, gunzipping it when it is gzipped.
Expected<std::vector<uint8_t>> read_maybe_gzipped(const std::string &path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f)
    return make_error(ExitCode::IO, path, ": ", std::strerror(errno));
  std::vector<uint8_t> out;
  std::vector<uint8_t> chunk(1 << 20);
  for (;;) {
    int n = gzread(f, chunk.data(), static_cast<unsigned>(chunk.size()));
    if (n < 0) {
      int code = 0;
      std::string msg = gzerror(f, &code);
      gzclose(f);
      return make_error(ExitCode::Dataset, path, ": corrupt gzip data (", msg, ")");
    }
    if (n == 0)
      break;
    out.insert(out.end(), chunk.begin(), chunk.begin() + n);
  }
  gzclose(f);
  return out;
}

uint32_t be32(const uint8_t *p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

/// Parses an IDX file of unsigned bytes with `rank` dimensions; returns the
/// dimensions, and the payload in `data`.
Expected<std::vector<int64_t>> parse_idx(const std::string &path, std::vector<uint8_t> &data,
                                         int rank) {
  const size_t header = 4 + 4 * static_cast<size_t>(rank);
  if (data.size() < 4)
    return make_error(ExitCode::Dataset, path, ": truncated IDX header");
  const uint32_t magic = be32(data.data());
  const uint32_t want = 0x0800u | static_cast<uint32_t>(rank);
  if (magic != want)
    return make_error(ExitCode::Dataset, path, ": bad IDX magic 0x", std::hex, magic,
                      " (expected 0x", want, ": unsigned bytes, ", std::dec, rank, " dimensions)");
  if (data.size() < header)
    return make_error(ExitCode::Dataset, path, ": truncated IDX header");
  std::vector<int64_t> dims;
  int64_t total = 1;
  for (int i = 0; i < rank; ++i) {
    dims.push_back(be32(data.data() + 4 + 4 * i));
    if (dims.back() == 0 || (i > 0 && dims.back() > 65536))
      return make_error(ExitCode::Dataset, path, ": bad IDX dimension ", i, " = ", dims.back());
    // Stop before the product can overflow: it already exceeds the data.
    if (total > static_cast<int64_t>(data.size()) / dims.back())
      return make_error(ExitCode::Dataset, path, ": truncated: dimensions promise more data than ",
                        data.size(), " bytes");
    total *= dims.back();
  }
  const size_t have = data.size() - header;
  if (have != static_cast<size_t>(total))
    return make_error(ExitCode::Dataset, path, ": ",
                      have < static_cast<size_t>(total) ? "truncated" : "trailing data",
                      ": header promises ", total, " bytes of data, file has ", have);
  data.erase(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(header));
  return dims;
}

/// `dir/name` or `dir/name.gz`, whichever exists (empty if neither).
std::string find_idx_file(const fs::path &dir, const std::string &name) {
  std::error_code ec;
  for (const std::string &candidate : {name, name + ".gz"})
    if (fs::is_regular_file(dir / candidate, ec))
      return (dir / candidate).string();
  return {};
}

Expected<std::shared_ptr<Dataset::Impl>> open_idx(const fs::path &dir, Split split) {
  const std::string prefix = split == Split::Train ? "train" : "t10k";
  const std::string images = find_idx_file(dir, prefix + "-images-idx3-ubyte");
  const std::string labels = find_idx_file(dir, prefix + "-labels-idx1-ubyte");
  if (images.empty() || labels.empty())
    return make_error(ExitCode::Dataset, dir.string(), ": IDX dataset has no ", prefix,
                      images.empty() ? "-images-idx3-ubyte" : "-labels-idx1-ubyte", "[.gz]");
  auto impl = std::make_shared<Dataset::Impl>();
  impl->idx = true;
  impl->channels = 1;
  impl->idx_images_path = images;
  ANET_ASSIGN_OR_RETURN(impl->idx_pixels, read_maybe_gzipped(images));
  ANET_ASSIGN_OR_RETURN(auto image_dims, parse_idx(images, impl->idx_pixels, 3));
  ANET_ASSIGN_OR_RETURN(auto label_bytes, read_maybe_gzipped(labels));
  ANET_ASSIGN_OR_RETURN(auto label_dims, parse_idx(labels, label_bytes, 1));
  if (image_dims[0] != label_dims[0])
    return make_error(ExitCode::Dataset, images, ": has ", image_dims[0], " images but ", labels,
                      " has ", label_dims[0], " labels");
  impl->rows = image_dims[1];
  impl->cols = image_dims[2];
  int max_label = 0;
  for (uint8_t l : label_bytes) {
    impl->labels.push_back(l);
    max_label = std::max<int>(max_label, l);
  }
  for (int c = 0; c <= max_label; ++c)
    impl->class_names.push_back(std::to_string(c));
  uint64_t h = fnv1a(kFnvOffset, impl->idx_pixels.data(), impl->idx_pixels.size());
  impl->fingerprint = fnv1a(h, label_bytes.data(), label_bytes.size());
  return impl;
}

bool is_image_name(const fs::path &p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

/// Sorted names of the sub-folders of `dir`.
std::vector<std::string> subfolders(const fs::path &dir, std::error_code &ec) {
  std::vector<std::string> names;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_directory(ec) && it->path().filename().string()[0] != '.')
      names.push_back(it->path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

Expected<std::shared_ptr<Dataset::Impl>> open_image_folder(const fs::path &dir, Split split) {
  const fs::path root = dir / split_name(split);
  std::error_code ec;
  if (!fs::is_directory(root, ec))
    return make_error(ExitCode::Dataset, root.string(), ": no such folder (ImageFolder dataset ",
                      dir.string(), " has no ", split_name(split), " split)");
  auto impl = std::make_shared<Dataset::Impl>();
  impl->channels = 3;
  impl->class_names = subfolders(root, ec);
  if (ec)
    return make_error(ExitCode::IO, root.string(), ": ", ec.message());
  if (impl->class_names.empty())
    return make_error(ExitCode::Dataset, root.string(), ": no class folders");
  if (split != Split::Train && fs::is_directory(dir / "train", ec)) {
    std::error_code ec2;
    if (subfolders(dir / "train", ec2) != impl->class_names)
      return make_error(ExitCode::Dataset, root.string(), ": class folders differ from ",
                        (dir / "train").string(), "'s");
  }
  uint64_t h = kFnvOffset;
  for (size_t c = 0; c < impl->class_names.size(); ++c) {
    const fs::path class_dir = root / impl->class_names[c];
    std::vector<fs::path> files;
    for (fs::directory_iterator it(class_dir, ec), end; !ec && it != end; it.increment(ec))
      if (it->is_regular_file(ec) && is_image_name(it->path()))
        files.push_back(it->path());
    if (ec)
      return make_error(ExitCode::IO, class_dir.string(), ": ", ec.message());
    if (files.empty())
      return make_error(ExitCode::Dataset, class_dir.string(),
                        ": empty class folder (no .jpg, .jpeg or .png files)");
    std::sort(files.begin(), files.end());
    for (const fs::path &f : files) {
      const std::string rel = fs::relative(f, root, ec).string();
      const auto size = static_cast<uint64_t>(fs::file_size(f, ec));
      const auto mtime =
          static_cast<int64_t>(fs::last_write_time(f, ec).time_since_epoch().count());
      h = fnv1a(fnv1a(fnv1a(h, rel.data(), rel.size() + 1), &size, sizeof size), &mtime,
                sizeof mtime);
      impl->files.push_back(f.string());
      impl->labels.push_back(static_cast<int>(c));
    }
  }
  impl->fingerprint = h;
  return impl;
}

} // namespace

const char *split_name(Split s) {
  switch (s) {
  case Split::Train:
    return "train";
  case Split::Val:
    return "val";
  case Split::Test:
    return "test";
  }
  return "?";
}

int64_t Dataset::size() const { return static_cast<int64_t>(impl_->labels.size()); }
int64_t Dataset::num_classes() const { return static_cast<int64_t>(impl_->class_names.size()); }
const std::vector<std::string> &Dataset::class_names() const { return impl_->class_names; }
int64_t Dataset::channels() const { return impl_->channels; }
uint64_t Dataset::fingerprint() const { return impl_->fingerprint; }

int Dataset::label(int64_t i) const {
  assert(i >= 0 && i < size());
  return impl_->labels[static_cast<size_t>(i)];
}

std::string Dataset::sample_name(int64_t i) const {
  if (impl_->idx)
    return impl_->idx_images_path + "[" + std::to_string(i) + "]";
  return impl_->files[static_cast<size_t>(i)];
}

Expected<Sample> Dataset::sample(int64_t i) const {
  assert(i >= 0 && i < size());
  Sample s;
  s.label = label(i);
  if (impl_->idx) {
    const int64_t n = impl_->rows * impl_->cols;
    const uint8_t *p = impl_->idx_pixels.data() + i * n;
    s.image = RawImage{impl_->rows, impl_->cols, 1, std::vector<float>(p, p + n)};
    return s;
  }
  const std::string &path = impl_->files[static_cast<size_t>(i)];
  ANET_ASSIGN_OR_RETURN(auto bytes, read_file_bytes(path, kMaxImageFileBytes));
  ANET_ASSIGN_OR_RETURN(RgbImage rgb, decode_image(path, bytes));
  s.image = RawImage{rgb.height, rgb.width, 3, std::move(rgb.pixels)};
  return s;
}

Expected<Dataset> open_dataset(const std::string &dir, Split split) {
  const fs::path root(dir);
  std::error_code ec;
  if (!fs::is_directory(root, ec))
    return make_error(ExitCode::Dataset, dir, ": no such dataset folder");
  Dataset d;
  if (!find_idx_file(root, "train-images-idx3-ubyte").empty() ||
      !find_idx_file(root, "t10k-images-idx3-ubyte").empty()) {
    ANET_ASSIGN_OR_RETURN(auto impl, open_idx(root, split));
    d.impl_ = std::move(impl);
  } else if (fs::is_directory(root / "train", ec) || fs::is_directory(root / "val", ec) ||
             fs::is_directory(root / "test", ec)) {
    ANET_ASSIGN_OR_RETURN(auto impl, open_image_folder(root, split));
    d.impl_ = std::move(impl);
  } else {
    return make_error(ExitCode::Dataset, dir,
                      ": not a dataset (neither IDX files nor train/val/test class folders)");
  }
  return d;
}

} // namespace anet
