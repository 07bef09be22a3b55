/// Tests of checkpoint files and directories: a bitwise round trip, the
/// documented layout, refusal of truncated, damaged, foreign and
/// other-version files and of hostile JSON headers, keep-last-K rotation,
/// finding the latest checkpoint, --resume, and failures that must leave
/// the previous checkpoint intact (a full disk, an unwritable directory).

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "runtime/train/checkpoint.h"
#include "tests/train/checkpoint_editing.h"
#include "tests/train/train_test_util.h"

namespace anet {
namespace {

using testing::ScratchDir;

/// A checkpoint with awkward floats (NaN with a payload, -0, infinities,
/// denormals), an empty tensor, sizes that are not multiples of 16 floats,
/// and nested trainer state.
Checkpoint sample_checkpoint(int64_t step = 1234) {
  Checkpoint c;
  c.step = step;
  c.epoch = 3;
  c.batch = 17;
  c.plan_fingerprint = "sha256:0123abcd";
  std::vector<float> w(37);
  for (size_t i = 0; i < w.size(); ++i)
    w[i] = static_cast<float>(i) * 0.37f - 5.0f;
  w[0] = std::bit_cast<float>(0x7fc12345u); // NaN with a payload
  w[1] = -0.0f;
  w[2] = std::numeric_limits<float>::infinity();
  w[3] = -std::numeric_limits<float>::infinity();
  w[4] = std::numeric_limits<float>::denorm_min();
  c.weights["conv1.w"] = w;
  c.weights["conv1.w.momentum"] = std::vector<float>(37, 0.125f);
  c.weights["empty"] = {};
  c.weights["fc8.b"] = {1.0f, 2.0f, 3.0f};
  c.state = {{"lr", 0.01},
             {"best_val_error", 0.4375},
             {"seed", 42},
             {"rng", {1, 2, 3}},
             {"schedule", {{"drops", {30, 60}}, {"name", "step"}}}};
  return c;
}

/// Same fields, and weights equal bit for bit.
void expect_same(const Checkpoint &a, const Checkpoint &b) {
  EXPECT_EQ(a.step, b.step);
  EXPECT_EQ(a.epoch, b.epoch);
  EXPECT_EQ(a.batch, b.batch);
  EXPECT_EQ(a.plan_fingerprint, b.plan_fingerprint);
  EXPECT_EQ(a.state, b.state);
  ASSERT_EQ(a.weights.size(), b.weights.size());
  for (const auto &[name, values] : a.weights) {
    auto it = b.weights.find(name);
    ASSERT_NE(it, b.weights.end()) << name;
    ASSERT_EQ(values.size(), it->second.size()) << name;
    if (!values.empty()) { // memcmp must not see an empty vector's null data
      EXPECT_EQ(0, std::memcmp(values.data(), it->second.data(), values.size() * 4)) << name;
    }
  }
}

std::string sample_bytes() {
  auto bytes = serialize_checkpoint(sample_checkpoint());
  EXPECT_TRUE(bytes.ok()) << bytes.error().message;
  return *bytes;
}

/// The refusal of `bytes` read as "x.ckpt", which must be IncompatiblePlan
/// naming the file.
std::string refusal(std::string_view bytes) {
  auto c = deserialize_checkpoint(bytes, "x.ckpt");
  if (c.ok())
    return "(accepted)";
  EXPECT_EQ(c.error().code, ExitCode::IncompatiblePlan) << c.error().message;
  EXPECT_EQ(c.error().message.rfind("x.ckpt: ", 0), 0u) << c.error().message;
  return c.error().message;
}

bool has(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

TEST(Checkpoint, RoundTripIsBitwise) {
  ScratchDir dir;
  const std::string path = dir.file("a.ckpt");
  const Checkpoint c = sample_checkpoint();
  ASSERT_TRUE(write_checkpoint(c, path).ok());
  auto back = read_checkpoint(path);
  ASSERT_TRUE(back.ok()) << back.error().message;
  expect_same(c, *back);
  EXPECT_EQ(*serialize_checkpoint(*back), testing::read_bytes(path));
  EXPECT_EQ(testing::file_names(dir.path()), std::vector<std::string>{"a.ckpt"});
}

TEST(Checkpoint, EmptyCheckpointRoundTrips) {
  auto bytes = serialize_checkpoint(Checkpoint{});
  ASSERT_TRUE(bytes.ok());
  auto back = deserialize_checkpoint(*bytes, "x.ckpt");
  ASSERT_TRUE(back.ok()) << back.error().message;
  expect_same(Checkpoint{}, *back);
  EXPECT_EQ(bytes->size() % 64, 0u);
}

TEST(Checkpoint, FollowsTheDocumentedLayout) {
  const std::string bytes = sample_bytes();
  ASSERT_EQ(bytes.substr(0, 8), "ANETCKPT");
  EXPECT_EQ(load_u32(bytes, 8), 1u);
  EXPECT_EQ(load_u32(bytes, 12), 0u);
  EXPECT_EQ(load_u64(bytes, 16), bytes.size());
  auto pieces = testing::split_checkpoint(bytes);
  ASSERT_TRUE(pieces);
  EXPECT_EQ(pieces->reserved, std::string(24, '\0'));
  // Resealing by the document's rules reproduces the file byte for byte,
  // so the document's CRC and length rules are the writer's.
  EXPECT_EQ(testing::join_checkpoint(*pieces), bytes);
  const nlohmann::json header = nlohmann::json::parse(pieces->json);
  EXPECT_EQ(header["step"], 1234);
  EXPECT_EQ(header["epoch"], 3);
  EXPECT_EQ(header["batch"], 17);
  EXPECT_EQ(header["plan_fingerprint"], "sha256:0123abcd");
  EXPECT_EQ(header["state"]["seed"], 42);
  ASSERT_EQ(header["tensors"].size(), 4u);
  const Checkpoint sample = sample_checkpoint();
  const size_t data_at = bytes.size() - pieces->data.size();
  EXPECT_EQ(data_at % 64, 0u);
  for (const auto &t : header["tensors"]) {
    const uint64_t offset = t["offset"], count = t["count"];
    EXPECT_EQ(offset % 64, 0u) << t;
    const std::vector<float> &want = sample.weights.at(t["name"]);
    ASSERT_EQ(count, want.size());
    if (count > 0) { // memcmp must not see an empty vector's null data
      EXPECT_EQ(0, std::memcmp(pieces->data.data() + offset, want.data(), count * 4)) << t;
    }
  }
}

TEST(Checkpoint, TruncatedAtEveryOffsetIsRefused) {
  const std::string bytes = sample_bytes();
  EXPECT_EQ(refusal(""), "x.ckpt: empty file, not an anet checkpoint");
  for (size_t cut = 1; cut < bytes.size(); ++cut)
    EXPECT_TRUE(has(refusal(std::string_view(bytes).substr(0, cut)), ": truncated: ")) << cut;
  EXPECT_EQ(refusal(std::string_view(bytes).substr(0, 40)),
            "x.ckpt: truncated: expected at least 64 bytes, file has 40");
  EXPECT_EQ(refusal(std::string_view(bytes).substr(0, bytes.size() - 1)),
            "x.ckpt: truncated: expected " + std::to_string(bytes.size()) + " bytes, file has " +
                std::to_string(bytes.size() - 1));
}

TEST(Checkpoint, EveryFlippedByteIsRefused) {
  const std::string bytes = sample_bytes();
  for (size_t at = 0; at < bytes.size(); ++at) {
    for (unsigned char mask : {0x01, 0x80}) {
      std::string damaged = bytes;
      damaged[at] = static_cast<char>(damaged[at] ^ mask);
      const std::string why = refusal(damaged);
      const char *expected = at < 8    ? "bad magic"
                             : at < 12 ? "checkpoint format version"
                                       : ": corrupt: ";
      EXPECT_TRUE(has(why, expected)) << at << ": " << why;
    }
  }
}

TEST(Checkpoint, DamageIsReportedWhereItIs) {
  const std::string bytes = sample_bytes();
  const size_t data_at = bytes.size() - testing::split_checkpoint(bytes)->data.size();
  std::string header_hit = bytes, data_hit = bytes;
  header_hit[70] ^= 0x04;
  data_hit[data_at + 5] ^= 0x04;
  EXPECT_EQ(refusal(header_hit), "x.ckpt: corrupt: header checksum mismatch");
  EXPECT_EQ(refusal(data_hit), "x.ckpt: corrupt: data checksum mismatch");
  EXPECT_EQ(refusal(bytes + "x"), "x.ckpt: corrupt: file has " + std::to_string(bytes.size() + 1) +
                                      " bytes but its header says " + std::to_string(bytes.size()));
}

TEST(Checkpoint, ForeignFilesAreRefused) {
  EXPECT_EQ(refusal("ANETPLAN and more bytes"), "x.ckpt: not an anet checkpoint (bad magic)");
  EXPECT_EQ(refusal("\x89PNG\r\n\x1a\n"), "x.ckpt: not an anet checkpoint (bad magic)");
  EXPECT_EQ(refusal("ANET"), "x.ckpt: truncated: expected at least 64 bytes, file has 4");
  EXPECT_EQ(refusal("ANETx"), "x.ckpt: not an anet checkpoint (bad magic)");
}

TEST(Checkpoint, OtherFormatVersionsAreRefused) {
  auto pieces = *testing::split_checkpoint(sample_bytes());
  pieces.version = 2;
  const std::string newer = testing::join_checkpoint(pieces);
  EXPECT_EQ(refusal(newer), "x.ckpt: checkpoint format version 2 is newer than this anet "
                            "supports (1)");
  // Even a file cut right after the version says so.
  EXPECT_EQ(refusal(std::string_view(newer).substr(0, 12)),
            "x.ckpt: checkpoint format version 2 is newer than this anet supports (1)");
  pieces.version = 0;
  EXPECT_TRUE(has(refusal(testing::join_checkpoint(pieces)), "version 0 is older"));
}

TEST(Checkpoint, HeaderFieldsFromTheFutureAreRefused) {
  auto pieces = *testing::split_checkpoint(sample_bytes());
  pieces.flags = 4;
  EXPECT_EQ(refusal(testing::join_checkpoint(pieces)),
            "x.ckpt: header flags 0x00000004 are unknown to this anet (written by a newer "
            "anet?)");
  pieces.flags = 0;
  pieces.reserved[3] = 1;
  EXPECT_EQ(refusal(testing::join_checkpoint(pieces)),
            "x.ckpt: corrupt: reserved header byte 35 is not zero");
}

TEST(Checkpoint, LengthsThatDisagreeAreRefused) {
  std::string bytes = sample_bytes();
  // A JSON length past the end, in a file whose length field is right:
  // corrupt, not truncated.
  std::string long_json = bytes;
  long_json[24 + 5] = 1;
  EXPECT_TRUE(has(refusal(long_json), "corrupt: the JSON header's")) << refusal(long_json);
  // A file length inside the header, with valid checksums.
  auto pieces = *testing::split_checkpoint(bytes);
  std::string sealed = testing::join_checkpoint(pieces);
  for (int i = 0; i < 8; ++i)
    sealed[16 + static_cast<size_t>(i)] = i == 0 ? 64 : 0;
  const std::string_view view(sealed);
  uint32_t crc =
      crc32(view.substr(64, sealed.size() - pieces.data.size() - 64), crc32(view.substr(0, 56)));
  for (int i = 0; i < 4; ++i)
    sealed[56 + static_cast<size_t>(i)] = static_cast<char>(crc >> (8 * i));
  EXPECT_TRUE(has(refusal(sealed), "corrupt: the file length 64 ends inside the"))
      << refusal(sealed);
}

/// A checkpoint whose JSON header is `json` and data `data`, sealed with
/// valid lengths and checksums.
std::string forged(const std::string &json, const std::string &data = "") {
  testing::CheckpointPieces pieces;
  pieces.json = json;
  pieces.data = data;
  return testing::join_checkpoint(pieces);
}

std::string header_with(const std::string &tensors, const std::string &step = "1") {
  return R"({"step":)" + step + R"(,"epoch":0,"batch":0,"plan_fingerprint":"f","state":null,)" +
         R"("tensors":)" + tensors + "}";
}

TEST(Checkpoint, ForgedHeadersAreRefused) {
  const std::string data64(64, '\0');
  const std::pair<std::string, std::string> cases[] = {
      {forged("{not json"), "corrupt: the JSON header does not parse"},
      {forged("[1,2]"), "corrupt: the JSON header is not an object"},
      {forged(std::string(100, '[') + std::string(100, ']')),
       "corrupt: the JSON header nests deeper than 64 levels"},
      {forged(R"({"epoch":0})"), "corrupt: the JSON header has no 'step'"},
      {forged(header_with("[]", "-1")), "'step' in the JSON header is not a non-negative integer"},
      {forged(header_with("[]", "1.5")), "'step' in the JSON header is not a non-negative integer"},
      {forged(header_with("[]", "18446744073709551615")),
       "'step' in the JSON header is 18446744073709551615, out of range"},
      {forged(R"({"step":1,"epoch":0,"batch":0,"plan_fingerprint":7,"state":0,"tensors":[]})"),
       "'plan_fingerprint' in the JSON header is not a string"},
      {forged(R"({"step":1,"epoch":0,"batch":0,"plan_fingerprint":"f","tensors":[]})"),
       "the JSON header has no 'state'"},
      {forged(header_with("{}")), "'tensors' in the JSON header is not an array"},
      {forged(header_with("[3]")), "tensor 0 in the JSON header is not an object"},
      {forged(header_with(R"([{"name":"","count":0,"offset":0}])")), "tensor 0 has an empty name"},
      {forged(header_with(R"([{"name":"w","count":1}])")), "the JSON header has no 'offset'"},
      {forged(header_with(R"([{"name":"w","count":1,"offset":4}])"), data64),
       "data of tensor 'w' (1 values at offset 4) is misaligned, overlaps, or runs past the "
       "data's 64 bytes"},
      {forged(header_with(R"([{"name":"w","count":17,"offset":0}])"), data64),
       "data of tensor 'w' (17 values at offset 0)"},
      {forged(header_with(R"([{"name":"w","count":4611686018427387904,"offset":0}])"), data64),
       "(4611686018427387904 values at offset 0)"},
      {forged(header_with(R"([{"name":"w","count":1,"offset":128}])"), data64),
       "(1 values at offset 128)"},
      {forged(header_with(R"([{"name":"a","count":16,"offset":0},)"
                          R"({"name":"b","count":1,"offset":0}])"),
              data64 + data64),
       "data of tensor 'b' (1 values at offset 0) is misaligned, overlaps"},
      {forged(header_with(R"([{"name":"a","count":1,"offset":0},)"
                          R"({"name":"a","count":1,"offset":64}])"),
              data64 + data64),
       "tensor 'a' appears twice"},
      {forged(header_with(R"([{"name":"a","count":1,"offset":0}])"), data64 + data64),
       "the data has 128 bytes but its tensors end at 4"},
      {forged(header_with("[]"), data64), "the data has 64 bytes but its tensors end at 0"},
  };
  for (const auto &[bytes, why] : cases)
    EXPECT_TRUE(has(refusal(bytes), why)) << refusal(bytes) << "\nwanted: " << why;
  // Unknown keys are ignored: additions that need no new version.
  auto ok = deserialize_checkpoint(
      forged(R"({"future":1,"step":2,"epoch":0,"batch":0,"plan_fingerprint":"f","state":null,)"
             R"("tensors":[{"name":"w","count":1,"offset":0,"dtype":"f32"}]})",
             data64),
      "x.ckpt");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->step, 2);
  EXPECT_EQ(ok->weights.at("w"), std::vector<float>{0.0f});
}

TEST(Checkpoint, UnwritableContentIsRefusedBeforeWriting) {
  ScratchDir dir;
  const std::string path = dir.file("a.ckpt");
  Checkpoint c = sample_checkpoint();
  c.weights[""] = {1.0f};
  auto empty_name = write_checkpoint(c, path);
  ASSERT_FALSE(empty_name.ok());
  EXPECT_EQ(empty_name.error().code, ExitCode::Runtime);
  EXPECT_EQ(empty_name.error().message,
            "'" + path + "': cannot serialise the checkpoint: a weight has an empty name");

  c = sample_checkpoint();
  c.plan_fingerprint = "\xff\xfe";
  auto not_utf8 = write_checkpoint(c, path);
  ASSERT_FALSE(not_utf8.ok());
  EXPECT_EQ(not_utf8.error().code, ExitCode::Runtime);
  EXPECT_TRUE(has(not_utf8.error().message, "UTF-8")) << not_utf8.error().message;

  c = sample_checkpoint();
  nlohmann::json deep = 1;
  for (int i = 0; i < 70; ++i)
    deep = nlohmann::json::array({deep});
  c.state = deep;
  auto too_deep = write_checkpoint(c, path);
  ASSERT_FALSE(too_deep.ok());
  EXPECT_TRUE(has(too_deep.error().message, "nests deeper than the format allows (64 levels)"));
  EXPECT_TRUE(testing::file_names(dir.path()).empty());
}

TEST(Checkpoint, MissingOrUnreadableFileIsAnIOError) {
  ScratchDir dir;
  auto missing = read_checkpoint(dir.file("nope.ckpt"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ExitCode::IO);
  EXPECT_EQ(missing.error().message,
            "cannot open checkpoint '" + dir.file("nope.ckpt") + "': No such file or directory");
  auto directory = read_checkpoint(dir.path());
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.error().code, ExitCode::IO);
  EXPECT_EQ(directory.error().message,
            "cannot read checkpoint '" + dir.path() + "': Is a directory");
}

TEST(Checkpoint, FingerprintOfAnotherPlanIsRefused) {
  const Checkpoint c = sample_checkpoint();
  EXPECT_TRUE(check_plan_fingerprint(c, "sha256:0123abcd", "a.ckpt").ok());
  auto other = check_plan_fingerprint(c, "sha256:ffff", "a.ckpt");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, ExitCode::IncompatiblePlan);
  EXPECT_EQ(other.error().message,
            "a.ckpt: the checkpoint belongs to another train program (plan fingerprint "
            "'sha256:0123abcd', this plan's is 'sha256:ffff')");
}

// ------------------------------------------------------------ CheckpointDir

TEST(CheckpointDir, NamesCheckpointsByStep) {
  CheckpointDir d("runs/a", 2);
  EXPECT_EQ(d.path_for(42), "runs/a/step-00000042.ckpt");
  EXPECT_EQ(d.path_for(123456789), "runs/a/step-123456789.ckpt");
  EXPECT_EQ(CheckpointDir("runs/a/", 1).path_for(0), "runs/a/step-00000000.ckpt");
}

TEST(CheckpointDir, SaveKeepsTheNewestKAndLeavesOtherFilesAlone) {
  ScratchDir dir;
  const std::string ckpt = dir.file("ckpt/nested");
  CheckpointDir d(ckpt, 3);
  for (int64_t step = 1; step <= 2; ++step)
    ASSERT_TRUE(d.save(sample_checkpoint(step)).ok());
  // Foreign files and a temporary file of an interrupted write.
  for (const char *junk : {"notes.txt", "step-00000001.ckpt.tmp.123.0", "step-1.ckpt",
                           "step-0000000x.ckpt", "step-00000001.ckpt.bak"})
    testing::write_bytes(ckpt + "/" + junk, "junk");
  for (int64_t step = 3; step <= 6; ++step) {
    auto saved = d.save(sample_checkpoint(step));
    ASSERT_TRUE(saved.ok()) << saved.error().message;
    EXPECT_EQ(*saved, d.path_for(step));
  }
  EXPECT_EQ(testing::file_names(ckpt),
            (std::vector<std::string>{"notes.txt", "step-00000001.ckpt.bak",
                                      "step-00000001.ckpt.tmp.123.0", "step-00000004.ckpt",
                                      "step-00000005.ckpt", "step-00000006.ckpt",
                                      "step-0000000x.ckpt", "step-1.ckpt"}));
  auto back = read_checkpoint(d.path_for(6));
  ASSERT_TRUE(back.ok());
  expect_same(sample_checkpoint(6), *back);
}

TEST(CheckpointDir, SavingTheSameStepAgainReplacesIt) {
  ScratchDir dir;
  CheckpointDir d(dir.path(), 1);
  ASSERT_TRUE(d.save(sample_checkpoint(5)).ok());
  Checkpoint again = sample_checkpoint(5);
  again.batch = 99;
  ASSERT_TRUE(d.save(again).ok());
  EXPECT_EQ(testing::file_names(dir.path()), std::vector<std::string>{"step-00000005.ckpt"});
  EXPECT_EQ(read_checkpoint(d.path_for(5))->batch, 99);
}

TEST(CheckpointDir, LaterStepsOfAnAbandonedRunAreNeitherCountedNorDeleted) {
  ScratchDir dir;
  CheckpointDir d(dir.path(), 1);
  // Left by a run that got to step 20 before it was resumed from step 3.
  for (int64_t step : {10, 20})
    ASSERT_TRUE(write_checkpoint(sample_checkpoint(step), d.path_for(step)).ok());
  ASSERT_TRUE(d.save(sample_checkpoint(4)).ok());
  ASSERT_TRUE(d.save(sample_checkpoint(5)).ok());
  EXPECT_EQ(
      testing::file_names(dir.path()),
      (std::vector<std::string>{"step-00000005.ckpt", "step-00000010.ckpt", "step-00000020.ckpt"}));
}

TEST(CheckpointDir, LatestIsTheHighestStepIgnoringJunk) {
  ScratchDir dir;
  CheckpointDir d(dir.file("ckpt"), 5);
  auto none = d.latest();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value()); // the directory does not exist yet
  std::filesystem::create_directories(dir.file("ckpt"));
  EXPECT_FALSE(d.latest()->has_value());
  testing::write_bytes(dir.file("ckpt/step-99999999.ckpt.tmp.7.0"), "partial");
  testing::write_bytes(dir.file("ckpt/zzz.ckpt"), "foreign");
  std::filesystem::create_directories(dir.file("ckpt/step-77777777.ckpt")); // a directory
  EXPECT_FALSE(d.latest()->has_value());
  ASSERT_TRUE(d.save(sample_checkpoint(99999999)).ok());
  ASSERT_TRUE(d.save(sample_checkpoint(7)).ok());
  EXPECT_EQ(**d.latest(), d.path_for(99999999));
  ASSERT_TRUE(d.save(sample_checkpoint(100000000)).ok()); // nine digits
  EXPECT_EQ(**d.latest(), d.path_for(100000000));
}

