// Checkpoint files, format version 1 (docs/checkpoint-format.md), and the
// checkpoint directory's naming, rotation and resume rules.
//
// Design note. The fixed 64-byte header holds only what is needed to find
// and check the rest: magic, version, lengths and two CRCs (one over the
// header, one over the data), so that damage is reported as the part it
// hit. Everything descriptive (step, fingerprint, trainer state, the tensor
// table) is JSON, so the trainer's state stays opaque here and the file is
// readable with `head -c`. The reader trusts nothing: magic, then version,
// then lengths against the bytes present, then the CRCs, and only then the
// JSON, whose every offset and count is checked against the data's size
// before anything is allocated.

#include "runtime/train/checkpoint.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <set>
#include <sstream>
#include <utility>
#include <vector>

#include <sys/stat.h>

#include "ir/atomic_file.h"
#include "ir/byte_order.h"
#include "ir/checksum.h"
#include "ir/read_file.h"

namespace anet {
namespace {

namespace L = checkpoint_layout;
namespace fs = std::filesystem;

uint64_t align_up(uint64_t n) { return (n + L::kAlignment - 1) & ~(L::kAlignment - 1); }

std::string hex32(uint32_t v) {
  std::ostringstream os;
  os << "0x" << std::hex << std::setw(8) << std::setfill('0') << v;
  return os.str();
}

// The deepest nesting of arrays and objects in JSON text (brackets inside
// strings do not count), so that a hostile header cannot make the
// recursive parts of the JSON library overflow the stack.
int json_depth(std::string_view text) {
  int depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

// The header's CRC: the fixed header up to the CRC fields, then the JSON
// text and its padding.
uint32_t header_crc(std::string_view bytes, uint64_t data_at) {
  return crc32(bytes.substr(L::kFixedHeaderBytes, data_at - L::kFixedHeaderBytes),
               crc32(bytes.substr(0, L::kHeaderCrcAt)));
}

Error io_error(const char *doing, const std::string &path, int err) {
  return make_error(ExitCode::IO, doing, " '", path, "': ", std::strerror(err));
}

// Reads the JSON header's fields, each checked for presence and type.
class HeaderFields {
public:
  HeaderFields(const nlohmann::json &object, std::string where)
      : object_(object), where_(std::move(where)) {}

  template <class... Parts> Error corrupt(const Parts &...parts) const {
    return make_error(ExitCode::IncompatiblePlan, where_, ": corrupt: ", parts...);
  }

  Expected<const nlohmann::json *> field(const nlohmann::json &object, const char *key) const {
    auto it = object.find(key);
    if (it == object.end())
      return corrupt("the JSON header has no '", key, "'");
    return &*it;
  }
  Expected<uint64_t> count(const nlohmann::json &object, const char *key) const {
    ANET_ASSIGN_OR_RETURN(const nlohmann::json *value, field(object, key));
    if (!value->is_number_unsigned())
      return corrupt("'", key, "' in the JSON header is not a non-negative integer");
    return value->get<uint64_t>();
  }
  Expected<int64_t> index(const char *key) const {
    ANET_ASSIGN_OR_RETURN(uint64_t value, count(object_, key));
    if (value > static_cast<uint64_t>(INT64_MAX))
      return corrupt("'", key, "' in the JSON header is ", value, ", out of range");
    return static_cast<int64_t>(value);
  }
  Expected<std::string> text(const nlohmann::json &object, const char *key) const {
    ANET_ASSIGN_OR_RETURN(const nlohmann::json *value, field(object, key));
    if (!value->is_string())
      return corrupt("'", key, "' in the JSON header is not a string");
    return value->get<std::string>();
  }

private:
  const nlohmann::json &object_;
  std::string where_;
};

// Decodes the tensor table against the data region and fills `weights`.
Status read_tensors(const HeaderFields &h, const nlohmann::json &header, std::string_view data,
                    WeightStore &weights) {
  ANET_ASSIGN_OR_RETURN(const nlohmann::json *table, h.field(header, "tensors"));
  if (!table->is_array())
    return h.corrupt("'tensors' in the JSON header is not an array");
  // Data regions follow each other without overlapping, so the floats
  // allocated never exceed the data's size.
  uint64_t next = 0;
  for (size_t i = 0; i < table->size(); ++i) {
    const nlohmann::json &entry = (*table)[i];
    if (!entry.is_object())
      return h.corrupt("tensor ", i, " in the JSON header is not an object");
    ANET_ASSIGN_OR_RETURN(std::string name, h.text(entry, "name"));
    ANET_ASSIGN_OR_RETURN(uint64_t count, h.count(entry, "count"));
    ANET_ASSIGN_OR_RETURN(uint64_t offset, h.count(entry, "offset"));
    if (name.empty())
      return h.corrupt("tensor ", i, " has an empty name");
    if (offset % L::kAlignment != 0 || offset < next || offset > data.size() ||
        count > (data.size() - offset) / 4)
      return h.corrupt("data of tensor '", name, "' (", count, " values at offset ", offset,
                       ") is misaligned, overlaps, or runs past the data's ", data.size(),
                       " bytes");
    next = offset + count * 4;
    auto [it, inserted] =
        weights.emplace(std::move(name), load_floats(data.substr(offset, count * 4)));
    if (!inserted)
      return h.corrupt("tensor '", it->first, "' appears twice");
  }
  if (align_up(next) != data.size())
    return h.corrupt("the data has ", data.size(), " bytes but its tensors end at ", next);
  return {};
}

// `step-<digits>.ckpt` -> the step; anything else (temporary files of
// interrupted writes, foreign files) -> none.
std::optional<int64_t> step_in_name(const std::string &name) {
  constexpr std::string_view kPrefix = "step-", kSuffix = ".ckpt";
  if (name.size() < kPrefix.size() + 8 + kSuffix.size() || !name.starts_with(kPrefix) ||
      !name.ends_with(kSuffix))
    return std::nullopt;
  std::string_view digits(name);
  digits = digits.substr(kPrefix.size(), digits.size() - kPrefix.size() - kSuffix.size());
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  int64_t step = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), step);
  if (ec != std::errc() || end != digits.data() + digits.size())
    return std::nullopt;
  return step;
}

struct NamedCheckpoint {
  int64_t step;
  std::string path;
};

// The checkpoints in `dir`, newest first (ties by name, descending); none
// when `dir` does not exist.
Expected<std::vector<NamedCheckpoint>> list_checkpoints(const std::string &dir) {
  auto unreadable = [&](const std::error_code &ec) {
    return make_error(ExitCode::IO, "cannot read checkpoint directory '", dir, "': ", ec.message());
  };
  std::vector<NamedCheckpoint> found;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec == std::errc::no_such_file_or_directory)
    return found;
  if (ec)
    return unreadable(ec);
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec))
      continue;
    if (std::optional<int64_t> step = step_in_name(it->path().filename().string()))
      found.push_back({*step, it->path().string()});
  }
  if (ec)
    return unreadable(ec);
  std::sort(found.begin(), found.end(), [](const NamedCheckpoint &a, const NamedCheckpoint &b) {
    return std::tie(a.step, a.path) > std::tie(b.step, b.path);
  });
  return found;
}

} // namespace

