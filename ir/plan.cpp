// Plan (de)serialisation, format version 1 (docs/plan-format.md).
//
// Design note. The writer runs its layout twice over a byte sink: once
// counting (for the size, and for `anetc inspect`'s section table), once
// writing. The reader trusts nothing: it checks, in this order, the magic,
// the format version, the header's length against the bytes present, every
// section's bounds and CRC (so corruption is reported with the section it
// hit), the whole-file CRC, and only then decodes payloads, checking each
// length against the bytes that remain before it allocates anything.
// Programs travel as IR text and are parsed and verified on load.

#include "ir/plan.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>
#include <functional>
#include <iomanip>
#include <optional>
#include <set>
#include <sstream>

#include "ir/byte_order.h"
#include "ir/checksum.h"
#include "ir/parser.h"
#include "ir/printer.h"

namespace anet {
namespace {

namespace L = plan_layout;

constexpr uint32_t make_tag(const char (&s)[5]) {
  return uint32_t{static_cast<unsigned char>(s[0])} |
         uint32_t{static_cast<unsigned char>(s[1])} << 8 |
         uint32_t{static_cast<unsigned char>(s[2])} << 16 |
         uint32_t{static_cast<unsigned char>(s[3])} << 24;
}

constexpr uint32_t kMetaTag = make_tag("META");
constexpr uint32_t kPrepTag = make_tag("PREP");
constexpr uint32_t kProgTag = make_tag("PROG");
constexpr uint32_t kWghtTag = make_tag("WGHT");
constexpr uint32_t kClasTag = make_tag("CLAS");
constexpr uint32_t kOnnxTag = make_tag("ONNX");
constexpr uint32_t kKobjTag = make_tag("KOBJ");
constexpr uint32_t kCubnTag = make_tag("CUBN");
constexpr uint32_t kPadsTag = make_tag("PADS");

std::string hex32(uint32_t v) {
  std::ostringstream os;
  os << "0x" << std::hex << std::setw(8) << std::setfill('0') << v;
  return os.str();
}

// The tag as its four characters, or in hex when they are not printable.
std::string tag_name(uint32_t tag) {
  std::string s;
  for (int i = 0; i < 4; ++i) {
    auto c = static_cast<char>((tag >> (8 * i)) & 0xff);
    if (c < 0x21 || c > 0x7e)
      return hex32(tag);
    s += c;
  }
  return s;
}

uint64_t align_up(uint64_t n) { return (n + L::kAlignment - 1) & ~(L::kAlignment - 1); }

// Appends little-endian fields to a string, or only counts them when it
// has no string: the same layout code measures and writes.
class Sink {
public:
  explicit Sink(std::string *out) : out_(out) {}

  uint64_t size() const { return size_; }
  bool writing() const { return out_ != nullptr; }

