// Decoding of ONNX TensorProtos into host vectors, and the one place that
// reads external data. External data is a path written by whoever made the
// model, so it is resolved with the rules of ONNX's security notes: it must
// stay inside the model's directory, may not pass through symbolic links and
// may not be a hard link to a file elsewhere. Directories are walked with
// openat(O_NOFOLLOW) so a link swapped in after the check is not followed.

#include "frontend/onnx_tensor.h"

#include <bit>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace anet::frontend {
namespace {

static_assert(std::endian::native == std::endian::little,
              "ONNX raw_data is little-endian; big-endian hosts need byte swapping");

using onnx::TensorProto;

Error bad(const auto &...parts) { return make_error(ExitCode::InvalidModel, parts...); }

// Bytes per element in raw_data, 0 for types we do not decode.
int64_t raw_element_size(int32_t type) {
  switch (type) {
  case TensorProto::FLOAT:
  case TensorProto::INT32:
    return 4;
  case TensorProto::DOUBLE:
  case TensorProto::INT64:
    return 8;
  case TensorProto::INT16:
  case TensorProto::UINT16:
    return 2;
  case TensorProto::INT8:
  case TensorProto::UINT8:
  case TensorProto::BOOL:
    return 1;
  default:
    return 0;
  }
}

// Reads element `i` of little-endian packed `bytes` of ONNX type `type`.
template <class Out> Out raw_element(const char *bytes, int64_t i, int32_t type) {
  auto load = [&](auto sample) {
    decltype(sample) v;
    std::memcpy(&v, bytes + i * static_cast<int64_t>(sizeof v), sizeof v);
    return v;
  };
  switch (type) {
  case TensorProto::FLOAT:
    return static_cast<Out>(load(float{}));
  case TensorProto::DOUBLE:
    return static_cast<Out>(load(double{}));
  case TensorProto::INT8:
    return static_cast<Out>(load(int8_t{}));
  case TensorProto::UINT8:
    return static_cast<Out>(load(uint8_t{}));
  case TensorProto::BOOL:
    return static_cast<Out>(load(uint8_t{}) != 0);
  case TensorProto::INT16:
    return static_cast<Out>(load(int16_t{}));
  case TensorProto::UINT16:
    return static_cast<Out>(load(uint16_t{}));
  case TensorProto::INT32:
    return static_cast<Out>(load(int32_t{}));
  case TensorProto::INT64:
    return static_cast<Out>(load(int64_t{}));
  default:
    assert(false && "raw_element called for an undecodable type");
    return Out{};
  }
}

// Copies a typed repeated field, checking its length.
template <class Out, class Field>
Expected<std::vector<Out>> from_field(const TensorProto &t, const Field &field, int64_t n) {
  if (static_cast<int64_t>(field.size()) != n)
    return bad("tensor '", t.name(), "' has ", field.size(), " elements of data, its shape needs ",
               n);
  std::vector<Out> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    auto v = field.Get(static_cast<int>(i));
    if (t.data_type() == TensorProto::BOOL)
      out[static_cast<size_t>(i)] = static_cast<Out>(v != 0);
    else
      out[static_cast<size_t>(i)] = static_cast<Out>(v);
  }
  return out;
}

// Counts the typed data fields that hold elements.
int typed_fields_in_use(const TensorProto &t) {
  return (t.float_data_size() > 0) + (t.double_data_size() > 0) + (t.int32_data_size() > 0) +
         (t.int64_data_size() > 0) + (t.uint64_data_size() > 0) + (t.string_data_size() > 0);
}