Expected<std::string> serialize_checkpoint(const Checkpoint &checkpoint) {
  assert(checkpoint.step >= 0 && checkpoint.epoch >= 0 && checkpoint.batch >= 0 &&
         "a checkpoint's position is never negative");
  auto refuse = [](const auto &...parts) {
    return make_error(ExitCode::Runtime, "cannot serialise the checkpoint: ", parts...);
  };
  nlohmann::json tensors = nlohmann::json::array();
  uint64_t data_bytes = 0;
  for (const auto &[name, values] : checkpoint.weights) {
    if (name.empty())
      return refuse("a weight has an empty name");
    tensors.push_back({{"name", name}, {"count", values.size()}, {"offset", data_bytes}});
    data_bytes = align_up(data_bytes + values.size() * 4);
  }
  nlohmann::json header = {
      {"step", checkpoint.step},   {"epoch", checkpoint.epoch},
      {"batch", checkpoint.batch}, {"plan_fingerprint", checkpoint.plan_fingerprint},
      {"state", checkpoint.state}, {"tensors", std::move(tensors)}};
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception &e) {
    return refuse(e.what());
  }
  if (json_depth(text) > L::kMaxJsonDepth)
    return refuse("the trainer state nests deeper than the format allows (", L::kMaxJsonDepth,
                  " levels)");

  const uint64_t data_at = align_up(L::kFixedHeaderBytes + text.size());
  std::string bytes(data_at + data_bytes, '\0');
  bytes.replace(0, L::kMagic.size(), L::kMagic);
  store_u32(bytes, L::kVersionAt, L::kFormatVersion);
  store_u64(bytes, L::kFileLengthAt, bytes.size());
  store_u64(bytes, L::kJsonLengthAt, text.size());
  bytes.replace(L::kFixedHeaderBytes, text.size(), text);
  uint64_t offset = data_at;
  for (const auto &[name, values] : checkpoint.weights) {
    store_floats(bytes, offset, values);
    offset = data_at + align_up(offset - data_at + values.size() * 4);
  }
  const std::string_view view(bytes);
  store_u32(bytes, L::kHeaderCrcAt, header_crc(view, data_at));
  store_u32(bytes, L::kDataCrcAt, crc32(view.substr(data_at)));
  return bytes;
}