  void raw(std::string_view bytes) {
    if (out_)
      out_->append(bytes);
    size_ += bytes.size();
  }
  void u32(uint32_t v) {
    char b[4];
    for (int i = 0; i < 4; ++i)
      b[i] = static_cast<char>(v >> (8 * i));
    raw({b, 4});
  }
  void u64(uint64_t v) {
    u32(static_cast<uint32_t>(v));
    u32(static_cast<uint32_t>(v >> 32));
  }
  void f32(float v) { u32(std::bit_cast<uint32_t>(v)); }
  void floats(const std::vector<float> &v) {
    if constexpr (std::endian::native == std::endian::little) {
      raw({reinterpret_cast<const char *>(v.data()), v.size() * sizeof(float)});
    } else {
      for (float f : v)
        f32(f);
    }
  }
  void str32(std::string_view s) {
    u32(static_cast<uint32_t>(s.size()));
    raw(s);
  }
  void zeros(uint64_t n) {
    if (out_)
      out_->append(n, '\0');
    size_ += n;
  }
  void align() { zeros(align_up(size_) - size_); }
  void patch_u32(uint64_t at, uint32_t v) {
    if (out_)
      for (int i = 0; i < 4; ++i)
        (*out_)[at + static_cast<uint64_t>(i)] = static_cast<char>(v >> (8 * i));
  }
  void patch_u64(uint64_t at, uint64_t v) {
    patch_u32(at, static_cast<uint32_t>(v));
    patch_u32(at + 4, static_cast<uint32_t>(v >> 32));
  }
  std::string_view written(uint64_t from, uint64_t to) const {
    assert(out_ && to <= out_->size());
    return std::string_view(*out_).substr(from, to - from);
  }

private:
  std::string *out_;
  uint64_t size_ = 0;
};

struct SectionSpec {
  uint32_t tag;
  uint32_t flags;
  std::string label;
  std::function<void(Sink &)> write;
};

// WGHT: a table of (name, element count, data offset) and then the data,
// each tensor starting at a multiple of 64 bytes from the payload start
// (which is itself 64-aligned in the file, so a loader may mmap).
void write_weights(Sink &s, const WeightStore &weights) {
  uint64_t table = 4;
  for (const auto &[name, data] : weights)
    table += 4 + name.size() + 16;
  uint64_t offset = align_up(table);
  [[maybe_unused]] const uint64_t payload_start = s.size();
  s.u32(static_cast<uint32_t>(weights.size()));
  for (const auto &[name, data] : weights) {
    s.str32(name);
    s.u64(data.size());
    s.u64(offset);
    offset = align_up(offset + data.size() * sizeof(float));
  }
  s.align();
  for (const auto &[name, data] : weights) {
    s.floats(data);
    s.align();
  }
  assert(s.size() - payload_start == offset && "weight offsets disagree with the data written");
}

using ProgramTexts = std::vector<std::pair<std::string, std::string>>;

ProgramTexts program_texts(const Plan &plan) {
  ProgramTexts out;
  for (const auto &[name, graph] : plan.programs)
    out.emplace_back(name, print_graph(graph));
  return out;
}

std::vector<SectionSpec> section_specs(const Plan &plan, const ProgramTexts &texts) {
  std::vector<SectionSpec> specs;
  specs.push_back({kMetaTag, L::kSectionRequired, "", [&](Sink &s) { s.str32(plan.source_name); }});
  specs.push_back({kPrepTag, L::kSectionRequired, "", [&](Sink &s) {
                     const Preprocess &p = plan.preprocess;
                     s.u64(static_cast<uint64_t>(p.resize));
                     s.f32(p.scale);
                     s.u64(p.mean.size());
                     s.floats(p.mean);
                     s.u64(p.mean_image.size());
                     s.floats(p.mean_image);
                   }});
  // Written only when there is a frame, so plans without one stay readable
  // by an anet that predates it; required, so one that would ignore the
  // frame refuses the plan instead.
  if (plan.preprocess.pad != 0)
    specs.push_back({kPadsTag, L::kSectionRequired, "",
                     [&](Sink &s) { s.u64(static_cast<uint64_t>(plan.preprocess.pad)); }});
  for (const auto &[name, text] : texts)
    specs.push_back({kProgTag, L::kSectionRequired, name, [&](Sink &s) {
                       s.str32(name);
                       s.u64(text.size());
                       s.raw(text);
                     }});
  specs.push_back(
      {kWghtTag, L::kSectionRequired, "", [&](Sink &s) { write_weights(s, plan.weights); }});
  specs.push_back({kClasTag, 0, "", [&](Sink &s) {
                     s.u32(static_cast<uint32_t>(plan.class_names.size()));
                     for (const std::string &c : plan.class_names)
                       s.str32(c);
                   }});
  specs.push_back({kOnnxTag, 0, "", [&](Sink &s) { s.raw(plan.onnx_model); }});
  if (!plan.kernel_objects.empty())
    specs.push_back({kKobjTag, 0, "", [&](Sink &s) {
                       s.u32(static_cast<uint32_t>(plan.kernel_objects.size()));
                       for (const auto &[key, object] : plan.kernel_objects) {
                         s.str32(key);
                         s.u64(object.size());
                         s.raw(object);
                       }
                     }});
  if (!plan.cuda_kernels.empty())
    specs.push_back({kCubnTag, 0, "", [&](Sink &s) {
                       s.u32(static_cast<uint32_t>(plan.cuda_kernels.size()));
                       for (const auto &[key, k] : plan.cuda_kernels) {
                         s.str32(key);
                         s.u32(static_cast<uint32_t>(k.registers));
                         s.u64(static_cast<uint64_t>(k.spill_bytes));
                         s.u64(static_cast<uint64_t>(k.shared_bytes));
                         s.u64(k.image.size());
                         s.raw(k.image);
                       }
                     }});
  return specs;
}

// The whole file: header, sections, trailer. Returns each payload's size.
std::vector<uint64_t> write_file(Sink &s, std::string_view producer,
                                 const std::vector<SectionSpec> &specs) {
  std::vector<uint64_t> sizes;
  s.raw(L::kMagic);
  s.u32(kPlanFormatVersion);
  s.u32(0); // flags
  const uint64_t length_at = s.size();
  s.u64(0); // file length, patched below
  s.u32(static_cast<uint32_t>(specs.size()));
  s.str32(producer);
  s.align();
  for (const SectionSpec &spec : specs) {
    const uint64_t header_at = s.size();
    s.u32(spec.tag);
    s.u32(spec.flags);
    s.u64(0); // payload length
    s.u32(0); // payload CRC
    s.zeros(L::kSectionHeaderBytes - 20);
    const uint64_t payload_at = s.size();
    spec.write(s);
    const uint64_t length = s.size() - payload_at;
    sizes.push_back(length);
    s.patch_u64(header_at + 8, length);
    if (s.writing())
      s.patch_u32(header_at + 16, crc32(s.written(payload_at, s.size())));
    s.align();
  }
  s.patch_u64(length_at, s.size() + L::kTrailerBytes);
  s.raw(L::kEndMagic);
  s.u32(s.writing() ? crc32(s.written(0, s.size())) : 0);
  s.u32(0);
  return sizes;
}

// What makes a plan readable: the same rules for the writer (a bug or a
// hostile model) and the reader (a damaged or forged file).
std::optional<std::string> plan_problem(const Plan &plan) {
  auto too_long = [](const std::string &s, uint64_t cap) { return s.size() > cap; };
  if (too_long(plan.producer_version, L::kMaxProducerBytes))
    return "producer version is longer than " + std::to_string(L::kMaxProducerBytes) + " bytes";
  if (too_long(plan.source_name, L::kMaxNameBytes))
    return "source name is longer than " + std::to_string(L::kMaxNameBytes) + " bytes";
  for (const std::string &c : plan.class_names)
    if (too_long(c, L::kMaxNameBytes))
      return "a class name is longer than " + std::to_string(L::kMaxNameBytes) + " bytes";
  if (plan.class_names.size() > UINT32_MAX || plan.weights.size() > UINT32_MAX)
    return std::string("too many class names or weights");
  for (const auto &[name, data] : plan.weights)
    if (name.empty() || too_long(name, L::kMaxNameBytes))
      return "weight name '" + name.substr(0, 64) + "' is empty or longer than " +
             std::to_string(L::kMaxNameBytes) + " bytes";
  if (plan.preprocess.pad < 0 || static_cast<uint64_t>(plan.preprocess.pad) > L::kMaxPad)
    return "preprocessing pad " + std::to_string(plan.preprocess.pad) + " is not in 0 .. " +
           std::to_string(L::kMaxPad);
  if (plan.programs.empty())
    return std::string("plan has no programs");
  if (plan.programs.size() + 6 > L::kMaxSections)
    return "plan has more than " + std::to_string(L::kMaxSections - 6) + " programs";
  for (const auto &[name, graph] : plan.programs) {
    if (name.empty() || too_long(name, L::kMaxNameBytes))
      return "program name '" + name.substr(0, 64) + "' is empty or longer than " +
             std::to_string(L::kMaxNameBytes) + " bytes";
    if (Status ok = verify(graph); !ok)
      return "program '" + name + "': " + ok.error().message;
    for (ValueId id : graph.params()) {
      // A partitioned program's param may be a slice of a stored weight.
      auto slice = graph.param_slices.find(id);
      const std::string &stored =
          slice == graph.param_slices.end() ? graph.value(id).name : slice->second.source;
      TensorType type = slice == graph.param_slices.end()
                            ? graph.type(id)
                            : TensorType{DType::F32, slice->second.source_shape};
      auto it = plan.weights.find(stored);
      if (it == plan.weights.end() && graph.zero_init.count(stored))
        continue; // optimizer state, zero at the start
      if (it == plan.weights.end())
        return "program '" + name + "' reads parameter '" + stored + "' (" + to_string(type) +
               ") but the plan has no weights for it";
      if (static_cast<int64_t>(it->second.size()) != type.numel())
        return "weights for parameter '" + stored + "' have " + std::to_string(it->second.size()) +
               " values, program '" + name + "' needs " + std::to_string(type.numel()) + " (" +
               to_string(type) + ")";
    }
  }
  return std::nullopt;
}

// Reads one payload; every read is checked against the bytes left.
class Cursor {
public:
  Cursor(std::string_view data, std::string where) : data_(data), where_(std::move(where)) {}