TEST(CheckpointDir, ADirectoryThatIsAFileIsAnIOError) {
  ScratchDir dir;
  testing::write_bytes(dir.file("plain"), "x");
  CheckpointDir d(dir.file("plain"), 2);
  auto saved = d.save(sample_checkpoint());
  ASSERT_FALSE(saved.ok());
  EXPECT_EQ(saved.error().code, ExitCode::IO);
  EXPECT_TRUE(has(saved.error().message,
                  "cannot create checkpoint directory '" + dir.file("plain") + "': "))
      << saved.error().message;
  auto latest = d.latest();
  ASSERT_FALSE(latest.ok());
  EXPECT_EQ(latest.error().code, ExitCode::IO);
  EXPECT_EQ(latest.error().message,
            "cannot read checkpoint directory '" + dir.file("plain") + "': Not a directory");
}

/// Lets a child that gave up root (testing::drop_root) work in `dir`.
void share_with_child(const ScratchDir &dir) {
  if (::geteuid() == 0) {
    ASSERT_EQ(::chown(dir.path().c_str(), testing::kUnprivilegedId, testing::kUnprivilegedId), 0);
  }
}

// Root ignores file permissions, so when the tests run as root (as in a
// container) the body runs in a child that has given root up; otherwise
// in a child as it is. Either way the permissions are real.
TEST(CheckpointDir, UnwritableDirectoryFailsAndKeepsTheOldCheckpoint) {
  ScratchDir dir;
  share_with_child(dir);
  const std::string ckpt = dir.file("ckpt");
  auto child = testing::run_in_child([&]() -> std::string {
    if (std::string why = testing::drop_root(); !why.empty())
      return why;
    CheckpointDir d(ckpt, 1);
    if (!d.save(sample_checkpoint(1)).ok())
      return "the first save failed";
    ::chmod(ckpt.c_str(), 0500);
    auto saved = d.save(sample_checkpoint(2));
    if (saved.ok())
      return "saved into a read-only directory";
    return std::to_string(static_cast<int>(saved.error().code)) + "\n" + saved.error().message;
  });
  ASSERT_TRUE(child.exited);
  EXPECT_EQ(child.output, "74\ncannot create a temporary file for checkpoint '" + ckpt +
                              "/step-00000002.ckpt': Permission denied");
  ::chmod(ckpt.c_str(), 0755);
  EXPECT_EQ(testing::file_names(ckpt), std::vector<std::string>{"step-00000001.ckpt"});
  EXPECT_TRUE(read_checkpoint(ckpt + "/step-00000001.ckpt").ok());
}