template <class Out> Expected<std::vector<Out>> decode(const TensorProto &t) {
  int32_t type = t.data_type();
  if (!is_decodable_type(type))
    return bad("tensor '", t.name(), "' has element type ", onnx_type_name(type),
               ", which is not supported");
  if (t.has_segment())
    return bad("tensor '", t.name(), "' is segmented, which is not supported");
  if (t.data_location() == TensorProto::EXTERNAL)
    return bad("tensor '", t.name(), "' refers to external data that was not loaded");
  ANET_ASSIGN_OR_RETURN(Shape shape, tensor_shape(t));
  int64_t n = checked_numel(shape);
  if (t.has_raw_data()) {
    if (typed_fields_in_use(t) > 0)
      return bad("tensor '", t.name(), "' has both raw_data and typed data fields");
    int64_t esize = raw_element_size(type);
    auto bytes = static_cast<int64_t>(t.raw_data().size());
    if (bytes != n * esize)
      return bad("tensor '", t.name(), "' has ", bytes, " bytes of raw_data, its shape ",
                 shape_string(shape), " of ", onnx_type_name(type), " needs ", n * esize);
    std::vector<Out> out(static_cast<size_t>(n));
    const char *src = t.raw_data().data();
    if constexpr (std::is_same_v<Out, float>) {
      if (type == TensorProto::FLOAT) {
        if (n > 0)
          std::memcpy(out.data(), src, static_cast<size_t>(bytes));
        return out;
      }
    }
    for (int64_t i = 0; i < n; ++i)
      out[static_cast<size_t>(i)] = raw_element<Out>(src, i, type);
    return out;
  }
  if (typed_fields_in_use(t) > 1)
    return bad("tensor '", t.name(), "' has data in more than one typed field");
  switch (type) {
  case TensorProto::FLOAT:
    return from_field<Out>(t, t.float_data(), n);
  case TensorProto::DOUBLE:
    return from_field<Out>(t, t.double_data(), n);
  case TensorProto::INT64:
    return from_field<Out>(t, t.int64_data(), n);
  default:
    return from_field<Out>(t, t.int32_data(), n);
  }
}

// Owns a file descriptor.
class Fd {
public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd &) = delete;
  Fd &operator=(const Fd &) = delete;
  Fd(Fd &&other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd &operator=(Fd &&other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  ~Fd() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  int get() const { return fd_; }

private:
  int fd_;
};

// A non-negative decimal integer, the whole string.
std::optional<int64_t> parse_size(const std::string &s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v < 0)
    return std::nullopt;
  return v;
}

} // namespace

std::string onnx_type_name(int32_t data_type) {
  if (onnx::TensorProto_DataType_IsValid(data_type))
    return onnx::TensorProto_DataType_Name(static_cast<TensorProto::DataType>(data_type));
  return "type " + std::to_string(data_type);
}

bool is_decodable_type(int32_t data_type) { return raw_element_size(data_type) > 0; }

bool is_integer_type(int32_t data_type) {
  return is_decodable_type(data_type) && data_type != TensorProto::FLOAT &&
         data_type != TensorProto::DOUBLE;
}

Expected<Shape> tensor_shape(const TensorProto &t) {
  Shape shape(t.dims().begin(), t.dims().end());
  if (checked_numel(shape) < 0)
    return bad("tensor '", t.name(), "' has a negative or too large shape ", shape_string(shape));
  return shape;
}