Expected<Checkpoint> deserialize_checkpoint(std::string_view bytes,
                                            const std::string &display_name) {
  auto refuse = [&](const auto &...parts) {
    return make_error(ExitCode::IncompatiblePlan, display_name, ": ", parts...);
  };
  const uint64_t size = bytes.size();

  // 1. What the file is, and which format version wrote it.
  if (size == 0)
    return refuse("empty file, not an anet checkpoint");
  const uint64_t magic_seen = std::min<uint64_t>(size, L::kMagic.size());
  if (bytes.substr(0, magic_seen) != L::kMagic.substr(0, magic_seen))
    return refuse("not an anet checkpoint (bad magic)");
  if (size >= L::kVersionAt + 4) {
    const uint32_t version = load_u32(bytes, L::kVersionAt);
    if (version != L::kFormatVersion)
      return refuse("checkpoint format version ", version, " is ",
                    version > L::kFormatVersion ? "newer" : "older", " than this anet supports (",
                    L::kFormatVersion, ")");
  }
  if (size < L::kFixedHeaderBytes)
    return refuse("truncated: expected at least ", L::kFixedHeaderBytes, " bytes, file has ", size);

  // 2. Lengths against the bytes present, then the header's checksum.
  const uint64_t file_length = load_u64(bytes, L::kFileLengthAt);
  const uint64_t json_length = load_u64(bytes, L::kJsonLengthAt);
  if (json_length > size - L::kFixedHeaderBytes ||
      align_up(L::kFixedHeaderBytes + json_length) > size) {
    if (file_length > size)
      return refuse("truncated: expected ", file_length, " bytes, file has ", size);
    return refuse("corrupt: the JSON header's ", json_length,
                  " bytes run past the end of the file");
  }
  const uint64_t data_at = align_up(L::kFixedHeaderBytes + json_length);
  if (header_crc(bytes, data_at) != load_u32(bytes, L::kHeaderCrcAt))
    return refuse("corrupt: header checksum mismatch");
  if (const uint32_t flags = load_u32(bytes, L::kFlagsAt); flags != 0)
    return refuse("header flags ", hex32(flags),
                  " are unknown to this anet (written by a newer anet?)");
  for (uint64_t at = L::kJsonLengthAt + 8; at < L::kHeaderCrcAt; ++at)
    if (bytes[at] != 0)
      return refuse("corrupt: reserved header byte ", at, " is not zero");
  if (file_length < data_at)
    return refuse("corrupt: the file length ", file_length, " ends inside the ", data_at,
                  "-byte header");
  if (file_length > size)
    return refuse("truncated: expected ", file_length, " bytes, file has ", size);
  if (file_length < size)
    return refuse("corrupt: file has ", size, " bytes but its header says ", file_length);

  // 3. The data's checksum.
  const std::string_view data = bytes.substr(data_at);
  if (crc32(data) != load_u32(bytes, L::kDataCrcAt))
    return refuse("corrupt: data checksum mismatch");

  // 4. The JSON header, field by field.
  const std::string_view text = bytes.substr(L::kFixedHeaderBytes, json_length);
  if (json_depth(text) > L::kMaxJsonDepth)
    return refuse("corrupt: the JSON header nests deeper than ", L::kMaxJsonDepth, " levels");
  nlohmann::json header = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded())
    return refuse("corrupt: the JSON header does not parse");
  if (!header.is_object())
    return refuse("corrupt: the JSON header is not an object");
  const HeaderFields h(header, display_name);
  Checkpoint checkpoint;
  ANET_ASSIGN_OR_RETURN(checkpoint.step, h.index("step"));
  ANET_ASSIGN_OR_RETURN(checkpoint.epoch, h.index("epoch"));
  ANET_ASSIGN_OR_RETURN(checkpoint.batch, h.index("batch"));
  ANET_ASSIGN_OR_RETURN(checkpoint.plan_fingerprint, h.text(header, "plan_fingerprint"));
  ANET_ASSIGN_OR_RETURN(const nlohmann::json *state, h.field(header, "state"));
  checkpoint.state = *state;
  ANET_RETURN_IF_ERR(read_tensors(h, header, data, checkpoint.weights));
  return checkpoint;
}