// Deleting a file another user owns from a sticky directory fails; making
// such a file needs root, so this runs only as root.
TEST(CheckpointDir, AFailedDeletionSaysTheNewCheckpointIsSaved) {
  if (::geteuid() != 0)
    GTEST_SKIP() << "needs root to leave a checkpoint the unprivileged child cannot delete";
  ScratchDir dir;
  const std::string ckpt = dir.file("ckpt");
  CheckpointDir d(ckpt, 1);
  ASSERT_TRUE(d.save(sample_checkpoint(1)).ok());
  ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
  ASSERT_EQ(::chmod(ckpt.c_str(), 01777), 0);
  auto child = testing::run_in_child([&]() -> std::string {
    if (std::string why = testing::drop_root(); !why.empty())
      return why;
    auto saved = d.save(sample_checkpoint(2));
    return saved.ok() ? "deleted root's checkpoint" : saved.error().message;
  });
  ASSERT_TRUE(child.exited);
  EXPECT_EQ(child.output, "saved checkpoint '" + d.path_for(2) +
                              "' but cannot delete the old checkpoint '" + d.path_for(1) +
                              "': Operation not permitted");
  EXPECT_TRUE(read_checkpoint(d.path_for(2)).ok());
}

// A full disk, simulated by a file size limit in a child process: saving a
// larger checkpoint fails with EFBIG. Whether it would replace the same
// step or add a later one, the old checkpoint stays intact and readable,
// nothing is deleted, no temporary file remains, and the error is IO.
TEST(CheckpointDir, FullDiskLeavesTheOldCheckpointIntact) {
  ScratchDir dir;
  CheckpointDir d(dir.file("ckpt"), 1);
  ASSERT_TRUE(d.save(sample_checkpoint(7)).ok());
  const std::string old_bytes = testing::read_bytes(d.path_for(7));
  ASSERT_LT(old_bytes.size(), 16384u);
  for (int64_t new_step : {7, 8}) {
    auto child = testing::run_in_child([&]() -> std::string {
      testing::limit_file_size(65536);
      Checkpoint big = sample_checkpoint(new_step);
      big.weights["fc6.w"] = std::vector<float>(1 << 16, 0.5f);
      auto saved = d.save(big);
      if (saved.ok())
        return "saved despite the limit";
      return std::to_string(static_cast<int>(saved.error().code)) + "\n" + saved.error().message;
    });
    ASSERT_TRUE(child.exited) << new_step;
    EXPECT_EQ(child.output,
              "74\ncannot write checkpoint '" + d.path_for(new_step) + "': File too large");
    EXPECT_EQ(testing::file_names(d.dir()), std::vector<std::string>{"step-00000007.ckpt"});
    EXPECT_EQ(testing::read_bytes(d.path_for(7)), old_bytes);
    auto back = read_checkpoint(d.path_for(7));
    ASSERT_TRUE(back.ok()) << back.error().message;
    expect_same(sample_checkpoint(7), *back);
  }
}

