/// Reading and writing NumPy .npy files.
///
/// The header is untrusted text: it is parsed by a small recursive-descent
/// parser for the one dict literal numpy writes (no eval, no escapes), its
/// length is capped, and the shape it claims is checked against both
/// kMaxTensorElements and the file's actual size before any tensor memory is
/// allocated.

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <sstream>
#include <string_view>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ir/atomic_file.h"
#include "runtime/io/npy.h"

static_assert(std::endian::native == std::endian::little,
              ".npy '<' types are read in place on little-endian hosts");

namespace anet {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;

/// The header dict numpy writes.
struct NpyHeader {
  std::string descr;
  bool fortran_order = false;
  Shape shape;
};

/// Parser for {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }.
class HeaderParser {
public:
  explicit HeaderParser(std::string_view text) : s_(text) {}

  /// The parsed header, or a message saying what is wrong and where.
  Expected<NpyHeader> parse() {
    NpyHeader h;
    bool seen_descr = false, seen_order = false, seen_shape = false;
    skip_space();
    ANET_RETURN_IF_ERR(expect('{'));
    for (;;) {
      skip_space();
      if (peek() == '}')
        break;
      ANET_ASSIGN_OR_RETURN(std::string key, parse_string());
      skip_space();
      ANET_RETURN_IF_ERR(expect(':'));
      skip_space();
      if (key == "descr" && !seen_descr) {
        seen_descr = true;
        if (peek() != '\'' && peek() != '"')
          return fail("'descr' is not a simple type string (structured arrays are not supported)");
        ANET_ASSIGN_OR_RETURN(h.descr, parse_string());
      } else if (key == "fortran_order" && !seen_order) {
        seen_order = true;
        ANET_ASSIGN_OR_RETURN(h.fortran_order, parse_bool());
      } else if (key == "shape" && !seen_shape) {
        seen_shape = true;
        ANET_ASSIGN_OR_RETURN(h.shape, parse_shape());
      } else {
        return fail("unexpected or repeated key '" + key + "'");
      }
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() != '}')
        return fail("expected ',' or '}'");
    }
    ++pos_;
    skip_space();
    if (pos_ != s_.size())
      return fail("unexpected text after the closing '}'");
    if (!seen_descr || !seen_order || !seen_shape)
      return fail("the keys 'descr', 'fortran_order' and 'shape' are all required");
    return h;
  }

private:
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skip_space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\t'))
      ++pos_;
  }
  Error fail(const std::string &what) const {
    return make_error(ExitCode::Dataset, "malformed header at byte ", pos_, ": ", what);
  }
  Status expect(char c) {
    if (peek() != c)
      return fail(std::string("expected '") + c + "'");
    ++pos_;
    return {};
  }
  Expected<std::string> parse_string() {
    const char quote = peek();
    if (quote != '\'' && quote != '"')
      return fail("expected a quoted string");
    const size_t start = ++pos_;
    while (pos_ < s_.size() && s_[pos_] != quote) {
      if (s_[pos_] == '\\' || static_cast<unsigned char>(s_[pos_]) < 0x20)
        return fail("unsupported character in a string");
      ++pos_;
    }
    if (pos_ == s_.size())
      return fail("unterminated string");
    return std::string(s_.substr(start, pos_++ - start));
  }
  Expected<bool> parse_bool() {
    if (s_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (s_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    return fail("expected True or False");
  }
  Expected<Shape> parse_shape() {
    ANET_RETURN_IF_ERR(expect('('));
    Shape shape;
    for (;;) {
      skip_space();
      if (peek() == ')')
        break;
      if (shape.size() >= 32)
        return fail("more than 32 dimensions");
      if (peek() < '0' || peek() > '9')
        return fail("expected a dimension (a non-negative integer)");
      int64_t d = 0;
      int digits = 0;
      while (peek() >= '0' && peek() <= '9') {
        if (++digits > 15)
          return fail("dimension too large");
        d = d * 10 + (s_[pos_++] - '0');
      }
      if (peek() == 'L') // Python 2 longs, as old numpy wrote them
        ++pos_;
      shape.push_back(d);
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() != ')')
        return fail("expected ',' or ')' in the shape");
    }
    ++pos_;
    return shape;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

/// How to turn one stored element into a float.
struct ElementType {
  const char *descr;
  size_t size;
  float (*to_f32)(const uint8_t *);
};

template <class T> float load_as_f32(const uint8_t *p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return static_cast<float>(v);
}

constexpr ElementType kElementTypes[] = {
    {"<f4", 4, load_as_f32<float>},   {"<f8", 8, load_as_f32<double>},
    {"<i8", 8, load_as_f32<int64_t>}, {"<i4", 4, load_as_f32<int32_t>},
    {"|u1", 1, load_as_f32<uint8_t>},
};

std::string shape_tuple(const Shape &shape) {
  std::ostringstream os;
  os << '(';
  for (size_t i = 0; i < shape.size(); ++i)
    os << (i ? ", " : "") << shape[i];
  if (shape.size() == 1)
    os << ',';
  os << ')';
  return os.str();
}

/// Reads exactly `size` bytes; false at end of file.
Expected<bool> read_exact(int fd, const std::string &path, void *out, size_t size) {
  auto *p = static_cast<uint8_t *>(out);
  while (size > 0) {
    ssize_t n = ::read(fd, p, size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return make_error(ExitCode::IO, path, ": ", std::strerror(errno));
    if (n == 0)
      return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0)
      ::close(fd);
  }
};

} // namespace

bool is_npy_magic(const uint8_t *bytes, size_t size) {
  return size >= kMagicSize && std::memcmp(bytes, kMagic, kMagicSize) == 0;
}

Expected<Tensor> read_npy(const std::string &path) {
  auto bad = [&](const auto &...parts) {
    return make_error(ExitCode::Dataset, path, ": ", parts...);
  };
  Fd file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0)
    return make_error(ExitCode::IO, path, ": ", std::strerror(errno));
  struct stat st {};
  if (::fstat(file.fd, &st) != 0)
    return make_error(ExitCode::IO, path, ": ", std::strerror(errno));
  if (S_ISDIR(st.st_mode))
    return make_error(ExitCode::IO, path, ": is a directory");
  if (!S_ISREG(st.st_mode))
    return bad("not a regular file");

  uint8_t prefix[12];
  ANET_ASSIGN_OR_RETURN(bool got, read_exact(file.fd, path, prefix, 10));
  if (!got || !is_npy_magic(prefix, 10))
    return bad("not a .npy file (no \\x93NUMPY magic)");
  const int major = prefix[6], minor = prefix[7];
  if ((major != 1 && major != 2 && major != 3) || minor != 0)
    return bad("unsupported .npy format version ", major, ".", minor);
  size_t header_len = prefix[8] | (size_t{prefix[9]} << 8);
  size_t prefix_len = 10;
  if (major >= 2) {
    ANET_ASSIGN_OR_RETURN(got, read_exact(file.fd, path, prefix + 10, 2));
    if (!got)
      return bad("truncated header");
    header_len |= (size_t{prefix[10]} << 16) | (size_t{prefix[11]} << 24);
    prefix_len = 12;
  }
  if (header_len > kMaxNpyHeaderBytes)
    return bad("header of ", header_len, " bytes is over the limit of ", kMaxNpyHeaderBytes);
  std::string text(header_len, '\0');
  ANET_ASSIGN_OR_RETURN(got, read_exact(file.fd, path, text.data(), header_len));
  if (!got)
    return bad("truncated header");

  auto parsed = HeaderParser(text).parse();
  if (!parsed.ok())
    return with_context(std::move(parsed).take_error(), path);
  const NpyHeader &header = *parsed;
  const ElementType *type = nullptr;
  for (const ElementType &t : kElementTypes)
    if (header.descr == t.descr)
      type = &t;
  if (!type)
    return bad("element type '", header.descr,
               "' is not supported (use one of <f4, <f8, <i8, <i4, |u1)");
  if (header.fortran_order)
    return bad("Fortran-order arrays are not supported (save a C-order array, e.g. "
               "np.ascontiguousarray(x))");
  const int64_t numel = checked_numel(header.shape);
  if (numel < 0)
    return bad("shape ", shape_tuple(header.shape), " has more than ", kMaxTensorElements,
               " elements");

  const uint64_t data_bytes = static_cast<uint64_t>(numel) * type->size;
  const uint64_t file_data = static_cast<uint64_t>(st.st_size) - (prefix_len + header_len);
  if (static_cast<uint64_t>(st.st_size) < prefix_len + header_len || file_data != data_bytes)
    return bad("the data is ",
               static_cast<uint64_t>(st.st_size) < prefix_len + header_len ? 0 : file_data,
               " bytes but shape ", shape_tuple(header.shape), " of ", header.descr, " needs ",
               data_bytes, " (truncated or padded file)");

  Tensor t(TensorType{DType::F32, header.shape});
  if (type->size == 4 && header.descr[1] == 'f') {
    ANET_ASSIGN_OR_RETURN(got, read_exact(file.fd, path, t.data.data(), data_bytes));
  } else {
    // Convert in chunks so a wide type does not need a second full buffer.
    constexpr size_t kChunk = 1 << 16;
    std::vector<uint8_t> buf(kChunk * type->size);
    got = true;
    for (size_t done = 0; done < static_cast<size_t>(numel) && got;) {
      const size_t n = std::min(kChunk, static_cast<size_t>(numel) - done);
      ANET_ASSIGN_OR_RETURN(got, read_exact(file.fd, path, buf.data(), n * type->size));
      for (size_t i = 0; got && i < n; ++i)
        t.data[done + i] = type->to_f32(buf.data() + i * type->size);
      done += n;
    }
  }
  if (!got)
    return bad("file shrank while being read");
  return t;
}

Status write_npy(const std::string &path, const Tensor &t) {
  assert(static_cast<int64_t>(t.data.size()) == t.type.numel());
  std::string header =
      "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape_tuple(t.type.shape) + ", }";
  // Pad with spaces and end with '\n' so the data starts 64-byte aligned.
  const bool v2 = header.size() + 1 + 64 > 65535;
  const size_t prefix_len = v2 ? 12 : 10;
  header.append((64 - (prefix_len + header.size() + 1) % 64) % 64, ' ');
  header.push_back('\n');
  std::string prefix(kMagic, kMagicSize);
  prefix.push_back(static_cast<char>(v2 ? 2 : 1));
  prefix.push_back(0);
  for (size_t i = 0; i < prefix_len - 8; ++i)
    prefix.push_back(static_cast<char>((header.size() >> (8 * i)) & 0xFF));

  std::string_view data(reinterpret_cast<const char *>(t.data.data()),
                        t.data.size() * sizeof(float));
  return write_file_atomically(path, {prefix, header, data}, "npy file");
}

} // namespace anet