  uint64_t left() const { return data_.size() - pos_; }
  uint64_t pos() const { return pos_; }

  template <class... Parts> Error corrupt(const Parts &...parts) const {
    return make_error(ExitCode::IncompatiblePlan, where_, ": corrupt: ", parts...);
  }

  Expected<std::string_view> bytes(uint64_t n, const char *what) {
    if (n > left())
      return corrupt(what, " needs ", n, " bytes at offset ", pos_, " but only ", left(),
                     " remain");
    std::string_view out = data_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  Expected<uint32_t> u32(const char *what) {
    ANET_ASSIGN_OR_RETURN(std::string_view b, bytes(4, what));
    return load_u32(b, 0);
  }
  Expected<uint64_t> u64(const char *what) {
    ANET_ASSIGN_OR_RETURN(std::string_view b, bytes(8, what));
    return load_u64(b, 0);
  }
  Expected<float> f32(const char *what) {
    ANET_ASSIGN_OR_RETURN(uint32_t v, u32(what));
    return std::bit_cast<float>(v);
  }
  Expected<std::string> str32(const char *what, uint32_t cap) {
    ANET_ASSIGN_OR_RETURN(uint32_t n, u32(what));
    if (n > cap)
      return corrupt(what, " of ", n, " bytes exceeds the limit of ", cap);
    ANET_ASSIGN_OR_RETURN(std::string_view b, bytes(n, what));
    return std::string(b);
  }
  // A u64 element count followed by that many floats.
  Expected<std::vector<float>> counted_floats(const char *what) {
    ANET_ASSIGN_OR_RETURN(uint64_t n, u64(what));
    if (n > left() / 4)
      return corrupt(what, " claims ", n, " values but only ", left(), " bytes remain");
    ANET_ASSIGN_OR_RETURN(std::string_view b, bytes(n * 4, what));
    return load_floats(b);
  }
  Status finish() const {
    if (left() != 0)
      return corrupt(left(), " unexpected bytes after the last field");
    return {};
  }

private:
  std::string_view data_;
  uint64_t pos_ = 0;
  std::string where_;
};

struct RawSection {
  uint32_t tag;
  uint32_t flags;
  std::string_view payload;
  std::string where; ///< "plan.bin: section 3 of 6 (PROG)"
};

Status read_weights(const RawSection &sec, WeightStore &weights) {
  Cursor c(sec.payload, sec.where);
  constexpr uint64_t kMinEntry = 4 + 1 + 16;
  ANET_ASSIGN_OR_RETURN(uint32_t count, c.u32("weight count"));
  if (count > c.left() / kMinEntry)
    return c.corrupt("claims ", count, " weights, more than its ", c.left(), " bytes can list");
  struct Entry {
    std::string name;
    uint64_t numel, offset;
  };
  std::vector<Entry> entries;
  entries.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    Entry e;
    ANET_ASSIGN_OR_RETURN(e.name, c.str32("weight name", L::kMaxNameBytes));
    ANET_ASSIGN_OR_RETURN(e.numel, c.u64("weight size"));
    ANET_ASSIGN_OR_RETURN(e.offset, c.u64("weight offset"));
    if (e.name.empty())
      return c.corrupt("weight ", i, " has an empty name");
    entries.push_back(std::move(e));
  }
  // Data regions follow the table in order without overlapping, so the
  // floats allocated below never exceed the payload's size.
  uint64_t next = c.pos();
  const uint64_t size = sec.payload.size();
  for (const Entry &e : entries) {
    if (e.offset % L::kAlignment != 0 || e.offset < next || e.offset > size ||
        e.numel > (size - e.offset) / 4)
      return c.corrupt("data of weight '", e.name, "' (", e.numel, " values at offset ", e.offset,
                       ") is misaligned, overlaps, or runs past the section's ", size, " bytes");
    next = e.offset + e.numel * 4;
    auto [it, inserted] =
        weights.emplace(e.name, load_floats(sec.payload.substr(e.offset, e.numel * 4)));
    if (!inserted)
      return c.corrupt("weight '", e.name, "' appears twice");
  }
  return {};
}

Status read_preprocess(const RawSection &sec, Preprocess &p) {
  Cursor c(sec.payload, sec.where);
  ANET_ASSIGN_OR_RETURN(uint64_t resize, c.u64("resize"));
  p.resize = static_cast<int64_t>(resize);
  ANET_ASSIGN_OR_RETURN(p.scale, c.f32("scale"));
  ANET_ASSIGN_OR_RETURN(p.mean, c.counted_floats("mean"));
  ANET_ASSIGN_OR_RETURN(p.mean_image, c.counted_floats("mean image"));
  return c.finish();
}

Status read_classes(const RawSection &sec, std::vector<std::string> &classes) {
  Cursor c(sec.payload, sec.where);
  ANET_ASSIGN_OR_RETURN(uint32_t count, c.u32("class count"));
  if (count > c.left() / 4)
    return c.corrupt("claims ", count, " class names, more than its ", c.left(), " bytes can hold");
  classes.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    ANET_ASSIGN_OR_RETURN(std::string name, c.str32("class name", L::kMaxNameBytes));
    classes.push_back(std::move(name));
  }
  return c.finish();
}

Status read_kernel_objects(const RawSection &sec, std::map<std::string, std::string> &objects) {
  Cursor c(sec.payload, sec.where);
  ANET_ASSIGN_OR_RETURN(uint32_t count, c.u32("kernel object count"));
  if (count > L::kMaxKernelObjects || count > c.left() / 12)
    return c.corrupt("claims ", count, " kernel objects, more than its ", c.left(),
                     " bytes can hold");
  for (uint32_t i = 0; i < count; ++i) {
    ANET_ASSIGN_OR_RETURN(std::string key, c.str32("kernel key", L::kMaxNameBytes));
    ANET_ASSIGN_OR_RETURN(uint64_t length, c.u64("kernel object length"));
    ANET_ASSIGN_OR_RETURN(std::string_view object, c.bytes(length, "kernel object"));
    if (!objects.emplace(std::move(key), std::string(object)).second)
      return c.corrupt("kernel object ", i, " repeats a key");
  }
  return c.finish();
}

Status read_cuda_kernels(const RawSection &sec, std::map<std::string, CudaBinary> &kernels) {
  Cursor c(sec.payload, sec.where);
  ANET_ASSIGN_OR_RETURN(uint32_t count, c.u32("CUDA kernel count"));
  if (count > L::kMaxKernelObjects || count > c.left() / 32)
    return c.corrupt("claims ", count, " CUDA kernels, more than its ", c.left(),
                     " bytes can hold");
  for (uint32_t i = 0; i < count; ++i) {
    ANET_ASSIGN_OR_RETURN(std::string key, c.str32("CUDA kernel key", L::kMaxNameBytes));
    CudaBinary k;
    ANET_ASSIGN_OR_RETURN(uint32_t registers, c.u32("register count"));
    ANET_ASSIGN_OR_RETURN(uint64_t spills, c.u64("spill bytes"));
    ANET_ASSIGN_OR_RETURN(uint64_t shared, c.u64("shared bytes"));
    ANET_ASSIGN_OR_RETURN(uint64_t length, c.u64("CUDA kernel length"));
    ANET_ASSIGN_OR_RETURN(std::string_view image, c.bytes(length, "CUDA kernel image"));
    if (spills > (1ull << 40) || shared > (1ull << 40))
      return c.corrupt("CUDA kernel ", i, " claims ", spills, " spill and ", shared,
                       " shared bytes");
    k.registers = static_cast<int32_t>(registers);
    k.spill_bytes = static_cast<int64_t>(spills);
    k.shared_bytes = static_cast<int64_t>(shared);
    k.image = std::string(image);
    if (!kernels.emplace(std::move(key), std::move(k)).second)
      return c.corrupt("CUDA kernel ", i, " repeats a key");
  }
  return c.finish();
}

Status read_program(const RawSection &sec, const std::string &display,
                    std::map<std::string, Graph> &programs) {
  Cursor c(sec.payload, sec.where);
  ANET_ASSIGN_OR_RETURN(std::string name, c.str32("program name", L::kMaxNameBytes));
  ANET_ASSIGN_OR_RETURN(uint64_t length, c.u64("program text length"));
  ANET_ASSIGN_OR_RETURN(std::string_view text, c.bytes(length, "program text"));
  ANET_RETURN_IF_ERR(c.finish());
  if (name.empty())
    return c.corrupt("program has an empty name");
  if (programs.count(name))
    return c.corrupt("a second program named '", name, "'");
  auto graph = parse_graph(text);
  if (!graph)
    return make_error(ExitCode::IncompatiblePlan, display, ": program '", name,
                      "' does not load: ", graph.error().message);
  programs.emplace(std::move(name), std::move(graph).value());
  return {};
}

} // namespace