// ------------------------------------------------------------ resolve_resume

TEST(ResolveResume, AutoFindsTheLatestOrNothing) {
  ScratchDir dir;
  EXPECT_EQ(*resolve_resume("auto", dir.file("none")), "");
  EXPECT_EQ(*resolve_resume("auto", dir.path()), "");
  CheckpointDir d(dir.path(), 3);
  ASSERT_TRUE(d.save(sample_checkpoint(3)).ok());
  ASSERT_TRUE(d.save(sample_checkpoint(12)).ok());
  EXPECT_EQ(*resolve_resume("auto", dir.path()), d.path_for(12));
}

TEST(ResolveResume, APathMustExist) {
  ScratchDir dir;
  CheckpointDir d(dir.path(), 3);
  ASSERT_TRUE(d.save(sample_checkpoint(3)).ok());
  EXPECT_EQ(*resolve_resume(d.path_for(3), "elsewhere"), d.path_for(3));
  auto missing = resolve_resume(dir.file("gone.ckpt"), dir.path());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ExitCode::IO);
  EXPECT_EQ(missing.error().message,
            "cannot open checkpoint '" + dir.file("gone.ckpt") + "': No such file or directory");
  auto directory = resolve_resume(dir.path(), dir.path());
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.error().code, ExitCode::IO);
  EXPECT_EQ(directory.error().message,
            "cannot open checkpoint '" + dir.path() + "': Is a directory");
}

TEST(ResolveResume, ErrorsOfTheArgumentAndTheDirectory) {
  ScratchDir dir;
  auto empty = resolve_resume("", dir.path());
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, ExitCode::Usage);
  EXPECT_EQ(empty.error().message, "--resume needs 'auto' or a checkpoint file");
  testing::write_bytes(dir.file("plain"), "x");
  auto not_dir = resolve_resume("auto", dir.file("plain"));
  ASSERT_FALSE(not_dir.ok());
  EXPECT_EQ(not_dir.error().code, ExitCode::IO);
}

} // namespace
} // namespace anet