Status internalize_external_data(TensorProto &t, const std::string &model_dir, int64_t max_bytes) {
  if (t.data_location() != TensorProto::EXTERNAL)
    return {};
  std::string location;
  std::optional<int64_t> offset, length;
  for (const auto &entry : t.external_data()) {
    if (entry.key() == "location") {
      location = entry.value();
    } else if (entry.key() == "offset" || entry.key() == "length") {
      auto v = parse_size(entry.value());
      if (!v)
        return bad("tensor '", t.name(), "': external data ", entry.key(), " '", entry.value(),
                   "' is not a non-negative integer");
      (entry.key() == "offset" ? offset : length) = v;
    }
  }
  std::string where = "tensor '" + t.name() + "': external data '" + location + "'";
  if (location.empty())
    return bad("tensor '", t.name(), "' is stored externally but has no location");
  if (model_dir.empty())
    return bad(where, " cannot be read: the model was given without a directory, so external "
                      "data is not allowed");
  if (location.front() == '/')
    return bad(where, " is an absolute path; external data must be inside the model directory");
  if (location.find('\\') != std::string::npos || location.find('\0') != std::string::npos)
    return bad(where, " contains a backslash or NUL character");

  std::vector<std::string> parts;
  for (size_t begin = 0; begin <= location.size();) {
    size_t end = location.find('/', begin);
    if (end == std::string::npos)
      end = location.size();
    std::string part = location.substr(begin, end - begin);
    if (part == "..")
      return bad(where, " has a '..' component; external data must be inside the model directory");
    if (!part.empty() && part != ".")
      parts.push_back(std::move(part));
    begin = end + 1;
  }
  if (parts.empty())
    return bad(where, " does not name a file");

  Fd dir(::open(model_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0)
    return make_error(ExitCode::IO, where, ": cannot open the model directory '", model_dir,
                      "': ", std::strerror(errno));
  std::string walked;
  for (size_t i = 0; i < parts.size(); ++i) {
    bool last = i + 1 == parts.size();
    walked += (walked.empty() ? "" : "/") + parts[i];
    struct stat st {};
    if (::fstatat(dir.get(), parts[i].c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
      return make_error(ExitCode::IO, where, ": '", walked,
                        "' cannot be found: ", std::strerror(errno));
    if (S_ISLNK(st.st_mode))
      return bad(where, ": '", walked,
                 "' is a symbolic link; external data may not pass through links");
    if (!last && !S_ISDIR(st.st_mode))
      return bad(where, ": '", walked, "' is not a directory");
    int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (last ? 0 : O_DIRECTORY);
    Fd next(::openat(dir.get(), parts[i].c_str(), flags));
    if (next.get() < 0)
      return make_error(errno == ELOOP ? ExitCode::InvalidModel : ExitCode::IO, where,
                        ": cannot open '", walked, "': ", std::strerror(errno));
    dir = std::move(next);
  }
  struct stat st {};
  if (::fstat(dir.get(), &st) != 0)
    return make_error(ExitCode::IO, where, ": cannot stat: ", std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    return bad(where, " is not a regular file");
  if (st.st_nlink > 1)
    return bad(where, " has ", st.st_nlink,
               " hard links; external data may not be a hard link to a file elsewhere");

  auto file_size = static_cast<int64_t>(st.st_size);
  int64_t start = offset.value_or(0);
  if (start > file_size)
    return bad(where, ": offset ", start, " is beyond the end of the file (", file_size, " bytes)");
  int64_t count = length.value_or(file_size - start);
  if (count > file_size - start)
    return bad(where, ": offset ", start, " + length ", count, " is beyond the end of the file (",
               file_size, " bytes)");
  ANET_ASSIGN_OR_RETURN(Shape shape, tensor_shape(t));
  int64_t esize = raw_element_size(t.data_type());
  if (esize == 0)
    return bad("tensor '", t.name(), "' has element type ", onnx_type_name(t.data_type()),
               ", which is not supported");
  int64_t need = checked_numel(shape) * esize;
  if (count != need)
    return bad(where, ": holds ", count, " bytes, but shape ", shape_string(shape), " of ",
               onnx_type_name(t.data_type()), " needs ", need);
  if (count > max_bytes)
    return bad(where, ": ", count, " bytes exceed the memory budget of ", max_bytes, " bytes");

  std::string bytes(static_cast<size_t>(count), '\0');
  for (int64_t done = 0; done < count;) {
    ssize_t got = ::pread(dir.get(), bytes.data() + done, static_cast<size_t>(count - done),
                          static_cast<off_t>(start + done));
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      return make_error(ExitCode::IO, where, ": read failed: ",
                        got < 0 ? std::strerror(errno) : "unexpected end of file");
    done += got;
  }
  t.set_raw_data(std::move(bytes));
  t.clear_external_data();
  t.set_data_location(TensorProto::DEFAULT);
  return {};
}

Expected<std::vector<float>> tensor_floats(TensorProto &t, bool release) {
  auto out = decode<float>(t);
  if (out.ok() && release) {
    std::string().swap(*t.mutable_raw_data());
    google::protobuf::RepeatedField<float>().Swap(t.mutable_float_data());
    google::protobuf::RepeatedField<double>().Swap(t.mutable_double_data());
    google::protobuf::RepeatedField<int32_t>().Swap(t.mutable_int32_data());
    google::protobuf::RepeatedField<int64_t>().Swap(t.mutable_int64_data());
  }
  return out;
}

Expected<std::vector<int64_t>> tensor_ints(const TensorProto &t) {
  if (!is_integer_type(t.data_type()))
    return bad("tensor '", t.name(), "' has element type ", onnx_type_name(t.data_type()),
               ", expected an integer type");
  return decode<int64_t>(t);
}

} // namespace anet::frontend