Status write_checkpoint(const Checkpoint &checkpoint, const std::string &path) {
  auto bytes = serialize_checkpoint(checkpoint);
  if (!bytes.ok())
    return with_context(std::move(bytes).take_error(), "'" + path + "'");
  return write_file_atomically(path, {*bytes}, "checkpoint");
}

Expected<Checkpoint> read_checkpoint(const std::string &path) {
  ANET_ASSIGN_OR_RETURN(std::string bytes, read_whole_file(path, "checkpoint"));
  return deserialize_checkpoint(bytes, path);
}

Status check_plan_fingerprint(const Checkpoint &checkpoint, const std::string &fingerprint,
                              const std::string &path) {
  if (checkpoint.plan_fingerprint == fingerprint)
    return {};
  return make_error(ExitCode::IncompatiblePlan, path,
                    ": the checkpoint belongs to another train program (plan fingerprint '",
                    checkpoint.plan_fingerprint, "', this plan's is '", fingerprint, "')");
}

CheckpointDir::CheckpointDir(std::string dir, int keep) : dir_(std::move(dir)), keep_(keep) {
  assert(!dir_.empty() && "a checkpoint directory needs a path");
  assert(keep_ >= 1 && "a checkpoint directory keeps at least one checkpoint");
}

std::string CheckpointDir::path_for(int64_t step) const {
  assert(step >= 0 && "steps are never negative");
  std::ostringstream name;
  name << "step-" << std::setw(8) << std::setfill('0') << step << ".ckpt";
  return (fs::path(dir_) / name.str()).string();
}

Expected<std::string> CheckpointDir::save(const Checkpoint &checkpoint) const {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec)
    return make_error(ExitCode::IO, "cannot create checkpoint directory '", dir_,
                      "': ", ec.message());
  const std::string path = path_for(checkpoint.step);
  ANET_RETURN_IF_ERR(write_checkpoint(checkpoint, path));

  // Only now that the new checkpoint is durable: drop the old ones.
  ANET_ASSIGN_OR_RETURN(std::vector<NamedCheckpoint> found, list_checkpoints(dir_));
  int kept = 1; // the one just written
  for (const NamedCheckpoint &old : found) {
    if (old.step > checkpoint.step || fs::path(old.path) == fs::path(path))
      continue;
    if (kept < keep_) {
      ++kept;
      continue;
    }
    if (!fs::remove(old.path, ec) && ec)
      return make_error(ExitCode::IO, "saved checkpoint '", path,
                        "' but cannot delete the old checkpoint '", old.path, "': ", ec.message());
  }
  return path;
}

Expected<std::optional<std::string>> CheckpointDir::latest() const {
  ANET_ASSIGN_OR_RETURN(std::vector<NamedCheckpoint> found, list_checkpoints(dir_));
  if (found.empty())
    return std::optional<std::string>();
  return std::optional<std::string>(found.front().path);
}

Expected<std::string> resolve_resume(const std::string &arg, const std::string &checkpoint_dir) {
  if (arg.empty())
    return make_error(ExitCode::Usage, "--resume needs 'auto' or a checkpoint file");
  if (arg == "auto") {
    ANET_ASSIGN_OR_RETURN(std::optional<std::string> latest,
                          CheckpointDir(checkpoint_dir, 1).latest());
    return latest.value_or("");
  }
  struct stat st {};
  if (::stat(arg.c_str(), &st) != 0)
    return io_error("cannot open checkpoint", arg, errno);
  if (S_ISDIR(st.st_mode))
    return io_error("cannot open checkpoint", arg, EISDIR);
  return arg;
}

} // namespace anet
