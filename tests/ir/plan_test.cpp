// The plan file: a round trip keeps everything, the bytes follow
// docs/plan-format.md, and every way a file can be wrong (empty, foreign,
// truncated anywhere, any byte flipped, another version, forged sections
// with hostile sizes, programs that do not load, weights that do not fit)
// is refused with ExitCode::IncompatiblePlan and a message that says which.
// Writing is atomic: a failed write leaves the old file and no temporary.

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ir/plan.h"
#include "tests/ir/ir_samples.h"
#include "tests/ir/plan_editing.h"

namespace anet {
namespace {

namespace fs = std::filesystem;
using testing::expect_same_plan;
using testing::find_section;
using testing::join_plan;
using testing::PlanPieces;
using testing::sample_plan;
using testing::split_plan;

const std::string kName = "plan.bin";

std::string serialized(const Plan &plan) {
  auto bytes = serialize_plan(plan);
  EXPECT_TRUE(bytes.ok()) << bytes.error().message;
  return bytes.ok() ? *bytes : std::string();
}

// Deserializes bytes that must be refused; returns the message.
std::string refusal(std::string_view bytes) {
  auto plan = deserialize_plan(bytes, kName);
  EXPECT_FALSE(plan.ok());
  if (plan.ok())
    return "";
  EXPECT_EQ(plan.error().code, ExitCode::IncompatiblePlan) << plan.error().message;
  EXPECT_EQ(plan.error().message.rfind(kName + ": ", 0), 0u) << plan.error().message;
  return plan.error().message;
}

#define EXPECT_CONTAINS(haystack, needle)                                                          \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos)                                 \
      << "'" << (needle) << "' not in: " << (haystack)

PlanPieces pieces_of(const std::string &bytes) {
  auto pieces = split_plan(bytes);
  EXPECT_TRUE(pieces.has_value());
  return pieces.value_or(PlanPieces{});
}

std::string payload_string(std::initializer_list<uint32_t> u32s) {
  std::string s;
  for (uint32_t v : u32s)
    testing::put_u32(s, v);
  return s;
}

TEST(PlanFormat, RoundTripKeepsEverything) {
  Plan plan = sample_plan();
  std::string bytes = serialized(plan);
  auto back = deserialize_plan(bytes, kName);
  ASSERT_TRUE(back.ok()) << back.error().message;
  expect_same_plan(plan, *back);
}

TEST(PlanFormat, EmptyOptionalPartsRoundTrip) {
  Plan plan;
  plan.programs["infer"] = testing::small_net_graph();
  testing::add_weights(plan.programs["infer"], plan.weights);
  auto back = deserialize_plan(serialized(plan), kName);
  ASSERT_TRUE(back.ok()) << back.error().message;
  expect_same_plan(plan, *back);
}

TEST(PlanFormat, CudaKernelsRoundTrip) {
  Plan plan = sample_plan();
  plan.cuda_kernels = {{"sm_90/00ff", CudaBinary{std::string("\x7f"
                                                             "ELF\0\2",
                                                             6),
                                                 40, 0, 16896}},
                       {"compute_90/00ff", CudaBinary{".version 9.0\n", -1, 0, 0}}};
  auto back = deserialize_plan(serialized(plan), kName);
  ASSERT_TRUE(back.ok()) << back.error().message;
  expect_same_plan(plan, *back);
  EXPECT_EQ(back->cuda_kernels, plan.cuda_kernels);
  EXPECT_TRUE(deserialize_plan(serialized(sample_plan()), kName)->cuda_kernels.empty());
}

TEST(PlanFormat, KernelObjectsRoundTrip) {
  Plan plan = sample_plan();
  plan.kernel_objects = {{"0123abcd", std::string("\x7f"
                                                  "ELF\0\1",
                                                  6)},
                         {"ff", ""}};
  auto back = deserialize_plan(serialized(plan), kName);
  ASSERT_TRUE(back.ok()) << back.error().message;
  expect_same_plan(plan, *back);
  EXPECT_EQ(back->kernel_objects, plan.kernel_objects);
  EXPECT_TRUE(deserialize_plan(serialized(sample_plan()), kName)->kernel_objects.empty());
}

TEST(PlanFormat, PadTravelsInARequiredSectionOnlyWhenSet) {
  Plan plan = sample_plan();
  plan.preprocess.pad = 4;
  const std::string bytes = serialized(plan);
  auto back = deserialize_plan(bytes, kName);
  ASSERT_TRUE(back.ok()) << back.error().message;
  expect_same_plan(plan, *back);
  EXPECT_EQ(back->preprocess.patch(), 264);
  PlanPieces pieces = pieces_of(bytes);
  const testing::PlanSection *pads = find_section(pieces, "PADS");
  ASSERT_NE(pads, nullptr);
  EXPECT_TRUE(pads->flags & plan_layout::kSectionRequired);
  std::string payload;
  testing::put_u64(payload, 4);
  EXPECT_EQ(pads->payload, payload);
  // Without a frame the plan is byte for byte what an anet without frames
  // wrote, so such an anet reads it.
  PlanPieces plain = pieces_of(serialized(sample_plan()));
  EXPECT_EQ(find_section(plain, "PADS"), nullptr);
}

TEST(PlanFormat, BytesAreDeterministicAndStable) {
  std::string bytes = serialized(sample_plan());
  EXPECT_EQ(serialized(sample_plan()), bytes);
  auto back = deserialize_plan(bytes, kName);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(serialized(*back), bytes);
}

// An independent writer of the documented layout produces the same bytes.
TEST(PlanFormat, LayoutFollowsTheDocument) {
  Plan plan = sample_plan();
  std::string bytes = serialized(plan);
  PlanPieces pieces = pieces_of(bytes);
  EXPECT_EQ(join_plan(pieces), bytes);
  EXPECT_EQ(bytes.substr(0, 8), "ANETPLAN");
  EXPECT_EQ(load_u32(bytes, 8), kPlanFormatVersion);
  EXPECT_EQ(load_u64(bytes, 16), bytes.size());
  EXPECT_EQ(pieces.producer, "0.1.0-test");
  std::vector<std::string> tags;
  for (const auto &s : pieces.sections)
    tags.push_back(s.tag + (s.flags & plan_layout::kSectionRequired ? "!" : ""));
  EXPECT_EQ(tags, (std::vector<std::string>{"META!", "PREP!", "PROG!", "PROG!", "WGHT!", "CLAS",
                                            "ONNX"}));

  // Every payload, and every tensor's data, starts at a multiple of 64.
  size_t pos = testing::align64(32 + pieces.producer.size());
  for (const auto &s : pieces.sections) {
    size_t payload_at = pos + 64;
    EXPECT_EQ(payload_at % 64, 0u);
    if (s.tag == "WGHT") {
      std::string_view w = s.payload;
      uint32_t count = load_u32(w, 0);
      EXPECT_EQ(count, plan.weights.size());
      size_t at = 4;
      for (uint32_t i = 0; i < count; ++i) {
        uint32_t len = load_u32(w, at);
        std::string name(w.substr(at + 4, len));
        uint64_t numel = load_u64(w, at + 4 + len);
        uint64_t offset = load_u64(w, at + 12 + len);
        at += 20 + len;
        EXPECT_EQ((payload_at + offset) % 64, 0u) << name;
        ASSERT_EQ(numel, plan.weights.at(name).size()) << name;
        std::vector<float> data(numel);
        std::memcpy(data.data(), bytes.data() + payload_at + offset, numel * 4);
        EXPECT_EQ(data, plan.weights.at(name)) << name;
      }
    }
    pos = testing::align64(payload_at + s.payload.size());
  }
  EXPECT_EQ(pos + 16, bytes.size());
  EXPECT_EQ(bytes.substr(pos, 8), std::string("ANETEND\0", 8));
}

TEST(PlanRefusals, EmptyFile) { EXPECT_EQ(refusal(""), kName + ": empty file, not an anet plan"); }

TEST(PlanRefusals, NotAPlan) {
  EXPECT_EQ(refusal("\x89PNG\r\n\x1a\n and so on"), kName + ": not an anet plan (bad magic)");
  EXPECT_EQ(refusal("ANETPLAX" + std::string(100, '\0')), kName + ": not an anet plan (bad magic)");
  EXPECT_EQ(refusal("x"), kName + ": not an anet plan (bad magic)");
}

TEST(PlanRefusals, TruncatedAtEveryLength) {
  std::string bytes = serialized(sample_plan());
  for (size_t n = 1; n < bytes.size(); ++n) {
    std::string message = refusal(std::string_view(bytes).substr(0, n));
    ASSERT_NE(message.find("truncated: expected "), std::string::npos) << n << ": " << message;
    if (n >= 80) {
      ASSERT_EQ(message, kName + ": truncated: expected " + std::to_string(bytes.size()) +
                             " bytes, file has " + std::to_string(n));
    }
  }
}

TEST(PlanRefusals, TrailingBytes) {
  std::string bytes = serialized(sample_plan()) + "x";
  EXPECT_CONTAINS(refusal(bytes), "corrupt: file has " + std::to_string(bytes.size()) +
                                      " bytes but its header says " +
                                      std::to_string(bytes.size() - 1));
}

TEST(PlanRefusals, AnyFlippedByte) {
  const std::string bytes = serialized(sample_plan());
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string damaged = bytes;
    damaged[i] = static_cast<char>(damaged[i] ^ (1 << (i % 8)));
    auto plan = deserialize_plan(damaged, kName);
    ASSERT_FALSE(plan.ok()) << "flipping byte " << i << " went unnoticed";
    ASSERT_EQ(plan.error().code, ExitCode::IncompatiblePlan);
  }
}

TEST(PlanRefusals, FlippedPayloadByteNamesItsSection) {
  const std::string bytes = serialized(sample_plan());
  PlanPieces pieces = pieces_of(bytes);
  size_t pos = testing::align64(32 + pieces.producer.size());
  for (size_t i = 0; i < pieces.sections.size(); ++i) {
    const auto &s = pieces.sections[i];
    size_t payload_at = pos + 64;
    pos = testing::align64(payload_at + s.payload.size());
    ASSERT_FALSE(s.payload.empty()) << s.tag;
    std::string damaged = bytes;
    damaged[payload_at + s.payload.size() / 2] ^= 0x10;
    EXPECT_EQ(refusal(damaged), kName + ": section " + std::to_string(i + 1) + " of 7 (" + s.tag +
                                    "): corrupt: checksum mismatch");
  }
}

TEST(PlanRefusals, DamagedHeaderOrPaddingFailsTheFileChecksum) {
  std::string bytes = serialized(sample_plan());
  bytes[33] ^= 1; // inside the producer version
  EXPECT_CONTAINS(refusal(bytes), "corrupt: file checksum mismatch");
}

TEST(PlanRefusals, OtherFormatVersions) {
  std::string bytes = serialized(sample_plan());
  store_u32(bytes, 8, 7);
  EXPECT_EQ(refusal(bytes), kName + ": plan format version 7 is newer than this anet supports "
                                    "(1); recompile with anetc");
  // Known as soon as the version field is there, even in a cut-off file.
  EXPECT_EQ(refusal(std::string_view(bytes).substr(0, 12)),
            kName + ": plan format version 7 is newer than this anet supports (1); recompile "
                    "with anetc");
  store_u32(bytes, 8, 0);
  EXPECT_EQ(refusal(bytes), kName + ": plan format version 0 is older than this anet supports "
                                    "(1); recompile with anetc");
}

TEST(PlanRefusals, UnknownHeaderFlags) {
  PlanPieces pieces = pieces_of(serialized(sample_plan()));
  pieces.header_flags = 4;
  EXPECT_CONTAINS(refusal(join_plan(pieces)), "header flags 0x00000004 are unknown");
}

TEST(PlanSections, UnknownRequiredSectionIsRefused) {
  PlanPieces pieces = pieces_of(serialized(sample_plan()));
  pieces.sections.push_back({"QUUX", plan_layout::kSectionRequired, "future"});
  EXPECT_EQ(refusal(join_plan(pieces)),
            kName + ": section 8 of 8 (QUUX): this anet does not know the section, and the plan "
                    "requires it (written by a newer anet?); recompile with anetc");
}

TEST(PlanSections, UnknownOptionalSectionIsSkipped) {
  Plan plan = sample_plan();
  PlanPieces pieces = pieces_of(serialized(plan));
  pieces.sections.insert(pieces.sections.begin() + 2, {"HINT", 0, "something newer"});
  auto back = deserialize_plan(join_plan(pieces), kName);
  ASSERT_TRUE(back.ok()) << back.error().message;
  expect_same_plan(plan, *back);
}

TEST(PlanSections, MissingOrRepeatedSections) {
  PlanPieces pieces = pieces_of(serialized(sample_plan()));
  PlanPieces no_weights = pieces;
  std::erase_if(no_weights.sections, [](const auto &s) { return s.tag == "WGHT"; });
  EXPECT_EQ(refusal(join_plan(no_weights)), kName + ": corrupt: the plan has no WGHT section");
  PlanPieces no_programs = pieces;
  std::erase_if(no_programs.sections, [](const auto &s) { return s.tag == "PROG"; });
  EXPECT_CONTAINS(refusal(join_plan(no_programs)), "the plan has no PROG section");
  PlanPieces two_metas = pieces;
  two_metas.sections.push_back(pieces.sections[0]);
  EXPECT_CONTAINS(refusal(join_plan(two_metas)), "section 8 of 8 (META): corrupt: a second META");
  PlanPieces two_infers = pieces;
  two_infers.sections.push_back(*find_section(pieces, "PROG"));
  EXPECT_CONTAINS(refusal(join_plan(two_infers)), "a second program named 'all_ops'");
}

// Replaces `from` by `to` in the text of the PROG section named `program`.
std::string edit_program(const std::string &bytes, const std::string &program,
                         const std::string &from, const std::string &to) {
  PlanPieces pieces = pieces_of(bytes);
  for (auto &s : pieces.sections) {
    if (s.tag != "PROG" || s.payload.substr(4, program.size()) != program)
      continue;
    std::string text = s.payload.substr(4 + program.size() + 8);
    size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
    s.payload = payload_string({static_cast<uint32_t>(program.size())}) + program;
    testing::put_u64(s.payload, text.size());
    s.payload += text;
  }
  return join_plan(pieces);
}

TEST(PlanSections, ProgramThatDoesNotParse) {
  std::string bytes = edit_program(serialized(sample_plan()), "infer", "= Softmax(", "= Softmix(");
  EXPECT_EQ(refusal(bytes),
            kName + ": program 'infer' does not load: line 11, column 21: unknown op 'Softmix'");
}

TEST(PlanSections, ProgramThatDoesNotVerify) {
  std::string bytes =
      edit_program(serialized(sample_plan()), "infer", "%prob: f32[2,5]", "%prob: f32[2,6]");
  EXPECT_CONTAINS(refusal(bytes), "program 'infer' does not load: line 11, column 3: '%prob' is "
                                  "declared f32[2,6] but Softmax computes f32[2,5]");
}

// The sample plan with its WGHT section taken from `other`.
std::string with_weights_of(const Plan &other) {
  PlanPieces pieces = pieces_of(serialized(sample_plan()));
  PlanPieces donor = pieces_of(serialized(other));
  *find_section(pieces, "WGHT") = *find_section(donor, "WGHT");
  return join_plan(pieces);
}

TEST(PlanSections, WeightsMissingOrOfTheWrongSize) {
  Plan donor = sample_plan();
  donor.programs.erase("infer");
  donor.weights.erase("fc.w");
  EXPECT_CONTAINS(refusal(with_weights_of(donor)),
                  "program 'infer' reads parameter 'fc.w' (f32[5,100]) but the plan has no "
                  "weights for it");
  donor.weights["fc.w"] = std::vector<float>(499, 1.0f);
  EXPECT_CONTAINS(refusal(with_weights_of(donor)),
                  "weights for parameter 'fc.w' have 499 values, program 'infer' needs 500 "
                  "(f32[5,100])");
}

// The sample plan (with a kernel object for KOBJ, a CUDA kernel for CUBN)
// with `tag`'s payload replaced.
std::string with_payload(const std::string &tag, const std::string &payload) {
  Plan plan = sample_plan();
  if (tag == "KOBJ")
    plan.kernel_objects = {{"key", "object"}};
  if (tag == "CUBN")
    plan.cuda_kernels = {{"sm_90/key", CudaBinary{"cubin", 32, 0, 0}}};
  PlanPieces pieces = pieces_of(serialized(plan));
  find_section(pieces, tag)->payload = payload;
  return join_plan(pieces);
}

TEST(PlanSections, HostileSizesAreRefusedBeforeAllocating) {
  EXPECT_CONTAINS(refusal(with_payload("WGHT", payload_string({0xffffffffu, 0, 0}))),
                  "(WGHT): corrupt: claims 4294967295 weights");
  EXPECT_CONTAINS(refusal(with_payload("CLAS", payload_string({0xfffffff0u, 1}))),
                  "(CLAS): corrupt: claims 4294967280 class names");
  EXPECT_CONTAINS(refusal(with_payload("META", payload_string({0xfffffff0u}))),
                  "(META): corrupt: source name of 4294967280 bytes exceeds the limit of 4096");
  EXPECT_CONTAINS(refusal(with_payload("KOBJ", payload_string({0xfffffff0u, 1, 2}))),
                  "(KOBJ): corrupt: claims 4294967280 kernel objects");
  EXPECT_CONTAINS(refusal(with_payload("KOBJ", payload_string({1, 1}) + "k" +
                                                   payload_string({0xffffffffu, 0}))),
                  "(KOBJ): corrupt: kernel object needs 4294967295 bytes");
  EXPECT_CONTAINS(
      refusal(with_payload("KOBJ", payload_string({2, 1}) + "k" + payload_string({0, 0, 1}) + "k" +
                                       payload_string({0, 0}))),
      "(KOBJ): corrupt: kernel object 1 repeats a key");
  EXPECT_CONTAINS(refusal(with_payload("CUBN", payload_string({0xfffffff0u, 1, 2}))),
                  "(CUBN): corrupt: claims 4294967280 CUDA kernels");
  EXPECT_CONTAINS(
      refusal(with_payload("CUBN", payload_string({1, 1}) + "k" +
                                       payload_string({32, 0, 0, 0, 0, 0xffffffffu, 0}))),
      "(CUBN): corrupt: CUDA kernel image needs 4294967295 bytes");
  const std::string entry = payload_string({1}) + "k" + payload_string({32, 0, 0, 0, 0, 0, 0});
  EXPECT_CONTAINS(refusal(with_payload("CUBN", payload_string({2}) + entry + entry)),
                  "(CUBN): corrupt: CUDA kernel 1 repeats a key");
  std::string prep = payload_string({0, 0, 0x3f800000u, 0xffffffffu, 0x0fffffffu});
  EXPECT_CONTAINS(refusal(with_payload("PREP", prep)), "(PREP): corrupt: mean claims");
  std::string prog = payload_string({5}) + "infer" + payload_string({0xffffffffu, 0xffffffffu});
  EXPECT_CONTAINS(refusal(with_payload("PROG", prog)),
                  "(PROG): corrupt: program text needs 18446744073709551615 bytes");

  // Two weights claiming the same data: each region may be used once.
  std::string w = payload_string({2, 1}) + "a" + payload_string({1, 0, 64, 0, 1}) + "b" +
                  payload_string({1, 0, 64, 0});
  w.resize(128, '\0');
  EXPECT_CONTAINS(refusal(with_payload("WGHT", w)), "data of weight 'b' (1 values at offset 64)");

  std::string bytes = serialized(sample_plan());
  store_u32(bytes, 24, 0xffffffffu);
  EXPECT_CONTAINS(refusal(bytes), "corrupt: 4294967295 sections exceed the limit of 4096");
  bytes = serialized(sample_plan());
  store_u32(bytes, 28, 0x7fffffffu);
  EXPECT_CONTAINS(refusal(bytes), "corrupt: producer version of 2147483647 bytes");
  PlanPieces pieces = pieces_of(serialized(sample_plan()));
  std::string joined = join_plan(pieces);
  // The first section's length field.
  store_u64(joined, testing::align64(32 + pieces.producer.size()) + 8, uint64_t{1} << 62);
  EXPECT_CONTAINS(refusal(joined), "section 1 of 7 (META): corrupt: its 4611686018427387904 bytes "
                                   "run past the end of the sections");
}

TEST(PlanSections, PadOutsideItsRangeIsRefused) {
  Plan plan = sample_plan();
  plan.preprocess.pad = 1;
  for (uint64_t pad : {uint64_t{0}, plan_layout::kMaxPad + 1}) {
    PlanPieces pieces = pieces_of(serialized(plan));
    find_section(pieces, "PADS")->payload.clear();
    testing::put_u64(find_section(pieces, "PADS")->payload, pad);
    EXPECT_CONTAINS(refusal(join_plan(pieces)),
                    "(PADS): corrupt: pad " + std::to_string(pad) + " is not in 1 .. 16384");
  }
  PlanPieces pieces = pieces_of(serialized(plan));
  find_section(pieces, "PADS")->payload += "x";
  EXPECT_CONTAINS(refusal(join_plan(pieces)), "(PADS)");
  pieces = pieces_of(serialized(plan));
  pieces.sections.push_back(*find_section(pieces, "PADS"));
  EXPECT_CONTAINS(refusal(join_plan(pieces)), "corrupt: a second PADS");
}

TEST(PlanWriter, RefusesPlansItCouldNotReadBack) {
  Plan plan = sample_plan();
  plan.weights.erase("conv1.w");
  auto bytes = serialize_plan(plan);
  ASSERT_FALSE(bytes.ok());
  EXPECT_EQ(bytes.error().code, ExitCode::InvalidModel);
  EXPECT_EQ(bytes.error().message,
            "cannot write plan: program 'infer' reads parameter 'conv1.w' (f32[4,3,3,3]) but the "
            "plan has no weights for it");
  EXPECT_FALSE(serialize_plan(Plan{}).ok());
  plan = sample_plan();
  plan.programs["infer"].nodes[0].attrs.set("group", int64_t{3});
  EXPECT_FALSE(serialize_plan(plan).ok());
  plan = sample_plan();
  plan.preprocess.pad = -1;
  bytes = serialize_plan(plan);
  ASSERT_FALSE(bytes.ok());
  EXPECT_EQ(bytes.error().message, "cannot write plan: preprocessing pad -1 is not in 0 .. 16384");
}

class PlanFile : public ::testing::Test {
protected:
  void SetUp() override {
    std::string tmpl = (fs::path(::testing::TempDir()) / "anet_plan_XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(dir_, fs::perms::owner_all, ec);
    fs::remove_all(dir_, ec);
  }
  std::vector<std::string> files() const {
    std::vector<std::string> out;
    for (const auto &e : fs::directory_iterator(dir_))
      out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
  static std::string contents(const fs::path &p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  fs::path dir_;
};

TEST_F(PlanFile, WriteThenRead) {
  Plan plan = sample_plan();
  std::string path = (dir_ / "net.plan").string();
  ASSERT_TRUE(write_plan_file(plan, path).ok());
  EXPECT_EQ(files(), std::vector<std::string>{"net.plan"});
  EXPECT_EQ(contents(path), serialized(plan));
  auto back = read_plan_file(path);
  ASSERT_TRUE(back.ok()) << back.error().message;
  expect_same_plan(plan, *back);
  // Overwriting replaces the file.
  plan.source_name = "second.onnx";
  ASSERT_TRUE(write_plan_file(plan, path).ok());
  EXPECT_EQ(read_plan_file(path)->source_name, "second.onnx");
  EXPECT_EQ(files(), std::vector<std::string>{"net.plan"});
}

TEST_F(PlanFile, MissingDirectoryIsAnIOError) {
  std::string path = (dir_ / "missing" / "net.plan").string();
  Status s = write_plan_file(sample_plan(), path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ExitCode::IO);
  EXPECT_CONTAINS(s.error().message, path);
  EXPECT_CONTAINS(s.error().message, "No such file or directory");
  EXPECT_TRUE(files().empty());
}

TEST_F(PlanFile, DirectoryThatIsAFileIsAnIOError) {
  std::ofstream(dir_ / "file") << "x";
  std::string path = (dir_ / "file" / "net.plan").string();
  Status s = write_plan_file(sample_plan(), path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ExitCode::IO);
  EXPECT_CONTAINS(s.error().message, "Not a directory");
  EXPECT_EQ(files(), std::vector<std::string>{"file"});
}

TEST_F(PlanFile, UnwritableDirectoryIsAnIOError) {
  std::string path = (dir_ / "net.plan").string();
  auto refused = [&] {
    Status s = write_plan_file(sample_plan(), path);
    return !s.ok() && s.error().code == ExitCode::IO &&
           s.error().message.find("cannot create a temporary file for plan '" + path +
                                  "': Permission denied") != std::string::npos;
  };
  if (::geteuid() != 0) {
    ::chmod(dir_.c_str(), 0555);
    EXPECT_TRUE(refused());
    ::chmod(dir_.c_str(), 0755);
  } else {
    // Root writes anywhere; try as nobody in a child process.
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0)
      ::_exit(::setgid(65534) == 0 && ::setuid(65534) == 0 && refused() ? 0 : 1);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  EXPECT_TRUE(files().empty());
}

// A write that fails half-way (the file size limit stands in for a full
// disk) leaves the previous plan intact and no temporary file behind.
TEST_F(PlanFile, FailedWriteKeepsTheOldPlan) {
  std::string path = (dir_ / "net.plan").string();
  Plan old_plan = sample_plan();
  old_plan.source_name = "old.onnx";
  ASSERT_TRUE(write_plan_file(old_plan, path).ok());
  const std::string old_bytes = contents(path);

  Plan big = sample_plan();
  big.onnx_model.assign(1 << 20, 'x');
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  rlimit small = saved;
  small.rlim_cur = 64 * 1024;
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  Status s = write_plan_file(big, path);
  ::setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, old_handler);

  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ExitCode::IO);
  EXPECT_CONTAINS(s.error().message, "cannot write plan '" + path + "': File too large");
  EXPECT_EQ(contents(path), old_bytes);
  EXPECT_EQ(files(), std::vector<std::string>{"net.plan"});
}

TEST_F(PlanFile, InvalidPlanLeavesTheOldPlan) {
  std::string path = (dir_ / "net.plan").string();
  ASSERT_TRUE(write_plan_file(sample_plan(), path).ok());
  const std::string old_bytes = contents(path);
  Plan bad = sample_plan();
  bad.weights.clear();
  Status s = write_plan_file(bad, path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ExitCode::InvalidModel);
  EXPECT_EQ(contents(path), old_bytes);
  EXPECT_EQ(files(), std::vector<std::string>{"net.plan"});
}

TEST_F(PlanFile, ReadErrors) {
  std::string missing = (dir_ / "none.plan").string();
  auto plan = read_plan_file(missing);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().code, ExitCode::IO);
  EXPECT_EQ(plan.error().message, "cannot open plan '" + missing + "': No such file or directory");