std::vector<SectionSummary> plan_sections(const Plan &plan, uint64_t &file_bytes) {
  ProgramTexts texts = program_texts(plan);
  std::vector<SectionSpec> specs = section_specs(plan, texts);
  Sink counter(nullptr);
  std::vector<uint64_t> sizes = write_file(counter, plan.producer_version, specs);
  file_bytes = counter.size();
  std::vector<SectionSummary> out;
  for (size_t i = 0; i < specs.size(); ++i)
    out.push_back({tag_name(specs[i].tag), specs[i].label, sizes[i]});
  return out;
}

Expected<std::string> serialize_plan(const Plan &plan) {
  if (std::optional<std::string> problem = plan_problem(plan))
    return make_error(ExitCode::InvalidModel, "cannot write plan: ", *problem);
  ProgramTexts texts = program_texts(plan);
  std::vector<SectionSpec> specs = section_specs(plan, texts);
  Sink counter(nullptr);
  write_file(counter, plan.producer_version, specs);
  std::string out;
  out.reserve(counter.size());
  Sink sink(&out);
  write_file(sink, plan.producer_version, specs);
  assert(out.size() == counter.size() && "the counting and writing passes disagree");
  return out;
}

Expected<Plan> deserialize_plan(std::string_view bytes, const std::string &display_name) {
  auto refuse = [&](const auto &...parts) {
    return make_error(ExitCode::IncompatiblePlan, display_name, ": ", parts...);
  };
  const uint64_t size = bytes.size();

  // 1. What the file is, and which format version wrote it.
  if (size == 0)
    return refuse("empty file, not an anet plan");
  const uint64_t magic_seen = std::min<uint64_t>(size, L::kMagic.size());
  if (bytes.substr(0, magic_seen) != L::kMagic.substr(0, magic_seen))
    return refuse("not an anet plan (bad magic)");
  if (size >= 12) {
    uint32_t version = load_u32(bytes, 8);
    if (version != kPlanFormatVersion)
      return refuse("plan format version ", version, " is ",
                    version > kPlanFormatVersion ? "newer" : "older", " than this anet supports (",
                    kPlanFormatVersion, "); recompile with anetc");
  }
  const uint64_t min_size = align_up(L::kHeaderFixedBytes) + L::kTrailerBytes;
  if (size < min_size)
    return refuse("truncated: expected at least ", min_size, " bytes, file has ", size);

  // 2. The header, against the bytes present.
  const uint32_t flags = load_u32(bytes, 12);
  const uint64_t file_length = load_u64(bytes, 16);
  const uint32_t section_count = load_u32(bytes, 24);
  const uint32_t producer_length = load_u32(bytes, 28);
  if (flags != 0)
    return refuse("header flags ", hex32(flags),
                  " are unknown to this anet (a newer writer or a damaged file); recompile "
                  "with anetc");
  if (file_length > size)
    return refuse("truncated: expected ", file_length, " bytes, file has ", size);
  if (file_length < size)
    return refuse("corrupt: file has ", size, " bytes but its header says ", file_length);
  if (producer_length > L::kMaxProducerBytes)
    return refuse("corrupt: producer version of ", producer_length, " bytes exceeds the limit of ",
                  L::kMaxProducerBytes);
  if (section_count > L::kMaxSections)
    return refuse("corrupt: ", section_count, " sections exceed the limit of ", L::kMaxSections);
  const uint64_t header_end = align_up(L::kHeaderFixedBytes + producer_length);
  const uint64_t trailer_at = file_length - L::kTrailerBytes;
  if (header_end > trailer_at)
    return refuse("corrupt: the header runs into the trailer");

  // 3. Section bounds and checksums.
  std::vector<RawSection> sections;
  uint64_t pos = header_end;
  for (uint32_t i = 0; i < section_count; ++i) {
    std::string where = display_name + ": section " + std::to_string(i + 1) + " of " +
                        std::to_string(section_count);
    if (pos > trailer_at || trailer_at - pos < L::kSectionHeaderBytes)
      return make_error(ExitCode::IncompatiblePlan, where,
                        ": corrupt: the section header runs past the end of the sections");
    RawSection sec{load_u32(bytes, pos), load_u32(bytes, pos + 4), {}, {}};
    where += " (" + tag_name(sec.tag) + ")";
    const uint64_t length = load_u64(bytes, pos + 8);
    const uint32_t crc = load_u32(bytes, pos + 16);
    const uint64_t payload_at = pos + L::kSectionHeaderBytes;
    if (length > trailer_at - payload_at)
      return make_error(ExitCode::IncompatiblePlan, where, ": corrupt: its ", length,
                        " bytes run past the end of the sections");
    sec.payload = bytes.substr(payload_at, length);
    if (crc32(sec.payload) != crc)
      return make_error(ExitCode::IncompatiblePlan, where, ": corrupt: checksum mismatch");
    sec.where = std::move(where);
    sections.push_back(std::move(sec));
    pos = align_up(payload_at + length);
  }
  if (pos != trailer_at)
    return refuse("corrupt: the sections end at offset ", pos, " but the trailer is at ",
                  trailer_at);
  if (bytes.substr(trailer_at, 8) != L::kEndMagic || load_u32(bytes, trailer_at + 12) != 0)
    return refuse("corrupt: the trailer is damaged");
  if (crc32(bytes.substr(0, trailer_at + 8)) != load_u32(bytes, trailer_at + 8))
    return refuse("corrupt: file checksum mismatch (the header, padding or trailer is damaged)");

  // 4. Payloads.
  Plan plan;
  plan.producer_version = std::string(bytes.substr(L::kHeaderFixedBytes, producer_length));
  std::set<uint32_t> seen;
  for (const RawSection &sec : sections) {
    bool singleton = sec.tag != kProgTag;
    if (singleton && !seen.insert(sec.tag).second)
      return make_error(ExitCode::IncompatiblePlan, sec.where, ": corrupt: a second ",
                        tag_name(sec.tag), " section");
    seen.insert(sec.tag);
    if (sec.tag == kMetaTag) {
      Cursor c(sec.payload, sec.where);
      ANET_ASSIGN_OR_RETURN(plan.source_name, c.str32("source name", L::kMaxNameBytes));
      ANET_RETURN_IF_ERR(c.finish());
    } else if (sec.tag == kPrepTag) {
      ANET_RETURN_IF_ERR(read_preprocess(sec, plan.preprocess));
    } else if (sec.tag == kProgTag) {
      ANET_RETURN_IF_ERR(read_program(sec, display_name, plan.programs));
    } else if (sec.tag == kWghtTag) {
      ANET_RETURN_IF_ERR(read_weights(sec, plan.weights));
    } else if (sec.tag == kClasTag) {
      ANET_RETURN_IF_ERR(read_classes(sec, plan.class_names));
    } else if (sec.tag == kOnnxTag) {
      plan.onnx_model = std::string(sec.payload);
    } else if (sec.tag == kKobjTag) {
      ANET_RETURN_IF_ERR(read_kernel_objects(sec, plan.kernel_objects));
    } else if (sec.tag == kCubnTag) {
      ANET_RETURN_IF_ERR(read_cuda_kernels(sec, plan.cuda_kernels));
    } else if (sec.tag == kPadsTag) {
      Cursor c(sec.payload, sec.where);
      ANET_ASSIGN_OR_RETURN(uint64_t pad, c.u64("pad"));
      if (pad == 0 || pad > L::kMaxPad)
        return c.corrupt("pad ", pad, " is not in 1 .. ", L::kMaxPad);
      plan.preprocess.pad = static_cast<int64_t>(pad);
      ANET_RETURN_IF_ERR(c.finish());
    } else if (sec.flags & L::kSectionRequired) {
      return make_error(ExitCode::IncompatiblePlan, sec.where,
                        ": this anet does not know the section, and the plan requires it "
                        "(written by a newer anet?); recompile with anetc");
    }
  }
  for (uint32_t tag : {kMetaTag, kPrepTag, kProgTag, kWghtTag})
    if (!seen.count(tag))
      return refuse("corrupt: the plan has no ", tag_name(tag), " section");

  // 5. The programs against the weights.
  if (std::optional<std::string> problem = plan_problem(plan))
    return refuse(*problem);
  return plan;
}

} // namespace anet