  auto dir = read_plan_file(dir_.string());
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.error().code, ExitCode::IO);
  EXPECT_CONTAINS(dir.error().message, "Is a directory");

  std::string corrupt = (dir_ / "corrupt.plan").string();
  std::ofstream(corrupt, std::ios::binary) << serialized(sample_plan()).substr(0, 500);
  auto bad = read_plan_file(corrupt);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ExitCode::IncompatiblePlan);
  EXPECT_EQ(bad.error().message.rfind(corrupt + ": truncated: expected ", 0), 0u)
      << bad.error().message;
}

TEST(PlanSummary, DescribesProgramsWeightsAndSections) {
  Plan plan = sample_plan();
  PlanSummary s = summarize(plan);
  EXPECT_EQ(s.format_version, kPlanFormatVersion);
  EXPECT_EQ(s.producer_version, "0.1.0-test");
  ASSERT_EQ(s.programs.size(), 2u);
  const ProgramSummary &infer = s.programs[1];
  EXPECT_EQ(infer.name, "infer");
  EXPECT_EQ(infer.node_count, 5);
  EXPECT_EQ(infer.param_count, 4);
  EXPECT_EQ(infer.op_counts,
            (std::map<std::string, int64_t>{
                {"Conv", 1}, {"Flatten", 1}, {"Gemm", 1}, {"Relu", 1}, {"Softmax", 1}}));
  ASSERT_EQ(infer.inputs.size(), 1u);
  EXPECT_EQ(infer.inputs[0].name, "data");
  EXPECT_EQ(infer.inputs[0].type.shape, (Shape{2, 3, 11, 11}));
  EXPECT_EQ(infer.outputs[0].name, "prob");
  EXPECT_EQ(s.programs[0].op_counts.size(), static_cast<size_t>(kNumOps));

  int64_t elements = 0;
  for (const auto &[name, data] : plan.weights)
    elements += static_cast<int64_t>(data.size());
  EXPECT_EQ(s.weight_tensors, static_cast<int64_t>(plan.weights.size()));
  EXPECT_EQ(s.weight_elements, elements);
  EXPECT_EQ(s.weight_bytes, elements * 4);

  std::string bytes = serialized(plan);
  EXPECT_EQ(s.file_bytes, bytes.size());
  PlanPieces pieces = pieces_of(bytes);
  ASSERT_EQ(s.sections.size(), pieces.sections.size());
  for (size_t i = 0; i < s.sections.size(); ++i) {
    EXPECT_EQ(s.sections[i].tag, pieces.sections[i].tag);
    EXPECT_EQ(s.sections[i].payload_bytes, pieces.sections[i].payload.size());
  }
  EXPECT_EQ(s.sections[2].label, "all_ops");
  EXPECT_EQ(s.class_count, 5);
  EXPECT_EQ(s.onnx_bytes, plan.onnx_model.size());

  std::string text = summary_text(s);
  for (const char *line :
       {"anet plan, format version 1, written by anet 0.1.0-test, compiled from small net.onnx\n",
        "program infer: 5 nodes, 4 parameters\n", "  input  data f32[2,3,11,11]\n",
        "  output prob f32[2,5]\n", "  ops: Conv x1 Flatten x1 Gemm x1 Relu x1 Softmax x1\n",
        "preprocess: resize 256, mean image of 48 values, scale 0.017\n",
        "classes: 5 names; original ONNX model: 15 B\n", "  PROG infer"})
    EXPECT_CONTAINS(text, line);

  nlohmann::json j = summary_json(s);
  EXPECT_EQ(j["format_version"], 1);
  EXPECT_EQ(j["programs"][1]["name"], "infer");
  EXPECT_EQ(j["programs"][1]["ops"]["Conv"], 1);
  EXPECT_EQ(j["programs"][1]["inputs"][0]["shape"], nlohmann::json({2, 3, 11, 11}));
  EXPECT_EQ(j["weights"]["values"], elements);
  EXPECT_EQ(j["file_bytes"], bytes.size());
  EXPECT_EQ(j["sections"].size(), 7u);
  EXPECT_EQ(j["preprocess"]["mean_image_values"], 48);
}

} // namespace
} // namespace anet
